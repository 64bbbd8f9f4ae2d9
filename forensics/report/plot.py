"""Chart geometry in plain numbers: linear scales, 1-2-5 count ticks, round time ticks and the
point strings of stacked step areas. No HTML or SVG here (the template writes those) and no
text from evidence: everything in and out is a number or a label made from a number."""

from __future__ import annotations

import math
from datetime import datetime, timezone

__all__ = ["Scale", "count_ticks", "count_label", "time_ticks", "stacked_steps", "num"]

_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_MONDAY = 4 * _DAY        # 1970-01-05, the first Monday after the epoch
#: steps a time axis may take, smallest first; each divides a day or is whole days, so its
#: multiples fall on round UTC times (and steps of weeks on Mondays)
_TIME_STEPS = [m * _MINUTE for m in (1, 2, 5, 10, 15, 30)] + \
              [h * _HOUR for h in (1, 2, 3, 6, 12)] + \
              [d * _DAY for d in (1, 2, 7, 14, 28, 56, 91, 182, 364)]
TIME_FORMAT = "%m-%d %H:%M"


class Scale:
    """A linear map from data ``[d0, d1]`` to pixels ``[r0, r1]``."""

    def __init__(self, d0: float, d1: float, r0: float, r1: float):
        self.d0, self.r0, self.r1 = d0, r0, r1
        self.k = (r1 - r0) / (d1 - d0) if d1 != d0 else 0.0

    def __call__(self, value: float) -> float:
        return self.r0 + (value - self.d0) * self.k


def num(x: float) -> str:
    """A coordinate with at most one decimal and no trailing zeros: the same number always
    prints the same way."""
    text = f"{x:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def count_ticks(top: int, most: int = 5) -> list[int]:
    """Ticks for a count axis from 0 up to at least ``top``: at most ``most`` + 1 of them, on a
    1-2-5 step (1, 2, 5, 10, 20, 50 ...)."""
    if top <= 0:
        return [0, 1]
    raw = top / most
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    step = max(1, int(step))
    last = -(-top // step) * step
    return list(range(0, last + 1, step))


def count_label(value: int, top: int) -> str:
    """A count tick's label in the style of the axis top: ``5,000``, ``200k`` or ``1.5M``."""
    if value == 0:
        return "0"
    if top >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if top >= 100_000:
        return f"{value / 1000:g}k"
    return f"{value:,}"


def _time(ms: int, fmt: str = TIME_FORMAT) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(fmt)


def _round_up(ms: int, step: int) -> int:
    """The first multiple of ``step`` at or after ``ms``; steps of weeks count from a Monday."""
    base = _MONDAY if step % _WEEK == 0 else 0
    return base + -(-(ms - base) // step) * step


def time_ticks(lo: int, hi: int, most: int) -> list[tuple[int, str]]:
    """Round UTC times in ``[lo, hi]`` (epoch ms) for an axis with room for ``most`` labels:
    the smallest step of minutes, hours or days that gives at most ``most`` ticks, labelled
    ``%m-%d %H:%M``. A span too short for two round minutes gets its two ends, with seconds."""
    most = max(2, most)
    for step in _TIME_STEPS:
        first = _round_up(lo, step)
        if (hi - first) // step + 1 <= most:
            break
    else:                                   # longer than the longest step allows: whole weeks
        step = -(-(hi - lo) // (most * _WEEK)) * _WEEK
        first = _round_up(lo, step)
    ticks = list(range(first, hi + 1, step))
    if len(ticks) < 2:
        return [(lo, _time(lo, TIME_FORMAT + ":%S")), (hi, _time(hi, TIME_FORMAT + ":%S"))]
    return [(t, _time(t)) for t in ticks]


def _simplify(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop repeated points and the middle of three points on one horizontal or vertical line
    (an outline that runs flat, or out and back along itself, keeps only its corners)."""
    out: list[tuple[float, float]] = []
    for p in points:
        out.append(p)
        while True:
            if len(out) >= 2 and out[-1] == out[-2]:
                out.pop()
            elif len(out) >= 3 and (out[-3][0] == out[-2][0] == out[-1][0]
                                    or out[-3][1] == out[-2][1] == out[-1][1]):
                del out[-2]
            else:
                break
    return out


def stacked_steps(series: list[list[int]], x: Scale, y: Scale) -> list[str]:
    """For each series, the ``points`` of the polygon it fills when the series are stacked in
    order, each bin a flat step from its left edge to the next (bin ``j`` spans ``[j, j + 1]``
    on ``x``'s data axis). Coordinates are rounded to 0.1 pixel before the shape is simplified,
    so equal input gives equal strings."""
    bins = len(series[0]) if series else 0
    edges = [round(x(j), 1) for j in range(bins + 1)]
    below = [0] * bins
    out = []
    for counts in series:
        above = [b + c for b, c in zip(below, counts)]
        top = [round(y(v), 1) for v in above]
        bottom = [round(y(v), 1) for v in below]
        points = []
        for j in range(bins):
            points += [(edges[j], top[j]), (edges[j + 1], top[j])]
        for j in reversed(range(bins)):
            points += [(edges[j + 1], bottom[j]), (edges[j], bottom[j])]
        out.append(" ".join(f"{num(px)},{num(py)}" for px, py in _simplify(points)))
        below = above
    return out
