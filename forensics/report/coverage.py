"""Sections ``run`` (what was read, how, by which tool) and ``coverage`` (what the trails cover,
where they are damaged or missing, and what the audit configuration could not record)."""

from __future__ import annotations

import polars as pl

from .cells import Table, rows_of, time_text
from .structure import SECTIONS, Context, Report, Run, Section

__all__ = ["run_section", "coverage_section", "finish_run", "size_text"]

#: audit daemon records: start, stop, recovery
_AUDITD = {45000: "audit startup", 45001: "audit shutdown", 45029: "audit recovery"}


def size_text(n: int | None) -> str:
    if n is None:
        return ""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def run_section(ctx: Context, run: Run) -> Section:
    audit = ctx.audit
    rec, src = audit.records, audit.sources
    read = src.filter(pl.col("read"))
    span = rec.select(pl.col("time").min().alias("a"), pl.col("time").max().alias("b"))
    first, last = span.select(time_text("a"), time_text("b")).row(0) if rec.height else (None, None)
    seen = int(read.get_column("records").sum() or 0)
    facts = [
        ("tool", f"knox-report {run.version}".strip()),
        ("command", run.command or "(from Python)"),
        ("selection", run.selection or "everything"),
        ("time zone", f"record times in UTC; --since/--until words read in {run.zone}"),
        ("files", f"{read.height} read, {src.height - read.height} not read; "
                  f"{int(read.get_column('bytes').sum() or 0):,} bytes decoded"),
        ("records", f"{rec.height:,} kept of {seen:,} read"),
        ("time span", f"{first} to {last}" if first else "no records"),
        ("damage", f"{audit.errors.height:,} damaged spans, "
                   f"{int(audit.errors.get_column('length').sum() or 0):,} bytes skipped"
                   + ("; every good record was kept" if audit.errors.height else "")),
        ("decoder", audit.backend),
    ]
    rows = []
    for item in run.inputs:
        rows.append((item.path, item.kind, item.size, item.sha256 or ""))
        rows.extend((f"  {f.path}", f.kind, f.size, f.sha256 or "") for f in item.files)
    tables = [Table("inputs", "Inputs", ("path", "kind", "bytes", "sha256"), rows[:3000],
                    len(rows), {"bytes": "num"})] if rows else []
    values = {"files_read": read.height, "files_unread": src.height - read.height,
              "bytes_read": int(read.get_column("bytes").sum() or 0), "records": rec.height,
              "first": first, "last": last, "damage_spans": audit.errors.height,
              "damage_bytes": int(audit.errors.get_column("length").sum() or 0),
              "backend": audit.backend, "seen": seen}
    narrow = [w for w in run.selection.split() if w.startswith("--")
              and w not in ("--since", "--until")]
    notes = ["The selection filters records, not only rows: processes, attribution and sessions "
             "are rebuilt from the selected records, so a narrow filter drops the fork, spawn and "
             "authorization records they rest on. For attribution, select by time window."
             ] if narrow else []
    return Section("run", SECTIONS["run"], "What was read, with which selection and tool.",
                   tables=tables, facts=facts, values=values, notes=notes)


def finish_run(report: Report) -> None:
    """Facts known only once the structure is built: elapsed time, when."""
    sec = report.sections["run"]
    if report.elapsed is not None:
        sec.facts.append(("elapsed", f"{report.elapsed:.2f} s to read and analyse"))
    sec.facts.append(("generated", report.generated))


def coverage_section(ctx: Context, run: Run) -> Section:
    audit = ctx.audit
    src = audit.sources
    sources = src.select(
        "path", "kind",
        pl.when(pl.col("read")).then(pl.lit("read"))
        .otherwise(pl.concat_str([pl.lit("not read: "), pl.col("skip_reason").fill_null("")])),
        time_text("first_record"), time_text("last_record"), "records", "bytes",
        "damaged_bytes", "compression")
    gaps = src.filter(pl.col("gap_before").is_not_null() & (pl.col("gap_before") != pl.duration()))
    gap_rows = gaps.select(
        "path", time_text(pl.coalesce("name_start", "first_record")),
        pl.col("gap_before").dt.total_seconds().alias("s"))
    gap_rows = [(p, t, _gap_text(s)) for p, t, s in rows_of(gap_rows)]
    errors = audit.errors.select("source", "offset", "length", "reason")
    events = ctx.event_counts.select(
        pl.coalesce("event_name", pl.col("event").cast(pl.String)), "n",
        pl.col("event_classes").list.join(","))
    tables = [
        Table("sources", "Trail files", ("file", "kind", "read", "first record", "last record",
              "records", "bytes", "damaged bytes", "compression"), rows_of(sources), src.height,
              {"records": "num", "bytes": "num", "damaged bytes": "num"}),
        Table("gaps", "Time no file covers (or files overlap)", ("file", "starts", "gap before it"),
              gap_rows, gaps.height),
        Table("errors", "Damaged spans (skipped; every good record around them was kept)",
              ("file", "offset", "length", "reason"), rows_of(errors), errors.height,
              {"offset": "num", "length": "num"}),
        Table("event-types", "Event types", ("event", "records", "classes"), rows_of(events),
              events.height, {"records": "num"}),
    ]
    notes = _file_notes(src) + _auditd_notes(ctx) + _config_notes(ctx)
    return Section("coverage", SECTIONS["coverage"],
                   "Each trail file, what it covers, its damage and gaps, and what the audit "
                   "configuration could not record: what this report cannot show.",
                   tables=tables, notes=notes)


def _gap_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    word = "overlap " if seconds < 0 else ""
    s = abs(seconds)
    if s >= 86400:
        return f"{word}{s / 86400:.1f} days"
    if s >= 3600:
        return f"{word}{s / 3600:.1f} hours"
    if s >= 60:
        return f"{word}{s / 60:.1f} minutes"
    return f"{word}{s:.3f} s"


def _file_notes(src: pl.DataFrame) -> list[str]:
    notes = []
    kinds = dict(src.group_by("kind").len().rows())
    if kinds.get("crash_recovery"):
        notes.append(f"{kinds['crash_recovery']} crash-recovery file(s): auditd did not close "
                     "them (the machine crashed or lost power); their last records may be cut.")
    if kinds.get("not_terminated"):
        notes.append(f"{kinds['not_terminated']} not-terminated file(s): still being written when "
                     "collected (or auditd was killed).")
    damaged = src.filter(pl.col("damaged_bytes") > 0).height
    if damaged:
        notes.append(f"{damaged} file(s) hold damaged spans (table below); every good record "
                     "around them was kept.")
    return notes


def _auditd_notes(ctx: Context) -> list:
    rec = ctx.audit.records
    hits = (rec.lazy().filter(pl.col("event").is_in(list(_AUDITD)))
            .select("event", time_text("time").alias("t"), "source", "offset")
            .sort("t").head(20).collect())
    if not hits.height:
        return ["No audit startup or shutdown records: the trails do not show when auditing "
                "began or stopped."]
    said = [f"{_AUDITD[e]} at {t} ({ctx.finder.label(s, o).text})" for e, t, s, o in hits.rows()]
    return [ctx.finder.refs("auditd: " + "; ".join(said) + ".")]


def _config_notes(ctx: Context) -> list[str]:
    """What the data says about the audit configuration (flags, naflags, policy)."""
    counts = ctx.event_counts
    notes = []

    def present(*classes):
        return bool(ctx.events_of_class(*classes))

    if not present("ex", "pc"):
        notes.append("No exec or process records (classes ex, pc): the trails cannot show "
                     "commands, process lifetimes or trees.")
    else:
        execs = ctx.audit.records.lazy().filter(pl.col("event").is_in([7, 23, 43131, 43144, 43190]))
        stats = execs.select(pl.len().alias("n"),
                             pl.col("exec_argv").is_not_null().sum().alias("argv"),
                             pl.col("exec_env").is_not_null().sum().alias("env")).collect().row(0)
        if stats[0] and not stats[1]:
            notes.append("Exec records carry no arguments: the argv policy was off, so commands "
                         "show only their program.")
        if stats[0] and not stats[2]:
            notes.append("Exec records carry no environment (the arge policy was off).")
    if not present("fr", "fw", "fc", "fd"):
        notes.append("No file read, write, create or delete records (classes fr, fw, fc, fd): "
                     "file access cannot be shown.")
    if not present("nt"):
        notes.append("No network records (class nt): connections cannot be shown.")
    if not present("lo", "aa"):
        notes.append("No login or authentication records (classes lo, aa): logins and "
                     "authorizations cannot be shown, and launchd helpers cannot be tied to "
                     "the person who asked for them.")
    if counts.height:
        notes.append(f"{counts.height} distinct event types are present.")
    return notes
