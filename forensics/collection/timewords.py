"""What ``--since``, ``--until`` and ``--tz`` accept.

The selected window is **half-open**: ``--since`` is inclusive, ``--until`` is exclusive.
Every result is an aware UTC :class:`~datetime.datetime`.

Spans and instants
------------------
Some words name a *span* ``[start, end)``: ``--since`` takes its start, ``--until`` its
end. So ``--since yesterday --until yesterday`` is all of yesterday, and
``--until 2024-03-16`` includes the whole of 16 March. Other words name an *instant*,
used as is by both options.

=================  =====================================================================
``now``            the instant now
``recent``         ``[now - 10 minutes, now]``
``today``          ``[local midnight, next local midnight)``
``yesterday``      ``[previous local midnight, today's local midnight)``
``this-week``      ``[Monday 00:00, next Monday 00:00)`` (ISO weeks start on Monday)
``week-ago``       ``[now - 7 x 24 h, now]``
``this-month``     ``[the 1st 00:00, the 1st of next month 00:00)``
``this-year``      ``[1 January 00:00, next 1 January 00:00)``
``2024-03-15``     that calendar day (ISO 8601 date); ``2024-03`` is that month
``20240315``       that calendar day (auditreduce's compact ``YYYYMMDD``)
=================  =====================================================================

Instants:

* ISO 8601 date-times: ``2024-03-15T14:30``, ``2024-03-15T14:30:05.250``,
  ``2024-03-15 14:30:05`` (a space instead of ``T``), with ``Z``, ``UTC``, ``+01:00``,
  ``+0100`` or ``+01`` for an explicit offset; the basic form ``20240315T143005Z`` too.
  Without an offset the wall time is read in ``--tz``.
* auditreduce's compact ``YYYYMMDDhhmm`` and ``YYYYMMDDhhmmss`` (12 or 14 digits), in ``--tz``.
* Epoch seconds, UTC: 9 to 11 digits (``1710513000``), digits with a decimal point
  (``1710513000.25``), or any digits after ``@`` (``@1710513000``).
* Relative: ``2h``, ``90m``, ``3d``, ``1w``, ``45s``, ``2 hours ago``, ``3 days ago``,
  ``-2h``: the instant ``now - span``. Units: s/sec/second, m/min/minute (``m`` is minutes,
  never months), h/hr/hour, d/day, w/wk/week, singular or plural. Months and years have no
  fixed length and are refused: give a date.

Telling digits apart
--------------------
All-digit values are read by their length: 8 digits are a date ``YYYYMMDD``; 12 and 14 are
``YYYYMMDDhhmm[ss]``; 9 and 11 digits are epoch seconds; 10 digits are epoch seconds too,
unless they also read as a real ``YYYYMMDDhh`` (a year 1900-2099 with valid month, day and
hour), which is refused as ambiguous: write ``@1710513000`` for epoch seconds or
``YYYYMMDDhhmm`` / ISO for a date. (Current epoch seconds begin with ``1``, so they are never
ambiguous before the year 2030.)

Zones and daylight saving
-------------------------
Midnights and wall times are computed in the zone given by ``--tz`` (an IANA name such as
``Europe/Berlin``, ``UTC``, ``local``, or a fixed offset such as ``+05:30`` or ``UTC-3``, in
the ISO sense: east of Greenwich is positive). Without ``--tz`` the analyst's local zone is
used (``TZ``, then ``/etc/localtime``; UTC when neither names a zone).

* A day is the span between two local midnights, so across a daylight-saving change it is
  23 or 25 hours long.
* A local midnight that does not exist (zones that switch at 00:00, such as
  America/Santiago or America/Havana) is the first instant of that day that exists, i.e.
  the instant of the change. A midnight that occurs twice starts the day at its first
  occurrence.
* Any other wall time that does not exist (inside a spring-forward gap) is the instant of the
  change. A wall time that occurs twice (fall back) is read as its *first* occurrence for
  ``--since`` and its *second* for ``--until``, so the window is never narrower than meant.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from ..errors import TimeError

__all__ = ["TimeError", "resolve_zone", "parse_when", "parse_span", "window", "KEYWORDS"]

KEYWORDS = (
    "now", "recent", "today", "yesterday", "this-week", "week-ago", "this-month", "this-year",
)
RECENT = timedelta(minutes=10)

_UTC = timezone.utc

_EXPECTED = (
    "expected ISO 8601 (2024-03-15, 2024-03-15T14:30:00, with Z or +01:00 if not in --tz), "
    "epoch seconds, auditreduce's YYYYMMDD[hhmm[ss]], a span like '2h' or '3 days ago', "
    "or one of " + ", ".join(KEYWORDS)
)


# --------------------------------------------------------------------------- zones


_OFFSET_ZONE = re.compile(r"(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.I)


def _zi():
    """The zoneinfo module, imported when a zone is first looked up."""
    import zoneinfo

    return zoneinfo


def resolve_zone(name: str | None) -> tzinfo:
    """The zone for ``--tz``: an IANA name, ``UTC``, ``local`` or a fixed offset.

    ``None`` (or ``"local"``) is the analyst's local zone: ``TZ``, then ``/etc/localtime``,
    then UTC. An unknown name raises :class:`TimeError`.
    """
    if name is None:
        return _local_zone()
    text = name.strip()
    low = text.lower()
    if not text:
        raise TimeError("empty time zone: give an IANA name such as Europe/Berlin, UTC or +02:00")
    if low == "local":
        return _local_zone()
    if low in ("utc", "z", "zulu", "gmt", "etc/utc", "utc0", "+00:00", "-00:00"):
        return _UTC
    m = _OFFSET_ZONE.fullmatch(text)
    if m:
        hours, minutes = int(m[2]), int(m[3] or 0)
        if hours > 23 or minutes > 59:
            raise TimeError(f"time zone offset out of range: '{name}'")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if m[1] == "-" else delta)
    zone = _zoneinfo(text)
    if zone is not None:
        return zone
    # Friendly: accept a different capitalisation of a real name (europe/berlin).
    for key in _zi().available_timezones():
        if key.lower() == low:
            return _zi().ZoneInfo(key)
    import difflib

    hint = difflib.get_close_matches(text, sorted(_zi().available_timezones()), n=1)
    extra = f" (did you mean {hint[0]}?)" if hint else ""
    raise TimeError(
        f"unknown time zone '{name}'{extra}: give an IANA name such as Europe/Berlin or "
        "America/New_York, UTC, local, or an offset such as +02:00"
    )


def _zoneinfo(key: str) -> ZoneInfo | None:
    try:
        return _zi().ZoneInfo(key)
    except (_zi().ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        return None


def _local_zone() -> tzinfo:
    tz = os.environ.get("TZ")
    if tz is not None:
        return _zone_from_tz_variable(tz)
    try:
        link = os.path.realpath("/etc/localtime")
    except OSError:  # pragma: no cover
        link = ""
    if "zoneinfo/" in link:
        zone = _zoneinfo(link.split("zoneinfo/", 1)[1])
        if zone is not None:
            return zone
    try:
        with open("/etc/timezone", encoding="utf-8") as f:
            zone = _zoneinfo(f.read().strip())
            if zone is not None:
                return zone
    except OSError:
        pass
    try:
        with open("/etc/localtime", "rb") as f:
            return _zi().ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return _UTC


def _zone_from_tz_variable(value: str) -> tzinfo:
    """The zone a POSIX ``TZ`` value names; UTC when it names none (as libc does)."""
    v = value[1:] if value.startswith(":") else value
    if not v:
        return _UTC
    if v.upper() in ("UTC", "GMT", "UTC0", "GMT0"):
        return _UTC
    if v.startswith("/"):
        if "zoneinfo/" in v:
            zone = _zoneinfo(v.split("zoneinfo/", 1)[1])
            if zone is not None:
                return zone
        try:
            with open(v, "rb") as f:
                return _zi().ZoneInfo.from_file(f, key=v)
        except (OSError, ValueError):
            return _UTC
    zone = _zoneinfo(v)
    if zone is not None:
        return zone
    try:  # a POSIX rule such as "CET-1CEST,M3.5.0,M10.5.0/3"
        from dateutil.tz import tzstr

        return tzstr(v, posix_offset=True)
    except (ImportError, ValueError):
        return _UTC


def _zone(tz: tzinfo | str | None) -> tzinfo:
    if tz is None or isinstance(tz, str):
        return resolve_zone(tz)
    return tz


# --------------------------------------------------------------------------- wall time


def _utc_of(wall: datetime, tz: tzinfo, which: str) -> datetime:
    """The UTC instant of a naive wall time in ``tz``.

    ``which`` is ``"first"`` or ``"last"`` for a wall time that occurs twice; a wall time that
    does not occur resolves to the instant of the change (the first one that exists after it).
    """
    found = []
    for fold in (0, 1):
        u = wall.replace(tzinfo=tz, fold=fold).astimezone(_UTC)
        if u.astimezone(tz).replace(tzinfo=None) == wall:
            found.append(u)
    if found:
        return min(found) if which == "first" else max(found)
    return _gap_end(wall, tz)


def _gap_end(wall: datetime, tz: tzinfo) -> datetime:
    """The first instant whose wall time is later than ``wall``, which lies in a gap.

    Binary search on whole seconds (zone changes happen on whole seconds) between instants
    26 hours either side of ``wall`` read as UTC: no zone is that far from UTC, so the wall
    time there is certainly earlier, and later, than ``wall``.
    """
    base = int(wall.replace(tzinfo=_UTC).timestamp())
    lo, hi = base - 26 * 3600, base + 26 * 3600

    def after(s: int) -> bool:
        return datetime.fromtimestamp(s, _UTC).astimezone(tz).replace(tzinfo=None) > wall

    while hi - lo > 1:
        mid = (lo + hi) // 2
        if after(mid):
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, _UTC)


def _midnight(d: date, tz: tzinfo) -> datetime:
    """The first instant of local day ``d``."""
    return _utc_of(datetime.combine(d, time()), tz, "first")


def _day_span(d: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return _midnight(d, tz), _midnight(d + timedelta(days=1), tz)


def _month_span(year: int, month: int, tz: tzinfo) -> tuple[datetime, datetime]:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return _midnight(date(year, month, 1), tz), _midnight(nxt, tz)


# --------------------------------------------------------------------------- parsing

_OFFSET = r"(?P<off>[Zz]|\s*(?:UTC|GMT|utc|gmt)|[+-]\d{2}(?::?\d{2})?)"
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:(?:[Tt]|\s+)(?P<H>\d{2})(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*" + _OFFSET + r"?)?)?"
)
_ISO_BASIC = re.compile(
    r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})[Tt](?P<H>\d{2})(?:(?P<M>\d{2})(?:(?P<S>\d{2})"
    r"(?:[.,](?P<f>\d+))?)?)?\s*" + _OFFSET + "?"
)
_RELATIVE = re.compile(
    r"(?P<neg>-)?\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]+)(?:\s+(?P<ago>ago))?", re.I
)
_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
}
_UNFIXED_UNITS = {"mo", "mon", "month", "months", "y", "yr", "yrs", "year", "years"}


def parse_span(
    text: str, *, tz: tzinfo | str | None = None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC of what ``text`` names.

    A span is ``[start, end)``. An instant has ``start == end``, except a wall time that
    occurs twice in ``tz`` (fall back), which gives its first and its second occurrence.
    ``--since`` uses ``start`` and ``--until`` uses ``end``.
    """
    zone = _zone(tz)
    current = _now(now)
    if not isinstance(text, str):
        raise TypeError("time text must be a string")
    s = text.strip()
    if not s:
        raise TimeError(f"empty time: {_EXPECTED}")
    try:
        span = _span(s, text, zone, current)
    except TimeError:
        raise
    except (ValueError, OverflowError, OSError) as e:
        raise TimeError(f"cannot read time '{text}': {e}") from None
    if span is None:
        raise TimeError(f"cannot read time '{text}'{_suggest(s)}: {_EXPECTED}")
    return span


def parse_when(
    text: str,
    *,
    tz: tzinfo | str | None = None,
    now: datetime | None = None,
    bound: str = "since",
) -> datetime:
    """The UTC instant ``text`` means as the ``since`` (inclusive) or ``until`` (exclusive) bound."""
    if bound not in ("since", "until"):
        raise ValueError(f"bound must be 'since' or 'until', not {bound!r}")
    start, end = parse_span(text, tz=tz, now=now)
    return start if bound == "since" else end


def window(
    since: str | None,
    until: str | None,
    *,
    tz: tzinfo | str | None = None,
    now: datetime | None = None,
) -> tuple[datetime | None, datetime | None]:
    """The half-open UTC window ``[since, until)``; either side may be open (``None``)."""
    zone = _zone(tz)
    current = _now(now)
    lo = parse_when(since, tz=zone, now=current, bound="since") if since is not None else None
    hi = parse_when(until, tz=zone, now=current, bound="until") if until is not None else None
    if lo is not None and hi is not None and lo >= hi:
        raise TimeError(
            f"empty window: --since '{since}' ({_show(lo)}) is not before "
            f"--until '{until}' ({_show(hi)})"
        )
    return lo, hi


def _show(t: datetime) -> str:
    return t.astimezone(_UTC).isoformat().replace("+00:00", "Z")


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(_UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(_UTC)


def _suggest(s: str) -> str:
    import difflib

    word = s.lower().replace("_", "-").replace(" ", "-")
    hint = difflib.get_close_matches(word, KEYWORDS, n=1, cutoff=0.7)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _keyword(word: str, tz: tzinfo, now: datetime) -> tuple[datetime, datetime] | None:
    today = now.astimezone(tz).date()
    if word == "now":
        return now, now
    if word == "recent":
        return now - RECENT, now
    if word == "today":
        return _day_span(today, tz)
    if word == "yesterday":
        return _day_span(today - timedelta(days=1), tz)
    if word == "this-week":
        monday = today - timedelta(days=today.weekday())
        return _midnight(monday, tz), _midnight(monday + timedelta(days=7), tz)
    if word == "week-ago":
        return now - timedelta(days=7), now
    if word == "this-month":
        return _month_span(today.year, today.month, tz)
    if word == "this-year":
        return _midnight(date(today.year, 1, 1), tz), _midnight(date(today.year + 1, 1, 1), tz)
    if word in ("boot", "checkpoint"):
        raise TimeError(
            f"'{word}' is not supported: it describes the analyst's machine, not the evidence; "
            "give a date or time"
        )
    return None


def _span(
    s: str, text: str, tz: tzinfo, now: datetime
) -> tuple[datetime, datetime] | None:
    word = re.sub(r"[\s_]+", "-", s.lower())
    span = _keyword(word, tz, now)
    if span is not None:
        return span

    # Epoch seconds with an explicit marker or a decimal point.
    m = re.fullmatch(r"@(\d+(?:\.\d+)?)|(\d+\.\d+)", s)
    if m:
        t = _epoch(m[1] or m[2])
        return t, t

    if s.isdigit():
        return _digits(s, text, tz)

    m = _RELATIVE.fullmatch(s)
    if m:
        unit = m["unit"].lower()
        if unit in _UNFIXED_UNITS:
            raise TimeError(
                f"cannot read time '{text}': months and years have no fixed length; give a date"
            )
        if unit == "ago":
            return None
        if unit not in _UNITS:
            return None
        if m["neg"] and m["ago"]:
            raise TimeError(f"cannot read time '{text}': use either '-' or 'ago', not both")
        t = now - float(m["num"]) * _UNITS[unit]
        return t, t

    m = _ISO.fullmatch(s) or _ISO_BASIC.fullmatch(s)
    if m:
        return _iso(m, text, tz)
    return None


def _epoch(digits: str) -> datetime:
    whole, _, frac = digits.partition(".")
    micro = int((frac + "000000")[:6]) if frac else 0
    return datetime.fromtimestamp(int(whole), _UTC) + timedelta(microseconds=micro)


def _digits(s: str, text: str, tz: tzinfo) -> tuple[datetime, datetime] | None:
    n = len(s)
    if n == 8:
        return _day_span(_date(s[0:4], s[4:6], s[6:8]), tz)
    if n in (12, 14):
        wall = datetime(
            int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]),
            int(s[12:14] or 0) if n == 14 else 0,
        )
        return _wall_span(wall, tz)
    if n == 10 and _reads_as_date_hour(s):
        raise TimeError(
            f"cannot read time '{text}': ambiguous, it reads both as epoch seconds and as "
            f"YYYYMMDDhh; write '@{s}' for epoch seconds or '{s}00' (YYYYMMDDhhmm) for the date"
        )
    if 9 <= n <= 11:
        t = _epoch(s)
        return t, t
    raise TimeError(
        f"cannot read time '{text}': {n} digits are neither a date (8, 12 or 14 digits: "
        "YYYYMMDD[hhmm[ss]]) nor epoch seconds (9 to 11 digits, or @N)"
    )


def _reads_as_date_hour(s: str) -> bool:
    try:
        year, hour = int(s[0:4]), int(s[8:10])
        date(year, int(s[4:6]), int(s[6:8]))
    except ValueError:
        return False
    return 1900 <= year <= 2099 and hour <= 23


def _date(y: str, mo: str, d: str) -> date:
    return date(int(y), int(mo), int(d))


def _wall_span(wall: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """An instant given as wall time: both occurrences when it occurs twice."""
    return _utc_of(wall, tz, "first"), _utc_of(wall, tz, "last")


def _iso(m: re.Match, text: str, tz: tzinfo) -> tuple[datetime, datetime]:
    if m["d"] is None:  # YYYY-MM: the month
        year, month = int(m["y"]), int(m["mo"])
        if not 1 <= month <= 12:
            raise TimeError(f"cannot read time '{text}': month must be in 1..12")
        return _month_span(year, month, tz)
    day = _date(m["y"], m["mo"], m["d"])
    if m["H"] is None:
        return _day_span(day, tz)
    frac = m["f"] or ""
    wall = datetime(
        day.year, day.month, day.day, int(m["H"]), int(m["M"] or 0), int(m["S"] or 0),
        int((frac + "000000")[:6]) if frac else 0,
    )
    off = (m["off"] or "").strip()
    if not off:
        return _wall_span(wall, tz)
    if off.upper() in ("Z", "UTC", "GMT"):
        t = wall.replace(tzinfo=_UTC)
    else:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise TimeError(f"cannot read time '{text}': offset out of range")
        t = wall.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    t = t.astimezone(_UTC)
    return t, t
