"""The main job's text summary: what was read, what ran, what changed, and who did it."""

from __future__ import annotations

import polars as pl

__all__ = ["render"]

_UNSET = 4294967295
#: What a record did to a file, from its event name and the event table's classes.
_FILE_CHANGES = [
    ("renamed", pl.col("event_name").is_in(["AUE_RENAME", "AUE_RENAMEAT", "AUE_RENAMEX_NP"])),
    ("deleted", pl.col("event_name").is_in(["AUE_UNLINK", "AUE_UNLINKAT", "AUE_RMDIR"])),
    ("created or written", pl.col("event_classes").list.contains("fc")
     | pl.col("event_classes").list.contains("fw")),
]


def _fmt_time(t) -> str:
    return "-" if t is None else t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _table(rows: list[tuple], headers: tuple[str, ...]) -> list[str]:
    cells = [headers] + [tuple("" if c is None else str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]


def _clean(s: str, limit: int = 160) -> str:
    """One line of attacker-controlled text for a terminal: control characters made visible."""
    out = "".join(c if c.isprintable() else "\\x%02x" % ord(c) if ord(c) < 256 else "\\u%04x" % ord(c)
                  for c in s)
    return out if len(out) <= limit else out[:limit - 1] + "…"


def render(audit, zone) -> str:
    rec = audit.records
    src = audit.sources
    lines = [f"knox-report summary (record times in UTC; --since/--until words read in {zone})", ""]
    read = src.filter(pl.col("read"))
    lines.append(f"Files: {read.height} read, {src.height - read.height} not read; "
                 f"{int(read['bytes'].sum() or 0):,} bytes; backend {audit.backend}")
    lines += _table([(r["path"], r["kind"], r["records"] if r["read"] else "-",
                      r["damaged_bytes"] or 0 if r["read"] else "-",
                      r["skip_reason"] or "") for r in src.iter_rows(named=True)],
                    ("file", "kind", "records", "damaged bytes", "not read because"))
    lines.append("")
    if rec.height:
        lines.append(f"Records selected: {rec.height:,}, from {_fmt_time(rec['time'].min())} "
                     f"to {_fmt_time(rec['time'].max())}")
    else:
        lines.append("Records selected: 0")
    if audit.errors.height:
        lines.append(f"Damaged spans skipped: {audit.errors.height} "
                     f"({int(audit.errors['length'].sum()):,} bytes); every good record was kept")
        lines += _table([(e["source"], e["offset"], e["length"], e["reason"])
                         for e in audit.errors.head(20).iter_rows(named=True)],
                        ("file", "offset", "length", "reason"))
    if not rec.height:
        return "\n".join(lines) + "\n"
    users = audit.tables.users

    def who(auid):
        if auid is None or auid == _UNSET:
            return "(no audit user)"
        name = users.user_name(auid)
        return f"{name} ({auid})" if name else str(auid)

    lines += ["", "Events:"]
    top = (rec.group_by(pl.coalesce("event_name", pl.col("event").cast(pl.String)).alias("event"))
              .len().sort(["len", "event"], descending=[True, False]).head(15))
    lines += _table(top.rows(), ("event", "records"))
    lines += ["", "Audit users (auid):"]
    people = rec.group_by("auid").len().sort(["len", "auid"], descending=[True, False])
    lines += _table([(who(a), n) for a, n in people.rows()], ("user", "records"))

    execs = rec.filter(pl.col("exec_argv").is_not_null()).head(40)
    if execs.height:
        lines += ["", f"Commands run (first {execs.height}):"]
        lines += _table([(_fmt_time(r["time"]), who(r["auid"]), r["euid"], r["pid"],
                          _clean(" ".join(r["exec_argv"])))
                         for r in execs.iter_rows(named=True)],
                        ("time", "user", "euid", "pid", "argv"))
    seen = pl.lit(False)
    for what, test in _FILE_CHANGES:
        hits = rec.filter(test & ~seen & pl.col("success").fill_null(False)
                          & (pl.col("paths").list.len() > 0)).head(20)
        seen = seen | test
        if hits.height:
            lines += ["", f"Files ({what}, first {hits.height}):"]
            lines += _table([(_fmt_time(r["time"]), who(r["auid"]), r["pid"],
                              _clean(r["paths"][-1])) for r in hits.iter_rows(named=True)],
                            ("time", "user", "pid", "path"))
    return "\n".join(lines) + "\n"
