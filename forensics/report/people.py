"""Section ``people``: every person behind the work, their logins (with failures and the reason
their records give) and the kernel sessions they worked in."""

from __future__ import annotations

import polars as pl

from ..schema import UNSET
from .cells import DATA_CAP, Table, person, pick, rows_of, terminal, time_text
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
        "terminal_host", "terminal_port",
        pl.col("session_id"), time_text("end"),
        pl.coalesce(pl.col("text"), pl.col("command").list.join(" "), pl.lit("")),
        "evidence")
    rows = [(*r[:5], terminal(r[5], r[6]), *r[7:-1], ctx.finder.refs(r[-1]))
            for r in rows_of(shown)]
    cols = ("time", "how", "person", "as", "result", "from", "session", "end", "says",
            "evidence")
    return Table("logins", "Logins, su, sudo and authentications", cols, rows, total,
                 {"session": "num", "evidence": "refs"})


def _sessions(ctx: Context) -> Table:
    """Kernel audit sessions (asid), each under its direct owner: the audit user id on its own
    records (``no person`` when unset, as in launchd's session); work attributed to someone
    by inference inside it is listed as such, never as the session's owner."""
    from ..model.vocab import is_user_event

    ev = ctx.events.lazy().filter(pl.col("asid").is_not_null() & ~is_user_event(pl.col("event")))
    is_file = pl.col("event").is_in(_file_events(ctx)) & pl.col("success").fill_null(False)
    auid = pl.col("auid")
    per = ev.group_by("asid").agg(
        auid.filter(auid.is_not_null() & (auid != UNSET)).mode().min().alias("user"),
        pl.col("time").min().alias("first"), pl.col("time").max().alias("last"),
        pl.len().alias("records"), pl.col("event").is_in(EXEC_EVENTS).sum().alias("commands"),
        is_file.sum().alias("files"), pl.col("elevated").fill_null(False).sum().alias("elevated"),
        pl.col("proc_id").n_unique().alias("processes"))
    opened = (ctx.audit.sessions.lazy().filter(pl.col("session_id").is_not_null())
              .group_by("session_id").agg(pl.col("how").first(), pl.col("terminal_host").first(),
                                          pl.col("terminal_port").first()))
    frame = (per.join(opened, left_on="asid", right_on="session_id", how="left")
             .sort(pl.col("user").is_null(), "first", nulls_last=True))
    total = per.select(pl.len()).collect().item()
    head = frame.head(DATA_CAP).collect()
    names = ctx.user_names(head.get_column("user").to_list())
    head = head.with_columns(pl.col("user").replace_strict(
        names, default=None, return_dtype=pl.String).alias("user_name"))
    inferred = _inferred_work(ctx, ev, head.get_column("asid"))
    rows = []
    for asid, who, how, host, port, *rest in pick(
            head, "asid", person(), "how", "terminal_host", "terminal_port", time_text("first"),
            time_text("last"), "records", "processes", "commands", "files", "elevated").rows():
        place = terminal(host, port)
        opened_by = (f"{how}, {place}" if place.startswith("local") else
                     f"{how} from {place}") if how and place else how or ""
        rows.append((asid, who, inferred.get(asid, ""), opened_by, *rest))
    cols = ("session", "person", "inferred work", "opened by", "first", "last", "records",
            "processes", "commands", "file changes", "elevated")
    return Table("sessions", "Sessions (kernel audit session ids)", cols, rows, total,
                 {c: "num" for c in ("session", "records", "processes", "commands",
                                     "file changes", "elevated")})


def _inferred_work(ctx: Context, ev: pl.LazyFrame, asids: pl.Series) -> dict[int, str]:
    """Per session, the people its records are attributed to by inference:
    ``alice (501): 16 records (inferred)``."""
    per = (ev.filter(pl.col("asid").is_in(asids.to_list()) & pl.col("user").is_not_null()
                     & (pl.col("attribution_kind") == "inferred"))
           .group_by("asid", "user").agg(pl.len().alias("n"))
           .sort("asid", "n", "user", descending=[False, True, False]).collect())
    names = ctx.user_names(per.get_column("user").unique().to_list())
    out: dict[int, list[str]] = {}
    for asid, user, n in per.rows():
        who = f"{names[user]} ({user})" if user in names else f"uid {user}"
        out.setdefault(asid, []).append(f"{who}: {n:,} record{'s' * (n != 1)} (inferred)")
    return {asid: "; ".join(parts) for asid, parts in out.items()}
