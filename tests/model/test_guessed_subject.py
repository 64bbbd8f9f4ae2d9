"""An exec whose subject rests on a guessed exec_args cut is never attributed with confidence."""

from __future__ import annotations

import polars as pl

import forensics
from tests.bsm.adversarial import planted_subject


def test_a_guessed_subject_is_low_confidence_and_says_why(tmp_path):
    trail = tmp_path / "planted.trail"
    trail.write_bytes(planted_subject())
    events = forensics.load(trail).events
    guessed = events.filter(pl.col("damage") == "ambiguous exec cut")
    assert guessed.height >= 1
    for row in guessed.iter_rows(named=True):
        assert row["confidence"] == "low"
        assert "may be forged" in row["evidence"]
    others = events.filter(pl.col("damage").is_null() & pl.col("auid").is_not_null())
    assert others.height == 0 or set(others["confidence"]) - {"low"}
