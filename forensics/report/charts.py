"""Section ``timeline``: activity per person and per event class over time, as stacked step
charts. This module counts and lays out (a :class:`Chart` is numbers and labels only, the
geometry from :mod:`.plot`); the report's template ``_chart.html.j2`` writes the inline SVG,
through the page's autoescape like every other string, so the same input gives the same bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from . import plot, visible
from .structure import SECTIONS, Context, Run, Section

__all__ = ["Chart", "Tick", "Area", "Entry", "section", "chart"]

_BINS = 96
_SERIES = 7           # people or classes drawn; the rest are summed as "others"
_COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#6b7280"]
_LABEL = 40           # legend labels are cut to this many characters

# the drawing, in SVG user units (the viewBox); the page scales it to its width
_WIDTH, _HEIGHT = 1100, 260
_LEFT, _TOP, _BOTTOM = 64, 34, 226
_CHAR, _WIDE = 6.6, 11.5   # a character of the legend's 11.5px system font, a little wide;
                            # an East Asian (wide) one
_ROOM = 300           # the most a legend takes; a label estimated wider is squeezed to fit
_LINE = 20            # legend line height


@dataclass
class Tick:
    at: float            # pixel position along its axis
    label: str
    anchor: str = "middle"   # "end" for a time label that would run into the legend


@dataclass
class Area:
    points: str          # the polygon's "x,y x,y ..." (numbers only)
    colour: str
    label: str = ""      # its tooltip, from evidence: "alice (501): 308 records"


@dataclass
class Entry:
    label: str           # from evidence: shown through the template's autoescape
    colour: str
    y: float
    squeeze: float | None = None   # a textLength for a label too wide for the legend


@dataclass
class Chart:
    """One stacked step chart as data: what the template needs to draw it, and in words."""
    title: str           # the figure's name ("Activity per person")
    alt: str             # the same facts in words
    heading: str = ""    # drawn at the top left
    width: int = _WIDTH
    height: int = _HEIGHT
    left: float = _LEFT
    right: float = _WIDTH
    top: float = _TOP
    bottom: float = _BOTTOM
    legend_x: float = _WIDTH
    areas: list[Area] = field(default_factory=list)
    xticks: list[Tick] = field(default_factory=list)
    yticks: list[Tick] = field(default_factory=list)
    legend: list[Entry] = field(default_factory=list)


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
    """A legend label: invisible characters as escapes, at most 40 characters."""
    return visible.term(text, _LABEL)


def _text_width(text: str) -> float:
    """An estimate of the width of ``text`` in the legend's font (no font metrics here)."""
    return sum(_WIDE if ord(ch) >= 0x2E80 else _CHAR for ch in text)


def legend_width(*charts: list[tuple[str, list[int]]]) -> float:
    """Room for the widest legend label of all ``charts`` (so their plots line up)."""
    widest = max((_text_width(_label(name)) for series in charts for name, _ in series),
                 default=0)
    return round(min(max(12 * _CHAR, widest) + 26, _ROOM), 1)


def _entries(series: list[tuple[str, list[int]]], colours: list[str], room: float) -> list[Entry]:
    out = []
    for i, ((name, _), colour) in enumerate(zip(series, colours)):
        label = _label(name)
        fits = _text_width(label) <= room - 26
        out.append(Entry(label, colour, _TOP + 10 + i * _LINE, None if fits else room - 26))
    return out


def chart(series: list[tuple[str, list[int]]], lo: int, width: int, heading: str, title: str = "",
          alt: str = "", legend: float | None = None) -> Chart:
    """Lay out ``series`` (label, counts per bin; stacked in order) over the bins starting at
    ``lo`` (epoch ms), each ``width`` ms wide, with a legend ``legend`` units wide."""
    legend = legend_width(series) if legend is None else legend
    right = round(_WIDTH - legend - 20, 1)
    n = len(series[0][1]) if series else _BINS
    stacked = [0] * n
    for _, counts in series:
        stacked = [a + b for a, b in zip(stacked, counts)]
    ys = plot.count_ticks(max(stacked, default=0))
    y = plot.Scale(0, ys[-1], _BOTTOM, _TOP)
    x = plot.Scale(0, n, _LEFT, right)
    end = lo + n * width
    at = plot.Scale(lo, end, _LEFT, right)
    times = plot.time_ticks(lo, end, int((right - _LEFT) // 100))
    colours = _COLORS[:len(series)]
    legend_x = right + 24
    return Chart(
        title=title, alt=alt, heading=_label(heading), right=right, legend_x=legend_x,
        areas=[Area(p, c, f"{_label(name)}: {sum(counts):,} records")
               for p, c, (name, counts) in zip(plot.stacked_steps([c for _, c in series], x, y),
                                               colours, series)],
        xticks=[Tick(round(at(t), 1), label, "end" if at(t) > right - 36 else "middle")
                for t, label in times],
        yticks=[Tick(round(y(v), 1), plot.count_label(v, ys[-1])) for v in ys],
        legend=_entries(series, colours, legend))


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
        rest = len(order) - _SERIES
        out.append((f"{rest} other" if rest == 1 else f"{rest} others", row))
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
    room = legend_width(people, kinds)
    charts = [chart(people, lo, width, "Records per person", "Activity per person",
                    _alt(people), room),
              chart(kinds, lo, width, "Records per event class (first class)",
                    "Activity per event class", _alt(kinds), room)]
    return Section("timeline", SECTIONS["timeline"], lead,
                   notes=[f"One bar = {step}."], charts=charts)
