"""Hostile records: a quadratic helper join, a planted subject, times out of range, a run of
wrong record sizes (resync) and a cut search over a big exec_args record (issue 10)."""

from __future__ import annotations


from forensics.testing import hostile

from .expect import clean, digest
from .watchdog import knox, load_child


def _trail(tmp_path, data: bytes, name: str = hostile.TRAIL_NAME):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_helper_join_memory_is_linear(tmp_path):
    # 2,000 opens of one path on each side, ~1 MB of trail: the n² join needs ~3 GB, a join
    # bounded by the window first stays near the ~150 MB a small trail takes.
    path = _trail(tmp_path, hostile.helper_join(2000))
    run = clean(knox(path, seconds=30, rss_mb=600))
    assert run.rc == 0, run


def test_subject_planted_in_argv_is_not_taken(tmp_path):
    path = _trail(tmp_path, hostile.planted_subject())
    out = digest(load_child(path, events=True))
    assert out["records"] == 3                                # the chdirs around it are kept
    [rec] = out["execs"]
    assert not (rec["auid"] == hostile.BOB and rec["damage"] is None), rec
    for ev in out["exec_events"]:
        assert not (ev["user"] == hostile.BOB and ev["damage"] is None), ev


def test_subject_planted_in_argv_is_never_trusted(tmp_path):
    # A kernel-cut exec whose kept strings can end in two places, each giving a well-formed
    # subject: no decoder can tell which one the kernel wrote (a cut may fall anywhere up to
    # ~16 KiB, since the next argument may be huge). The record says so (damage) and the
    # person it names is never given with confidence.
    path = _trail(tmp_path, hostile.planted_subject())
    out = digest(load_child(path, events=True))
    [rec] = out["execs"]
    if rec["auid"] == hostile.BOB:
        assert rec["damage"] == "ambiguous exec cut", rec
    for ev in out["exec_events"]:
        if ev["user"] == hostile.BOB:
            assert ev["confidence"] == "low" and ev["damage"] == "ambiguous exec cut", ev


def test_time_after_year_9999_is_damage(tmp_path):
    path = _trail(tmp_path, hostile.far_future())
    assert clean(knox(path, seconds=20)).rc == 0
    out = digest(load_child(path))
    assert out["records"] == 7
    bad = [r for r in out["rows"] if r["time"] is None]
    assert len(bad) == 1 and bad[0]["damage"], out["rows"]


def test_msec_above_999_is_damage(tmp_path):
    path = _trail(tmp_path, hostile.msec_overflow())
    out = digest(load_child(path))
    assert out["records"] == 7
    bad = [r for r in out["rows"] if r["time"] is None or not r["time"].startswith("2024-03-15")]
    assert len(bad) == 1, out["rows"]
    assert bad[0]["time"] is None and bad[0]["damage"], bad


def test_resync_over_wrong_sizes_is_linear(tmp_path):
    # 20,000 records a byte short (1.5 MB): today each resync rescans the rest (~14 s, C core)
    path = _trail(tmp_path, hostile.wrong_sizes(20_000))
    out = digest(load_child(path, seconds=6))
    assert out["records"] >= 6
    good = [r for r in out["rows"] if r["damage"] is None]
    assert len(good) >= 6
    assert out["errors"] or len(good) < out["records"]       # the damage is reported


def test_cut_search_over_big_exec_args_is_linear(tmp_path):
    # one 160 KB exec_args record whose every cut is a candidate (today ~20 s, C core)
    path = _trail(tmp_path, hostile.big_exec_args(160_000))
    out = digest(load_child(path, seconds=6))
    assert out["records"] == 7
    [rec] = out["execs"]
    assert rec["damage"], rec
