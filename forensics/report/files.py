"""Section ``files``: reads, writes, creates, renames (source → destination), deletes, chmod and
chown, failures included, each with who, how sure, elevation and the program; then the same by
path and person."""

from __future__ import annotations

import polars as pl

from .cells import (DATA_CAP, Table, elevated, how_sure, person, pick, program, result, rows_of,
                    time_text)
from .structure import SECTIONS, Context, Run, Section

__all__ = ["section", "actions"]

_NAMED = {
    "rename": ("AUE_RENAME", "AUE_RENAMEAT", "AUE_RENAMEX_NP", "AUE_RENAMEATX_NP"),
    "delete": ("AUE_UNLINK", "AUE_UNLINKAT", "AUE_RMDIR"),
    "chmod": ("AUE_CHMOD", "AUE_FCHMOD", "AUE_LCHMOD", "AUE_FCHMODAT", "AUE_CHMOD_EXTENDED",
              "AUE_FCHMOD_EXTENDED"),
    "chown": ("AUE_CHOWN", "AUE_FCHOWN", "AUE_LCHOWN", "AUE_FCHOWNAT"),
    "truncate": ("AUE_TRUNCATE", "AUE_FTRUNCATE"),
}
#: by class, after the named events: what an open or other call did
_BY_CLASS = (("create", "fc"), ("write", "fw"), ("read", "fr"))


def actions(ctx: Context) -> dict[int, str]:
    """Event number -> file action, for the events present."""
    out = {}
    for event, name, classes in ctx.event_counts.select(
            "event", "event_name", "event_classes").rows():
        what = next((a for a, names in _NAMED.items() if name in names), None)
        if what is None:
            what = next((a for a, cls in _BY_CLASS if cls in (classes or [])), None)
        if what is not None:
            out[event] = what
    return out


def _file_events(ctx: Context) -> pl.LazyFrame:
    """One narrow row per file event (its row in ``ctx.events``, time, action, path, person,
    result, and whether it names a program), collected once for the three tables; the other
    columns are gathered for the rows shown only."""
    acts = actions(ctx)
    paths = pl.col("paths")
    n = paths.list.len()
    action = pl.col("event").replace_strict(acts, default=None, return_dtype=pl.String)
    source = pl.when(n >= 3).then(paths.list.get(1, null_on_oob=True)).otherwise(
        paths.list.first())
    path = (pl.when(action == "rename")
            .then(pl.concat_str([source, paths.list.last()], separator=" → "))
            .otherwise(paths.list.last()))
    return (ctx.events.lazy().with_row_index("_row")
            .filter(pl.col("event").is_in(list(acts)) & (n > 0))
            .select("_row", "time", action.alias("action"), path.alias("path"), "user",
                    "success", pl.col("image").is_not_null().alias("_image"),
                    pl.col("signing_id").is_not_null().alias("_signing"))
            .collect().lazy())


def section(ctx: Context, run: Run) -> Section:
    ev = _file_events(ctx)
    files = _table(ctx, ev, "files", "File access")
    changes = _table(ctx, ev.filter(pl.col("action") != "read"), "changes",
                     "Changes only (no reads)")
    return Section("files", SECTIONS["files"],
                   "What was read, written, created, renamed, deleted or had its mode or owner "
                   "changed: by whom, how sure, elevated or not, with which program; failures "
                   "say so. Then the changes alone, and everything by path and person.",
                   tables=[files, changes, _by_path(ctx, ev)])


def _table(ctx: Context, ev: pl.LazyFrame, name: str, title: str) -> Table:
    total = ev.select(pl.len()).collect().item()
    first = ev.sort("time", "_row").head(DATA_CAP).collect()
    # (a frame indexed by a Series copies whole columns first: gather by expression instead)
    more = _at(ctx, first.get_column("_row"), "user_name", "image", "signing_id",
               "attribution_kind", "confidence", "elevated", "pid", "return_errno", "source",
               "offset")
    shown = pick(pl.concat([first, more], how="horizontal"),
        time_text("time"), "action", "path", person(), how_sure(), elevated(),
        program(), "pid", result(ctx.errno), "source",
        "offset")
    rows = [(*r[:-2], ctx.finder.label(r[-2], r[-1])) for r in rows_of(shown)]
    cols = ("time", "action", "path", "person", "how sure", "elevated", "program", "pid",
            "result", "record")
    return Table(name, title, cols, rows, total, {"pid": "num", "record": "ref"})


def _at(ctx: Context, rows: pl.Series, *columns: str) -> pl.DataFrame:
    """Columns of ``ctx.events`` at ``rows`` (null rows give nulls). A frame indexed by a
    Series would copy whole columns first: gather by expression instead."""
    return ctx.events.select(pl.col(*columns).gather(rows))


def _by_path(ctx: Context, ev: pl.LazyFrame) -> Table:
    # the program and name are those of the group's first record that has them: their rows
    # are found here and the values gathered for the groups shown only
    per = ev.group_by("path", "user").agg(
        pl.col("_row").first().alias("_first"),
        pl.col("action").unique().sort().str.join(", ").alias("actions"),
        pl.len().alias("n"), pl.col("success").not_().fill_null(False).sum().alias("failed"),
        pl.col("_row").filter("_image").first().alias("_img"),
        pl.col("_row").filter("_signing").first().alias("_sig"),
        pl.col("time").min().alias("first"), pl.col("time").max().alias("last"))
    total = per.select(pl.len()).collect().item()
    # (path, person) is unique: sorting by both makes the page the same on every run
    head = per.sort("n", "path", "user", descending=[True, False, False],
                    nulls_last=True).head(DATA_CAP).collect()
    head = pl.concat([head, _at(ctx, head.get_column("_first"), "user_name"),
                      _at(ctx, head.get_column("_img"), "image"),
                      _at(ctx, head.get_column("_sig"), "signing_id")], how="horizontal")
    shown = pick(head,
        "path", person(), "actions", "n", "failed", program(),
        time_text("first"), time_text("last"))
    cols = ("path", "person", "actions", "records", "failed", "a program", "first", "last")
    return Table("paths", "By path and person", cols, rows_of(shown), total,
                 {"records": "num", "failed": "num"})
