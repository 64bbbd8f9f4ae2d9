"""Section ``commands``: every exec and posix_spawn with who ran it, how sure, elevation, the
full argv (boundaries kept), the parent chain and how the process ended; then per session a
foldable process tree."""

from __future__ import annotations

import polars as pl

from . import trees
from .cells import pick, Table, basename, elevated, how_sure, person, result, rows_of, time_text
from .people import EXEC_EVENTS
from .structure import SECTIONS, Context, Run, Section

__all__ = ["section"]

_SPAWN = 43190
_CHAIN = 4           # parents named in the chain column


def section(ctx: Context, run: Run) -> Section:
    table = _commands(ctx)
    forest = trees.build(ctx)
    return Section("commands", SECTIONS["commands"],
                   "Every program started (exec, posix_spawn): when, by whom and how sure, "
                   "elevated where the effective or real uid is not the person's, the full "
                   "argument list, its parents and its end. Below, each session's process tree.",
                   tables=[table], trees=forest)


def _lives(ctx: Context) -> pl.LazyFrame:
    return ctx.audit.processes.lazy().select(
        "proc_id", "parent_proc_id", "pid",
        basename(pl.col("images").list.last()).fill_null("?").alias("img"),
        "end_evidence", "exit_status")


def _end_text(prefix: str = "") -> pl.Expr:
    ev, status = pl.col(prefix + "end_evidence"), pl.col(prefix + "exit_status")
    return (pl.when(ev == "exit").then(pl.format("exit {}", status.cast(pl.String).fill_null("?")))
            .otherwise(ev.fill_null("")))


def _commands(ctx: Context) -> Table:
    ev = ctx.events.lazy().filter(
        pl.col("event").is_in(EXEC_EVENTS)
        & (pl.col("exec_argv").is_not_null() | (pl.col("paths").list.len() > 0)))
    total = ev.select(pl.len()).collect().item()
    paths = pl.col("paths")
    program = pl.coalesce(paths.list.get(1, null_on_oob=True), paths.list.get(0, null_on_oob=True),
                          pl.col("image"))
    child = (pl.col("args").list.eval(pl.element().filter(
        pl.element().struct.field("text").fill_null("").str.to_lowercase()
        .str.starts_with("child")).struct.field("value")).list.first().cast(pl.UInt32))
    head = ev.sort("time").head(3000).with_row_index("_order").with_columns(
        program.alias("_program"), child.alias("_child"))
    lives = _lives(ctx)
    # the life whose parents are the chain: a spawn's writer is the parent; an exec's is itself
    own = lives.select("proc_id", pl.col("parent_proc_id").alias("_up"),
                       pl.col("end_evidence").alias("own_end_evidence"),
                       pl.col("exit_status").alias("own_exit_status"))
    kids = (lives.filter(pl.col("parent_proc_id").is_not_null())
            .select(pl.col("parent_proc_id").alias("proc_id"), pl.col("pid").alias("_child"),
                    pl.col("end_evidence").alias("kid_end_evidence"),
                    pl.col("exit_status").alias("kid_exit_status"))
            .unique(["proc_id", "_child"], keep="first"))
    head = (head.join(own, on="proc_id", how="left")
            .join(kids, on=["proc_id", "_child"], how="left")
            .with_columns(pl.when((pl.col("event") == _SPAWN) & pl.col("_child").is_not_null())
                          .then(pl.col("proc_id"))
                          .otherwise(pl.col("_up")).alias("_p0")))
    names = []
    for level in range(_CHAIN):
        up = lives.select(pl.col("proc_id").alias(f"_p{level}"),
                          pl.when(pl.col("img") == "?").then(pl.format("pid {}", "pid"))
                          .otherwise(pl.format("{} ({})", "img", "pid")).alias(f"_n{level}"),
                          pl.col("parent_proc_id").alias(f"_p{level + 1}"))
        head = head.join(up, on=f"_p{level}", how="left")
        names.append(pl.col(f"_n{level}"))
    chain = pl.concat_str(names, separator=" ← ", ignore_nulls=True)
    shown = pick(head.sort("time", "_order"),
        time_text("time"), person(), how_sure(), elevated(),
        pl.format("euid {} ruid {}", "euid", "ruid"), "pid", "_program",
        pl.coalesce(pl.col("exec_argv"), pl.concat_list(basename("_program"))),
        chain, pl.when((pl.col("event") == _SPAWN) & pl.col("_child").is_not_null())
        .then(_end_text("kid_"))
        .otherwise(_end_text("own_")),
        result(ctx.errno), "source", "offset")
    rows = [(*r[:-2], ctx.finder.label(r[-2], r[-1])) for r in rows_of(shown)]
    cols = ("time", "person", "how sure", "elevated", "ids", "pid", "program", "argv",
            "parents", "ended", "result", "record")
    return Table("commands", "Commands", cols, rows, total,
                 {"pid": "num", "argv": "argv", "record": "ref"})
