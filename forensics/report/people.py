"""Section ``people``: every person behind the work, their logins (with failures and the reason
their records give) and the kernel sessions they worked in."""

from __future__ import annotations

import polars as pl

from .cells import pick, Table, person, rows_of, time_text
from .structure import SECTIONS, Context, Run, Section

__all__ = ["section", "EXEC_EVENTS"]

#: execve, exec, mac_execve, fexecve, posix_spawn
EXEC_EVENTS = [7, 23, 43131, 43144, 43190]
#: rows of ``sessions`` that are not logins
_NOT_LOGINS = ["audit session", "observed"]


def section(ctx: Context, run: Run) -> Section:
    tables = [_people(ctx), _logins(ctx), _sessions(ctx)]
    people = sum(1 for row in tables[0].rows if not row[0].startswith("no person"))
    return Section("people", SECTIONS["people"],
                   "Who was behind the work (from attribution, with names from the evidence's "
                   "own user tables), how they logged in, and the sessions they worked in.",
                   tables=tables, values={"people": people})


def _file_events(ctx: Context) -> list[int]:
    return ctx.events_of_class("fc", "fd", "fw", "fm")


def _people(ctx: Context) -> Table:
    ev = ctx.events.lazy()
    is_exec = pl.col("event").is_in(EXEC_EVENTS)
    is_file = pl.col("event").is_in(_file_events(ctx)) & pl.col("success").fill_null(False)
    nobody = pl.col("user").cast(pl.Int64).fill_null(-1).alias("user")   # nulls join too
    per = (ev.group_by(nobody).agg(
        pl.col("user_name").drop_nulls().first(),
        pl.len().alias("records"),
        (pl.col("attribution_kind") == "direct").sum().alias("direct"),
        (pl.col("attribution_kind") == "inferred").sum().alias("inferred"),
        pl.col("elevated").fill_null(False).sum().alias("elevated"),
        is_exec.sum().alias("commands"),
        is_file.sum().alias("files"),
        pl.col("time").min().alias("first"), pl.col("time").max().alias("last")))
    logins = (ctx.audit.sessions.lazy().filter(~pl.col("how").is_in(_NOT_LOGINS))
              .group_by(nobody).agg(pl.col("success").fill_null(True).sum().alias("logins"),
                                    pl.col("success").not_().fill_null(False).sum()
                                    .alias("failed")))
    frame = (per.join(logins, on="user", how="full", coalesce=True)
             .with_columns(pl.col("records", "direct", "inferred", "elevated", "commands",
                                  "files", "logins", "failed").fill_null(0))
             .with_columns(pl.when(pl.col("user") >= 0).then(pl.col("user")).cast(pl.UInt32))
             .sort(pl.col("user").is_null(), "records", descending=[False, True]).collect())
    names = ctx.user_names(frame.get_column("user").to_list())
    frame = frame.with_columns(pl.coalesce("user_name", pl.col("user").replace_strict(
        names, default=None, return_dtype=pl.String)).alias("user_name"))
    shown = pick(frame,
        person(nobody="no person (daemons, the system)"), "records", "direct", "inferred",
        "elevated", "commands", "files", "logins", "failed", time_text("first"),
        time_text("last"))
    cols = ("person", "records", "direct", "inferred", "elevated", "commands", "file changes",
            "logins", "failed logins", "first", "last")
    return Table("people", "People", cols, rows_of(shown), frame.height,
                 {c: "num" for c in cols[1:9]})


def _logins(ctx: Context) -> Table:
    s = ctx.audit.sessions.lazy().filter(~pl.col("how").is_in(_NOT_LOGINS))
    total = s.select(pl.len()).collect().item()
    shown = pick(s.sort("start", nulls_last=True),
        time_text("start"), "how", person(),
        pl.coalesce(person("target_user", "target_user_name", nobody=""), pl.lit("")),
        pl.when(pl.col("success")).then(pl.lit("ok"))
        .when(pl.col("success").not_()).then(pl.lit("FAILED")).otherwise(pl.lit("")),
        pl.concat_str([pl.col("terminal_host"), pl.col("terminal_port").cast(pl.String)],
                      separator=":").fill_null(""),
        pl.col("session_id"), time_text("end"),
        pl.coalesce(pl.col("text"), pl.col("command").list.join(" "), pl.lit("")),
        "evidence")
    rows = [(*r[:-1], ctx.finder.refs(r[-1])) for r in rows_of(shown)]
    cols = ("time", "how", "person", "as", "result", "from", "session", "end", "says",
            "evidence")
    return Table("logins", "Logins, su, sudo and authentications", cols, rows, total,
                 {"session": "num", "evidence": "refs"})


def _sessions(ctx: Context) -> Table:
    """Kernel audit sessions (asid) with the people behind their records."""
    from ..model.vocab import is_user_event

    ev = ctx.events.lazy().filter(pl.col("asid").is_not_null() & ~is_user_event(pl.col("event")))
    is_file = pl.col("event").is_in(_file_events(ctx)) & pl.col("success").fill_null(False)
    per = ev.group_by("asid").agg(
        pl.col("user").drop_nulls().mode().first().alias("user"),
        pl.col("user_name").drop_nulls().first(),
        pl.col("time").min().alias("first"), pl.col("time").max().alias("last"),
        pl.len().alias("records"), pl.col("event").is_in(EXEC_EVENTS).sum().alias("commands"),
        is_file.sum().alias("files"), pl.col("elevated").fill_null(False).sum().alias("elevated"),
        pl.col("proc_id").n_unique().alias("processes"))
    opened = (ctx.audit.sessions.lazy().filter(pl.col("session_id").is_not_null())
              .group_by("session_id").agg(
                  pl.concat_str([pl.col("how"), pl.col("terminal_host")], separator=" from ",
                                ignore_nulls=True).first().alias("opened")))
    frame = (per.join(opened, left_on="asid", right_on="session_id", how="left")
             .sort(pl.col("user").is_null(), "first", nulls_last=True))
    total = per.select(pl.len()).collect().item()
    shown = pick(frame, "asid", person(), pl.col("opened").fill_null(""), time_text("first"),
                         time_text("last"), "records", "processes", "commands", "files",
                         "elevated")
    cols = ("session", "person", "opened by", "first", "last", "records", "processes",
            "commands", "file changes", "elevated")
    return Table("sessions", "Sessions (kernel audit session ids)", cols, rows_of(shown), total,
                 {c: "num" for c in ("session", "records", "processes", "commands",
                                     "file changes", "elevated")})

