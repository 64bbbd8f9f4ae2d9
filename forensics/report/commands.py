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
        "proc_id", "parent_proc_id", "pid", "start",
        basename(pl.col("images").list.last()).alias("img"), "signing_id",
        "end_evidence", "exit_status")


def _end_text(prefix: str = "") -> pl.Expr:
    ev, status = pl.col(prefix + "end_evidence"), pl.col(prefix + "exit_status")
    return (pl.when(ev == "exit").then(pl.format("exit {}", status.cast(pl.String).fill_null("?")))
            .otherwise(ev.fill_null("")))


def _life_name() -> pl.Expr:
    """A life in a parent chain: ``login (7001)``; without an exec in the trail, its signing
    id: ``com.apple.Terminal (700, signing id)``; else ``pid 700``."""
    img, sig = pl.col("img").replace("", None), pl.col("signing_id").replace("", None)
    return (pl.when(img.is_not_null()).then(pl.format("{} ({})", img, "pid"))
            .when(sig.is_not_null()).then(pl.format("{} ({}, signing id)", sig, "pid"))
            .otherwise(pl.format("pid {}", "pid")))


def _spawned(head: pl.LazyFrame, lives: pl.LazyFrame) -> pl.LazyFrame:
    """A posix_spawn's row is the child's: its pid (the record's ``child PID`` argument), its
    life (the spawner's child with that pid, started nearest the record) and how it ended.
    ``_kid`` is true on those rows; other rows keep their own pid and life."""
    child = (pl.col("args").list.eval(pl.element().filter(
        pl.element().struct.field("text").fill_null("").str.to_lowercase()
        .str.starts_with("child")).struct.field("value")).list.first().cast(pl.UInt32))
    head = head.with_columns(child.alias("_child"))
    kids = (lives.filter(pl.col("parent_proc_id").is_not_null())
            .select(pl.col("parent_proc_id").alias("proc_id"), pl.col("pid").alias("_child"),
                    pl.col("start").alias("_kid_start"),
                    pl.col("end_evidence").alias("kid_end_evidence"),
                    pl.col("exit_status").alias("kid_exit_status")))
    spawns = (head.filter((pl.col("event") == _SPAWN) & pl.col("_child").is_not_null())
              .select("_order", "proc_id", "_child", "time")
              .join(kids, on=["proc_id", "_child"], how="inner")
              .with_columns((pl.col("_kid_start") - pl.col("time")).abs().alias("_gap"))
              .sort("_order", pl.col("_gap"), nulls_last=True)
              .unique("_order", keep="first", maintain_order=True)
              .select("_order", "kid_end_evidence", "kid_exit_status"))
    own = lives.select("proc_id", pl.col("parent_proc_id").alias("_up"),
                       pl.col("end_evidence").alias("own_end_evidence"),
                       pl.col("exit_status").alias("own_exit_status"))
    kid = (pl.col("event") == _SPAWN) & pl.col("_child").is_not_null()
    return (head.join(own, on="proc_id", how="left").join(spawns, on="_order", how="left")
            .with_columns(kid.alias("_kid"),
                          # the chain starts at the spawner for a spawn, at the parent otherwise
                          pl.when(kid).then(pl.col("proc_id")).otherwise(pl.col("_up"))
                          .alias("_p0"),
                          pl.when(kid).then(pl.col("_child")).otherwise(pl.col("pid"))
                          .alias("_pid")))


def _commands(ctx: Context) -> Table:
    ev = ctx.events.lazy().filter(
        pl.col("event").is_in(EXEC_EVENTS)
        & (pl.col("exec_argv").is_not_null() | (pl.col("paths").list.len() > 0)))
    total = ev.select(pl.len()).collect().item()
    paths = pl.col("paths")
    program = pl.coalesce(paths.list.get(1, null_on_oob=True), paths.list.get(0, null_on_oob=True),
                          pl.col("image"))
    head = ev.sort("time").head(3000).with_row_index("_order").with_columns(
        program.alias("_program"))
    lives = _lives(ctx)
    head = _spawned(head, lives)
    names = []
    for level in range(_CHAIN):
        up = lives.select(pl.col("proc_id").alias(f"_p{level}"), _life_name().alias(f"_n{level}"),
                          pl.col("parent_proc_id").alias(f"_p{level + 1}"))
        head = head.join(up, on=f"_p{level}", how="left")
        names.append(pl.col(f"_n{level}"))
    chain = pl.concat_str(names, separator=" ← ", ignore_nulls=True)
    shown = pick(head.sort("time", "_order"),
        time_text("time"), person(), how_sure(), elevated(),
        pl.format("euid {} ruid {}", "euid", "ruid"), "_pid", "_program",
        pl.coalesce(pl.col("exec_argv"), pl.concat_list(basename("_program"))),
        chain, pl.when(pl.col("_kid")).then(_end_text("kid_")).otherwise(_end_text("own_")),
        result(ctx.errno), "source", "offset")
    rows = [(*r[:-2], ctx.finder.label(r[-2], r[-1])) for r in rows_of(shown)]
    cols = ("time", "person", "how sure", "elevated", "ids", "pid", "program", "argv",
            "parents", "ended", "result", "record")
    return Table("commands", "Commands", cols, rows, total,
                 {"pid": "num", "ids": "ids", "argv": "argv", "parents": "chain",
                  "record": "ref"})
