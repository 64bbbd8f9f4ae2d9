"""Section ``failures``: denied and failed calls by error, program and person."""

from __future__ import annotations

import polars as pl

from .cells import pick, Table, person, program, rows_of, time_text
from .structure import SECTIONS, Context, Run, Section

__all__ = ["section"]


def section(ctx: Context, run: Run) -> Section:
    failed = ctx.events.lazy().filter(pl.col("success").not_())
    errno = pl.col("return_errno")
    per = (failed.sort("time").group_by(ctx.event_name(), "return_errno", "image", "user").agg(
        pl.col("user_name").drop_nulls().first(), pl.col("signing_id").drop_nulls().first(),
        pl.len().alias("n"),
        pl.col("time").min().alias("first"), pl.col("time").max().alias("last"),
        pl.col("paths").list.last().drop_nulls().first().alias("path"),
        pl.col("text").list.first().drop_nulls().first().alias("says"),
        pl.col("source").first(), pl.col("offset").first()))
    total = per.select(pl.len()).collect().item()
    shown = pick(per.sort("n", "first", descending=[True, False]),
        pl.coalesce("event_name", pl.lit("?")),
        pl.format("{} ({})", errno.replace_strict(ctx.errno, default=None,
                                                  return_dtype=pl.String).fill_null("?"), errno),
        program(), person(), "n", time_text("first"),
        time_text("last"), pl.coalesce("says", "path", pl.lit("")), "source", "offset")
    rows = [(*r[:-2], ctx.finder.label(r[-2], r[-1])) for r in rows_of(shown)]
    cols = ("call", "error", "program", "person", "count", "first", "last", "says / path",
            "first record")
    errors = (failed.group_by("return_errno").len().sort("len", descending=True)
              .collect().rows())
    notes = ["By error: " + ", ".join(f"{ctx.errno.get(e, e)} {n:,}" for e, n in errors[:12])
             + "."] if errors else ["No failed calls were recorded."]
    return Section("failures", SECTIONS["failures"],
                   "Denied and failed calls grouped by call, error, program and person.",
                   tables=[Table("failures", "Failures", cols, rows, total,
                                 {"count": "num", "first record": "ref"})], notes=notes)
