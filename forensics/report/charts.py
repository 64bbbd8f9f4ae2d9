"""Section ``timeline``: activity per person and per event class over time, drawn by Matplotlib
(Agg/SVG backend) as inline SVG with no external references and a fixed hash salt, so the same
input gives the same bytes."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import polars as pl

from . import visible
from .structure import SECTIONS, Context, Run, Section

__all__ = ["Chart", "section", "svg_of", "preload"]

_PRELOAD: list = []


def preload() -> None:
    """Import Matplotlib in a background thread (about a second) while the trails decode."""
    if _PRELOAD:
        return
    import threading

    def work():
        import matplotlib.backends.backend_svg  # noqa: F401
        import matplotlib.dates  # noqa: F401
        import matplotlib.figure  # noqa: F401

    thread = threading.Thread(target=work, name="knox-report-matplotlib", daemon=True)
    _PRELOAD.append(thread)
    thread.start()

_BINS = 96
_SERIES = 7           # people or classes drawn; the rest are summed as "others"
_COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#6b7280"]


@dataclass
class Chart:
    title: str
    svg: str             # sanitised inline SVG
    alt: str             # the same facts in words


def _bins(ctx: Context) -> tuple[pl.LazyFrame, int, int, int] | None:
    ev = ctx.events.lazy().filter(pl.col("time").is_not_null())
    span = ev.select(pl.col("time").min().dt.epoch("ms").alias("a"),
                     pl.col("time").max().dt.epoch("ms").alias("b")).collect()
    lo, hi = span.row(0)
    if lo is None:
        return None
    width = max(1, -(-(hi - lo + 1) // _BINS))
    binned = ev.with_columns(((pl.col("time").dt.epoch("ms") - lo) // width).alias("bin"))
    return binned, lo, width, hi


def _label(text: str) -> str:
    """A legend label: invisible characters as escapes, at most 40 characters, and no
    ``$...$`` (Matplotlib would read it as math)."""
    return visible.term(text, 40).replace("$", r"\$")


def svg_of(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # nothing outside the page: only same-document references survive
    svg = re.sub(r'(xlink:)?href="(?!#)[^"]*"', "", svg)
    return svg


def _draw(series: list[tuple[str, list[int]]], lo: int, width: int, title: str) -> str:
    if _PRELOAD:
        _PRELOAD[0].join()
    from datetime import datetime, timezone

    import matplotlib
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    xs = [datetime.fromtimestamp((lo + i * width) / 1000, timezone.utc) for i in range(_BINS + 1)]
    with matplotlib.rc_context({"svg.hashsalt": "knox-report", "svg.fonttype": "none",
                                "font.family": "DejaVu Sans", "font.size": 9}):
        fig = Figure(figsize=(11, 2.6), dpi=96)
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        ax.stackplot(xs, *[counts + counts[-1:] for _, counts in series],
                     labels=[_label(name) for name, _ in series],
                     colors=_COLORS[:len(series)], step="post", linewidth=0)
        ax.set_ylabel("records")
        ax.set_title(_label(title), loc="left", fontsize=10)
        ax.set_xlim(xs[0], xs[-1])
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=timezone.utc))
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        fig.autofmt_xdate()
        fig.tight_layout()
        return svg_of(fig)


def _series(binned: pl.LazyFrame, key: pl.Expr) -> list[tuple[str, list[int]]]:
    counts = binned.group_by(key.alias("k"), "bin").agg(pl.len().alias("n")).collect()
    order = (counts.group_by("k").agg(pl.col("n").sum()).sort("n", "k", descending=[True, False])
             .get_column("k").to_list())
    top = order[:_SERIES]
    out = []
    for name in top:
        row = [0] * _BINS
        for b, n in counts.filter(pl.col("k") == name).select("bin", "n").rows():
            row[min(int(b), _BINS - 1)] += n
        out.append((name, row))
    if len(order) > _SERIES:
        row = [0] * _BINS
        for b, n in (counts.filter(~pl.col("k").is_in(top)).group_by("bin")
                     .agg(pl.col("n").sum()).rows()):
            row[min(int(b), _BINS - 1)] += n
        out.append((f"{len(order) - _SERIES} others", row))
    return out


def _alt(series: list[tuple[str, list[int]]]) -> str:
    return "; ".join(f"{name}: {sum(c):,} records" for name, c in series)


def section(ctx: Context, run: Run) -> Section:
    found = _bins(ctx)
    lead = ("Records over time, stacked per person and per event class (UTC). Each bar is "
            "one of 96 equal slices of the time span.")
    if found is None:
        return Section("timeline", SECTIONS["timeline"], lead, notes=["No records with a time."])
    binned, lo, width, hi = found
    who = (pl.when(pl.col("user").is_null()).then(pl.lit("no person"))
           .otherwise(pl.concat_str([pl.col("user_name").fill_null("uid"), pl.lit(" ("),
                                     pl.col("user").cast(pl.String), pl.lit(")")])))
    classes = ctx.event_counts.select("event", pl.col("event_classes").list.first()
                                      .fill_null("none").alias("cls"))
    cls = pl.col("event").replace_strict(classes.get_column("event"), classes.get_column("cls"),
                                         default="none", return_dtype=pl.String)
    people = _series(binned, who)
    kinds = _series(binned, cls)
    bucket = width / 1000
    step = (f"{bucket / 3600:.1f} hours" if bucket >= 3600 else f"{bucket / 60:.1f} minutes"
            if bucket >= 60 else f"{bucket:.1f} s")
    charts = [Chart("Activity per person", _draw(people, lo, width, "Records per person"),
                    _alt(people)),
              Chart("Activity per event class", _draw(kinds, lo, width,
                                                      "Records per event class (first class)"),
                    _alt(kinds))]
    return Section("timeline", SECTIONS["timeline"], lead,
                   notes=[f"One bar = {step}."], charts=charts)
