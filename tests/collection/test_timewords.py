"""Tests for forensics.timewords: what --since, --until and --tz accept."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.collection.timewords import KEYWORDS, TimeError, parse_span, parse_when, resolve_zone, window

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 20 March 2024, 15:30 UTC = 16:30 in Berlin (CET, +01:00).
NOW = datetime(2024, 3, 20, 15, 30, tzinfo=UTC)


def u(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def both(text, tz=BERLIN, now=NOW):
    return (
        parse_when(text, tz=tz, now=now, bound="since"),
        parse_when(text, tz=tz, now=now, bound="until"),
    )


# --------------------------------------------------------------------------- keywords


@pytest.mark.parametrize(
    "word, since, until",
    [
        ("now", u(2024, 3, 20, 15, 30), u(2024, 3, 20, 15, 30)),
        ("recent", u(2024, 3, 20, 15, 20), u(2024, 3, 20, 15, 30)),
        ("today", u(2024, 3, 19, 23), u(2024, 3, 20, 23)),
        ("yesterday", u(2024, 3, 18, 23), u(2024, 3, 19, 23)),
        ("this-week", u(2024, 3, 17, 23), u(2024, 3, 24, 23)),  # Monday 18 .. Monday 25
        ("week-ago", u(2024, 3, 13, 15, 30), u(2024, 3, 20, 15, 30)),
        # March ends after the spring change: 1 April 00:00 CEST is 31 March 22:00 UTC.
        ("this-month", u(2024, 2, 29, 23), u(2024, 3, 31, 22)),
        ("this-year", u(2023, 12, 31, 23), u(2024, 12, 31, 23)),
    ],
)
def test_keywords(word, since, until):
    assert both(word) == (since, until)
    assert word in KEYWORDS


@pytest.mark.parametrize("spelling", ["This Week", "this_week", "THIS-WEEK", " this-week "])
def test_keyword_spellings(spelling):
    assert both(spelling) == both("this-week")


def test_keywords_follow_the_zone():
    # 15:30 UTC on 20 March is already 21 March in Kiritimati (+14).
    assert both("today", tz="Pacific/Kiritimati") == (u(2024, 3, 20, 10), u(2024, 3, 21, 10))
    assert both("today", tz="UTC") == (u(2024, 3, 20), u(2024, 3, 21))
    assert both("today", tz="America/Los_Angeles") == (u(2024, 3, 20, 7), u(2024, 3, 21, 7))


def test_this_week_on_a_monday_and_a_sunday():
    monday = datetime(2024, 3, 18, 0, 0, tzinfo=BERLIN)  # the first instant of the week
    sunday = datetime(2024, 3, 24, 23, 59, 59, tzinfo=BERLIN)
    for now in (monday, sunday):
        assert both("this-week", now=now) == (u(2024, 3, 17, 23), u(2024, 3, 24, 23))


def test_since_and_until_yesterday_is_all_of_yesterday():
    assert window("yesterday", "yesterday", tz=BERLIN, now=NOW) == (
        u(2024, 3, 18, 23), u(2024, 3, 19, 23)
    )


def test_year_and_month_edges():
    dec = datetime(2024, 12, 31, 12, tzinfo=UTC)
    assert both("this-month", tz="UTC", now=dec) == (u(2024, 12, 1), u(2025, 1, 1))
    assert both("this-year", tz="UTC", now=dec) == (u(2024, 1, 1), u(2025, 1, 1))


def test_boot_and_checkpoint_are_refused():
    for word in ("boot", "checkpoint"):
        with pytest.raises(TimeError, match="not supported"):
            parse_when(word, tz=BERLIN, now=NOW)


# --------------------------------------------------------------------------- daylight saving


def day_length(text, tz):
    s, e = parse_span(text, tz=tz, now=NOW)
    return e - s


def test_23_hour_day():
    assert both("2024-03-31") == (u(2024, 3, 30, 23), u(2024, 3, 31, 22))
    assert day_length("2024-03-31", BERLIN) == timedelta(hours=23)
    now = datetime(2024, 3, 31, 12, tzinfo=UTC)
    assert both("today", now=now) == (u(2024, 3, 30, 23), u(2024, 3, 31, 22))
    assert both("yesterday", now=now + timedelta(days=1)) == (u(2024, 3, 30, 23), u(2024, 3, 31, 22))


def test_25_hour_day():
    assert both("2024-10-27") == (u(2024, 10, 26, 22), u(2024, 10, 27, 23))
    assert day_length("20241027", BERLIN) == timedelta(hours=25)
    now = datetime(2024, 10, 27, 12, tzinfo=UTC)
    assert both("today", now=now) == (u(2024, 10, 26, 22), u(2024, 10, 27, 23))


def test_midnight_that_does_not_exist():
    # Santiago moved 00:00 -> 01:00 on 11 September 2022: the day starts at 01:00 -03.
    santiago = ZoneInfo("America/Santiago")
    assert both("2022-09-11", tz=santiago) == (u(2022, 9, 11, 4), u(2022, 9, 12, 3))
    assert day_length("2022-09-11", santiago) == timedelta(hours=23)
    # The day before ends where the 11th begins, and is a whole 24 hours.
    assert both("2022-09-10", tz=santiago) == (u(2022, 9, 10, 4), u(2022, 9, 11, 4))
    # Beirut also switched at midnight (27 March 2022).
    assert both("2022-03-27", tz="Asia/Beirut")[0] == u(2022, 3, 26, 22)
    # Havana, 12 March 2023.
    assert both("2023-03-12", tz="America/Havana")[0] == u(2023, 3, 12, 5)
    now = datetime(2022, 9, 11, 12, tzinfo=UTC)
    assert both("today", tz=santiago, now=now)[0] == u(2022, 9, 11, 4)


def test_midnight_that_occurs_twice_starts_the_day_at_the_first():
    # Havana fell back 01:00 -> 00:00 on 5 November 2023: 00:00-01:00 happened twice.
    havana = ZoneInfo("America/Havana")
    assert both("2023-11-05", tz=havana) == (u(2023, 11, 5, 4), u(2023, 11, 6, 5))
    assert day_length("2023-11-05", havana) == timedelta(hours=25)
    assert both("2023-11-04", tz=havana)[1] == u(2023, 11, 5, 4)


def test_wall_times_in_gaps_and_overlaps():
    # 02:30 did not exist in Berlin on 31 March 2024: it means the change, 03:00 CEST.
    assert both("2024-03-31 02:30") == (u(2024, 3, 31, 1), u(2024, 3, 31, 1))
    # 02:30 happened twice on 27 October 2024: since takes the first, until the second.
    assert both("2024-10-27T02:30") == (u(2024, 10, 27, 0, 30), u(2024, 10, 27, 1, 30))
    assert both("202410270230") == (u(2024, 10, 27, 0, 30), u(2024, 10, 27, 1, 30))
    # With an offset there is no doubt.
    assert both("2024-10-27T02:30+01:00") == (u(2024, 10, 27, 1, 30),) * 2


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2037, 12, 31)),
    zone=st.sampled_from(
        ["Europe/Berlin", "America/Santiago", "America/Havana", "Asia/Beirut",
         "Australia/Lord_Howe", "America/St_Johns", "Asia/Kolkata", "UTC"]
    ),
)
def test_days_tile_the_timeline(day, zone):
    tz = ZoneInfo(zone)
    start, end = parse_span(day.isoformat(), tz=tz, now=NOW)
    nxt_start, _ = parse_span((day + timedelta(days=1)).isoformat(), tz=tz, now=NOW)
    assert end == nxt_start
    assert timedelta(hours=22) <= end - start <= timedelta(hours=26)
    assert start.astimezone(tz).date() == day
    assert (start - timedelta(microseconds=1)).astimezone(tz).date() < day


# --------------------------------------------------------------------------- ISO, compact, epoch


@pytest.mark.parametrize(
    "text, since, until",
    [
        ("2024-03-15", u(2024, 3, 14, 23), u(2024, 3, 15, 23)),
        ("2024-03", u(2024, 2, 29, 23), u(2024, 3, 31, 22)),
        ("2024-02", u(2024, 1, 31, 23), u(2024, 2, 29, 23)),
        ("20240315", u(2024, 3, 14, 23), u(2024, 3, 15, 23)),
    ],
)
def test_calendar_spans(text, since, until):
    assert both(text) == (since, until)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-15T12:00", u(2024, 3, 15, 11)),
        ("2024-03-15T12", u(2024, 3, 15, 11)),
        ("2024-03-15 12:00:00", u(2024, 3, 15, 11)),
        ("2024-03-15t12:00:05.250", u(2024, 3, 15, 11, 0, 5, 250000)),
        ("2024-03-15T12:00:05,5", u(2024, 3, 15, 11, 0, 5, 500000)),
        ("2024-03-15T12:00:00.123456789Z", u(2024, 3, 15, 12, 0, 0, 123456)),
        ("2024-03-15T12:00:00Z", u(2024, 3, 15, 12)),
        ("2024-03-15T12:00:00z", u(2024, 3, 15, 12)),
        ("2024-03-15 12:00 UTC", u(2024, 3, 15, 12)),
        ("2024-03-15T12:00:00+05:30", u(2024, 3, 15, 6, 30)),
        ("2024-03-15T12:00:00-0800", u(2024, 3, 15, 20)),
        ("2024-03-15T12:00-03", u(2024, 3, 15, 15)),
        ("2024-03-15 12:00:00 +01:00", u(2024, 3, 15, 11)),
        ("20240315T120000Z", u(2024, 3, 15, 12)),
        ("20240315T1200+0100", u(2024, 3, 15, 11)),
        ("20240315T12", u(2024, 3, 15, 11)),
        ("202403151200", u(2024, 3, 15, 11)),
        ("20240315120005", u(2024, 3, 15, 11, 0, 5)),
    ],
)
def test_instants(text, expected):
    assert both(text) == (expected, expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1710513000", u(2024, 3, 15, 14, 30)),
        ("999999999", u(2001, 9, 9, 1, 46, 39)),
        ("100000000", u(1973, 3, 3, 9, 46, 40)),
        ("10000000000", u(2286, 11, 20, 17, 46, 40)),
        ("1710513000.25", u(2024, 3, 15, 14, 30, 0, 250000)),
        ("1710513000.1234567", u(2024, 3, 15, 14, 30, 0, 123456)),
        ("@1710513000", u(2024, 3, 15, 14, 30)),
        ("@0", u(1970, 1, 1)),
        ("@2024031512", u(2034, 2, 20, 6, 58, 32)),
    ],
)
def test_epoch_seconds_are_utc(text, expected):
    assert both(text) == (expected, expected)
    assert both(text, tz="Asia/Tokyo") == (expected, expected)


def test_eight_digits_are_a_date_not_epoch():
    assert both("20240315", tz="UTC") == (u(2024, 3, 15), u(2024, 3, 16))


def test_ten_digits_that_read_as_a_date_are_ambiguous():
    with pytest.raises(TimeError, match="ambiguous") as err:
        parse_when("2024031512", tz="UTC", now=NOW)
    assert "@2024031512" in str(err.value) and "202403151200" in str(err.value)
    # Not a real YYYYMMDDhh (month 71): epoch seconds.
    assert both("1710513000") == (u(2024, 3, 15, 14, 30),) * 2


@pytest.mark.parametrize("text", ["1710513000123", "1234567", "12345"])
def test_other_digit_counts_are_refused(text):
    with pytest.raises(TimeError, match="digits are neither a date"):
        parse_when(text, tz="UTC", now=NOW)


# --------------------------------------------------------------------------- relative


@pytest.mark.parametrize(
    "text, delta",
    [
        ("2h", timedelta(hours=2)),
        ("90m", timedelta(minutes=90)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("1.5h", timedelta(minutes=90)),
        ("3 days ago", timedelta(days=3)),
        ("2 hours ago", timedelta(hours=2)),
        ("1 hour ago", timedelta(hours=1)),
        ("10 min ago", timedelta(minutes=10)),
        ("2H", timedelta(hours=2)),
        ("2 weeks", timedelta(weeks=2)),
        ("-2h", timedelta(hours=2)),
        ("- 30 seconds", timedelta(seconds=30)),
    ],
)
def test_relative(text, delta):
    assert both(text) == (NOW - delta, NOW - delta)


@pytest.mark.parametrize(
    "text, message",
    [
        ("3 months ago", "no fixed length"),
        ("1y", "no fixed length"),
        ("-2h ago", "either '-' or 'ago'"),
        ("+2h", "cannot read time"),
        ("2 parsecs", "cannot read time"),
        ("99999999 weeks ago", "cannot read time"),
    ],
)
def test_bad_relative(text, message):
    with pytest.raises(TimeError, match=message):
        parse_when(text, tz="UTC", now=NOW)


# --------------------------------------------------------------------------- errors


def test_bad_input_message_is_one_helpful_line():
    with pytest.raises(TimeError) as err:
        parse_when("yesterdy", tz="UTC", now=NOW)
    msg = str(err.value)
    assert msg.startswith("cannot read time 'yesterdy' (did you mean 'yesterday'?): expected ISO 8601")
    for part in ("epoch seconds", "'2h'", "'3 days ago'", "now, recent, today, yesterday"):
        assert part in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty time"),
        ("   ", "empty time"),
        ("2024-02-30", "day is out of range for month"),
        ("2024-13-01", "month must be in 1..12"),
        ("2024-13", "month must be in 1..12"),
        ("2024-03-15T25:00", "hour must be in 0..23"),
        ("2024-03-15T12:00+25:00", "offset out of range"),
        ("20240230", "day is out of range"),
        ("15/03/2024", "cannot read time '15/03/2024'"),
        ("2024-03-15Z", "cannot read time"),
        ("last tuesday", "cannot read time"),
    ],
)
def test_bad_input(text, message):
    with pytest.raises(TimeError, match=message):
        parse_when(text, tz="UTC", now=NOW)


def test_empty_window_is_an_error():
    with pytest.raises(TimeError, match=r"empty window: --since 'today' \(2024-03-20T00:00:00Z\)"):
        window("today", "yesterday", tz="UTC", now=NOW)
    with pytest.raises(TimeError, match="empty window"):
        window("now", "now", tz="UTC", now=NOW)
    with pytest.raises(TimeError, match="empty window"):
        window("2024-03-15T12:00Z", "2024-03-15T12:00Z", tz="UTC", now=NOW)


def test_window_sides():
    assert window(None, None, tz="UTC", now=NOW) == (None, None)
    assert window("2h", None, tz="UTC", now=NOW) == (u(2024, 3, 20, 13, 30), None)
    assert window(None, "2024-03-16", tz="UTC", now=NOW) == (None, u(2024, 3, 17))
    assert window("recent", "now", tz="UTC", now=NOW) == (u(2024, 3, 20, 15, 20), NOW)


def test_results_are_aware_utc():
    for text in ("now", "today", "2024-03-15T12:00+05:00", "1710513000", "2h"):
        t = parse_when(text, tz=BERLIN, now=NOW)
        assert t.tzinfo is UTC


def test_naive_now_and_bad_bound_are_programming_errors():
    with pytest.raises(ValueError, match="aware"):
        parse_when("now", tz="UTC", now=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="bound"):
        parse_when("now", tz="UTC", now=NOW, bound="before")


def test_now_defaults_to_the_clock():
    before = datetime.now(UTC)
    t = parse_when("now", tz="UTC")
    assert before <= t <= datetime.now(UTC)


def test_now_in_another_zone_is_the_same_instant():
    tokyo_now = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert both("recent", now=tokyo_now) == both("recent")
    assert both("today", now=tokyo_now) == both("today")


# --------------------------------------------------------------------------- zones


def test_resolve_zone_names():
    assert resolve_zone("Europe/Berlin") == BERLIN
    assert resolve_zone("europe/berlin") == BERLIN
    assert resolve_zone("UTC") is UTC
    assert resolve_zone("utc") is UTC
    assert resolve_zone("Z") is UTC
    assert resolve_zone("+05:30") == timezone(timedelta(hours=5, minutes=30))
    assert resolve_zone("-0800") == timezone(timedelta(hours=-8))
    assert resolve_zone("UTC+2") == timezone(timedelta(hours=2))  # ISO sense: east is +
    assert resolve_zone("GMT-3") == timezone(timedelta(hours=-3))
    assert resolve_zone("Etc/GMT+2").utcoffset(None) == timedelta(hours=-2)  # IANA's own sense


@pytest.mark.parametrize("name", ["Europe/Berln", "Mars/Olympus", "../../etc/passwd", "+25:00", ""])
def test_resolve_zone_unknown(name):
    with pytest.raises(TimeError) as err:
        resolve_zone(name)
    assert "\n" not in str(err.value)


def test_resolve_zone_suggests():
    with pytest.raises(TimeError, match="did you mean Europe/Berlin"):
        resolve_zone("Europe/Berln")


@pytest.mark.parametrize(
    "tzvar, offset_in_july",
    [
        ("Europe/Berlin", timedelta(hours=2)),
        (":America/New_York", timedelta(hours=-4)),
        ("", timedelta(0)),
        ("UTC", timedelta(0)),
        ("CET-1CEST,M3.5.0,M10.5.0/3", timedelta(hours=2)),
        ("JST-9", timedelta(hours=9)),
        ("/usr/share/zoneinfo/Asia/Kolkata", timedelta(hours=5, minutes=30)),
    ],
)
def test_local_zone_from_tz_variable(monkeypatch, tzvar, offset_in_july):
    monkeypatch.setenv("TZ", tzvar)
    for name in (None, "local"):
        zone = resolve_zone(name)
        assert datetime(2024, 7, 1, 12, tzinfo=zone).utcoffset() == offset_in_july


def test_local_zone_is_the_default(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert parse_when("today", now=NOW) == u(2024, 3, 20, 15)  # 21 March began at 15:00 UTC
    assert parse_when("today", tz=None, now=NOW) == u(2024, 3, 20, 15)
    assert window("today", None, now=NOW) == (u(2024, 3, 20, 15), None)


def test_local_zone_without_tz_variable(monkeypatch):
    monkeypatch.delenv("TZ", raising=False)
    zone = resolve_zone(None)
    assert datetime(2024, 1, 1, tzinfo=zone).utcoffset() is not None


def test_dst_rule_string_zone_handles_gaps_and_overlaps(monkeypatch):
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    assert both("2024-03-31", tz=None) == (u(2024, 3, 30, 23), u(2024, 3, 31, 22))
    assert both("2024-10-27T02:30", tz=None) == (u(2024, 10, 27, 0, 30), u(2024, 10, 27, 1, 30))
    assert both("2024-03-31T02:30", tz=None) == (u(2024, 3, 31, 1), u(2024, 3, 31, 1))
