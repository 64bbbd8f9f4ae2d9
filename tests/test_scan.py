"""forensics.scan: a Polars IO source whose projection and predicate reach the decoder."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

import forensics
from forensics import pushdown
from forensics.window import Window

from .conftest import FIXTURES

DEMO = FIXTURES / "demo"
T0 = datetime(2024, 3, 14, 12, tzinfo=timezone.utc)


def test_scan_is_an_io_source_equal_to_load():
    lazy = forensics.scan(DEMO)
    assert "knox-report" in lazy.explain()
    assert lazy.collect().equals(forensics.load(DEMO).records)


def test_projection_and_predicate_give_what_load_gives():
    records = forensics.load(DEMO).records
    query = (pl.col("time") >= T0) & (pl.col("event") == 23)
    got = forensics.scan(DEMO).filter(query).select("source", "offset", "pid").collect()
    want = records.filter(query).select("source", "offset", "pid")
    assert got.equals(want)
    assert got.height > 0


def test_head_stops_early():
    assert forensics.scan(DEMO).head(5).collect().height == 5


def test_bad_options_fail_at_scan_time():
    with pytest.raises(forensics.KnoxError):
        forensics.scan(DEMO, since="not a time")


def test_bounds_read_from_the_predicate():
    ms = 1710417600000
    window, events = pushdown.bounds((pl.col("time") >= T0) & (pl.col("event") == 23))
    assert window == Window(ms, None) and events == frozenset({23})
    window, _ = pushdown.bounds(pl.col("time") < T0)
    assert window == Window(None, ms + 1)          # never narrower than the predicate
    assert pushdown.bounds((pl.col("time") >= T0) | (pl.col("event") == 23)) == (Window(), None)
    assert pushdown.bounds(pl.col("pid") == 1) == (Window(), None)


def test_event_names_bound_the_events_through_the_table():
    names = {"AUE_EXECVE": [23]}
    window, events = pushdown.bounds(pl.col("event_name") == "AUE_EXECVE",
                                     lambda n: names.get(n, []))
    assert events == frozenset({23}) and window == Window()
    _, events = pushdown.bounds(pl.col("event_name") == "NOPE", lambda n: names.get(n, []))
    assert events == frozenset()
    records = forensics.load(DEMO).records
    query = pl.col("event_name") == "AUE_EXECVE"
    got = forensics.scan(DEMO).filter(query).select("source", "offset").collect()
    assert got.equals(records.filter(query).select("source", "offset"))
