"""The main job's text summary: what was read, what ran, what changed, and who did it."""

from __future__ import annotations

import polars as pl

from . import environment as templates

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




def _clean(s: str, limit: int = 160) -> str:
    """One line of attacker-controlled text for a terminal: control characters made visible."""
    out = "".join(c if c.isprintable() else "\\x%02x" % ord(c) if ord(c) < 256 else "\\u%04x" % ord(c)
                  for c in s)
    return out if len(out) <= limit else out[:limit - 1] + "…"


def _person(row) -> str:
    if row["user"] is None:
        return "(nobody: daemon)"
    return f'{row["user_name"]} ({row["user"]})' if row["user_name"] else str(row["user"])


def _how(row) -> str:
    kind = row["attribution_kind"] or ""
    text = f'{kind} {row["confidence"] or ""}'.strip()
    return text + (", elevated" if row["elevated"] else "")


def render(audit, zone) -> str:
    rec = audit.records
    src = audit.sources
    read = src.filter(pl.col("read"))
    context = {
        "zone": zone,
        "backend": audit.backend,
        "files_read": read.height,
        "files_unread": src.height - read.height,
        "bytes_read": int(read["bytes"].sum() or 0),
        "files": [(r["path"], r["kind"], r["records"] if r["read"] else "-",
                   (r["damaged_bytes"] or 0) if r["read"] else "-", r["skip_reason"] or "")
                  for r in src.iter_rows(named=True)],
        "records": rec.height,
        "first": _fmt_time(rec["time"].min()) if rec.height else None,
        "last": _fmt_time(rec["time"].max()) if rec.height else None,
        "damage": [(e["source"], e["offset"], e["length"], e["reason"])
                   for e in audit.errors.head(20).iter_rows(named=True)],
        "damage_spans": audit.errors.height,
        "damage_bytes": int(audit.errors["length"].sum() or 0),
        "sections": _sections(audit) if rec.height else [],
    }
    return templates.environment().get_template("summary.txt.j2").render(context)


def _sections(audit) -> list[tuple[str, tuple, list]]:
    rec = audit.records
    users = audit.tables.users

    def who(auid):
        if auid is None or auid == _UNSET:
            return "(no audit user)"
        name = users.user_name(auid)
        return f"{name} ({auid})" if name else str(auid)

    top = (rec.group_by(pl.coalesce("event_name", pl.col("event").cast(pl.String)).alias("event"))
              .len().sort(["len", "event"], descending=[True, False]).head(15))
    people = rec.group_by("auid").len().sort(["len", "auid"], descending=[True, False])
    sections = [("Events", ("event", "records"), top.rows()),
                ("Audit users (auid)", ("user", "records"), [(who(a), n) for a, n in people.rows()])]
    events = audit.events
    execs = events.filter(pl.col("exec_argv").is_not_null()).head(40)
    if execs.height:
        sections.append((f"Commands run (first {execs.height}; person = who is behind it)",
                         ("time", "person", "how sure", "euid", "pid", "argv"),
                         [(_fmt_time(r["time"]), _person(r), _how(r), r["euid"], r["pid"],
                           _clean(" ".join(r["exec_argv"]))) for r in execs.iter_rows(named=True)]))
    sessions = audit.sessions
    if sessions.height:
        sections.append(("Logins and sessions", ("start", "how", "user", "target", "session", "ok"),
                         [(_fmt_time(r["start"]), r["how"], r["user_name"] or r["user"],
                           r["target_user_name"] or r["target_user"] or "", r.get("session_id") or "",
                           {True: "yes", False: "FAILED"}.get(r["success"], ""))
                          for r in sessions.head(30).iter_rows(named=True)]))
    inferred = (audit.processes.filter(pl.col("user_kind") == "inferred")
                .sort("start", nulls_last=True).head(20))
    if inferred.height:
        sections.append(("Inferred attributions (no audit user on the records; evidence below)",
                         ("process", "image", "person", "how sure", "evidence"),
                         [(r["proc_id"], _clean((r["images"] or ["?"])[-1], 60),
                           users.user_name(r["user"]) or r["user"], r["user_confidence"],
                           _clean(r["user_evidence"] or "", 400))
                          for r in inferred.iter_rows(named=True)]))
    seen = pl.lit(False)
    for what, test in _FILE_CHANGES:
        hits = rec.filter(test & ~seen & pl.col("success").fill_null(False)
                          & (pl.col("paths").list.len() > 0)).head(20)
        seen = seen | test
        if hits.height:
            sections.append((f"Files {what} (first {hits.height})", ("time", "user", "pid", "path"),
                             [(_fmt_time(r["time"]), who(r["auid"]), r["pid"], _clean(r["paths"][-1]))
                              for r in hits.iter_rows(named=True)]))
    return sections
