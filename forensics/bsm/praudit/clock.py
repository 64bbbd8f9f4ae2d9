"""Times as praudit prints them: ``ctime(3)`` without its newline, cut at 24 characters.

The zone is the ``tz`` given to the renderer, else the ``TZ`` environment variable (a zone name,
or a POSIX TZ string left to the C library); a time that cannot be represented prints as its
number of seconds.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Clock"]

_WDAY = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MON = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct",
        b"Nov", b"Dec")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Clock:
    """ctime(3) without its newline, in the given zone (None: the process's TZ)."""

    def __init__(self, tz):
        if isinstance(tz, str):
            tz = ZoneInfo(tz)
        elif tz is None and os.environ.get("TZ"):
            try:                                  # a zone name such as TZ=UTC or Europe/Paris
                tz = ZoneInfo(os.environ["TZ"].lstrip(":"))
            except (ValueError, OSError, ZoneInfoNotFoundError):
                if hasattr(time, "tzset"):        # a POSIX TZ string: let the C library read it
                    time.tzset()
        self.tz: tzinfo | None = tz
        self._cache: dict[int, bytes] = {}

    def ctime(self, sec: int) -> bytes:
        s = self._cache.get(sec)
        if s is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            s = self._cache[sec] = self._format(sec)
        return s

    def _format(self, sec: int) -> bytes:
        try:
            if self.tz is None:
                t = time.localtime(sec)
                fields = (t.tm_wday, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_year)
            else:
                d = (_EPOCH + timedelta(seconds=sec)).astimezone(self.tz)
                fields = (d.weekday(), d.month, d.day, d.hour, d.minute, d.second, d.year)
        except (OverflowError, OSError, ValueError):
            return b"%d" % sec
        wday, mon, mday, hour, minute, second, year = fields
        text = b"%s %s%3d %02d:%02d:%02d %d" % (_WDAY[wday], _MON[mon - 1], mday, hour, minute,
                                                 second, year)
        return text[:24]          # praudit cuts ctime's buffer at 24 characters
