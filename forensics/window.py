"""The one time window: half-open ``[since_ms, until_ms)`` in integer milliseconds since the epoch.

``--since/--until``, auditreduce's ``-a/-b/-d``, trail names and both decoders' header checks all
compare record times (``sec*1000 + msec``) against this value, so an edge never depends on which
path a time came through. Datetimes become milliseconds by exact integer arithmetic (no float
rounding): a microsecond part is floored to the millisecond that contains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

__all__ = ["Window", "to_ms", "from_ms"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_ms(t: datetime | None) -> int | None:
    """An aware datetime as integer epoch milliseconds (floored); None stays None."""
    if t is None:
        return None
    if t.tzinfo is None:
        raise ValueError("a window edge must be an aware datetime")
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int | None) -> datetime | None:
    """Epoch milliseconds as an aware UTC datetime; None stays None."""
    if ms is None:
        return None
    from datetime import timedelta
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True)
class Window:
    """Records with ``since_ms <= time < until_ms``; a None edge is open."""
    since_ms: int | None = None
    until_ms: int | None = None

    @classmethod
    def of(cls, since: datetime | None = None, until: datetime | None = None) -> "Window":
        return cls(to_ms(since), to_ms(until))

    def __and__(self, other: "Window") -> "Window":
        """The intersection of two windows."""
        lo = [v for v in (self.since_ms, other.since_ms) if v is not None]
        hi = [v for v in (self.until_ms, other.until_ms) if v is not None]
        return Window(max(lo) if lo else None, min(hi) if hi else None)

    def contains(self, ms: int) -> bool:
        return ((self.since_ms is None or ms >= self.since_ms)
                and (self.until_ms is None or ms < self.until_ms))

    @property
    def since(self) -> datetime | None:
        return from_ms(self.since_ms)

    @property
    def until(self) -> datetime | None:
        return from_ms(self.until_ms)

    def __bool__(self) -> bool:
        return self.since_ms is not None or self.until_ms is not None
