"""Hostile trails (issue 10, the decoder's part): bounded time, no crash, no silent forged subject.

The inputs come from ``tests/bsm/adversarial.py`` (the project's writer). Both backends must give
identical frames on every shape, and each shape has a time bound generous enough for a loaded
2-core machine: the quadratic behaviour they guard against took minutes at these sizes.
"""

from __future__ import annotations

import time

import pytest

import forensics
from forensics import schema
from forensics.bsm import backends
from forensics.bsm import writer as w

from . import adversarial as adv
from .test_backends import _assert_same, needs_c

BACKENDS = ["python", "c"] if backends.c_available() else ["python"]


def _timed(buf, backend):
    start = time.perf_counter()
    result = backends.decode_records(buf, backend)
    return result, time.perf_counter() - start


@pytest.mark.parametrize("backend", BACKENDS)
def test_resync_after_a_run_of_wrong_sizes_is_linear(backend):
    """3 MB of records whose header size is wrong: each is framed by its trailer, one scan."""
    buf = adv.bad_size_run(3_000_000)
    result, seconds = _timed(buf, backend)
    assert seconds < 10, f"{seconds:.1f} s for 3 MB"
    n = result.records.height
    assert n > 30_000 and result.records_seen == n
    assert [e[2] for e in result.errors] == ["repaired record size"] * n
    assert result.records["damage"].to_list() == ["repaired record size"] * n
    assert result.records["auid"].to_list() == [501] * n


@pytest.mark.parametrize("backend", BACKENDS)
def test_exec_cut_search_is_linear(backend):
    """A 160 KB exec record where every cut candidate starts an exec_env with a huge count."""
    buf = adv.cut_search_bomb(160_000)
    result, seconds = _timed(buf, backend)
    assert seconds < 10, f"{seconds:.1f} s for a 160 KB record"
    assert result.records.height == 1
    assert result.records["exec_args_count"].to_list() == [79_969]


@needs_c
def test_adversarial_shapes_identical_on_both_backends():
    for buf in (adv.bad_size_run(50_000), adv.bad_size_run(20_000, size=0xFFFFFFFF),
                adv.cut_search_bomb(20_000), adv.planted_subject(),
                adv.planted_subject(env_count=3), adv.planted_subject(env_count=1 << 20),
                adv.out_of_range_times(), adv.too_many_tokens()):
        _assert_same(buf)
        _assert_same(buf, since_ms=adv.T0 * 1000, until_ms=adv.T0 * 1000 + 10_000)


@pytest.mark.parametrize("env_count", [0xFFFFFFFF, 3, 1 << 20])
@pytest.mark.parametrize("backend", BACKENDS)
def test_planted_subject_is_never_silent(backend, env_count):
    """Argument bytes carrying a well-formed subject (another auid) and an exec_env that
    swallows the real path, attr and subject: the record keeps the real subject, or says that
    its subject depends on a guess."""
    result = backends.decode_records(adv.planted_subject(env_count=env_count), backend)
    row = result.records.row(0, named=True)
    if row["auid"] != adv.REAL_AUID:
        assert row["damage"] == "ambiguous exec cut"
        assert any(reason == "ambiguous exec cut" for _off, _len, reason in result.errors)
    assert row["exec_argv"][:2] == ["ls", "-l"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_kernel_cut_alone_is_not_a_guess(backend):
    """macOS 12+ cut exec_args (count kept): later cuts inside the kernel's own tokens lead to
    the same subject, so the record is decoded as written and not flagged."""
    rec = w.record(w.AUE_EXECVE, [
        w.exec_args(["sh", "-c", "x"], count=4000), w.path("/bin/sh"), w.attr(0o100755),
        w.cdhash_data(bytes(20)), w.subject(auid=501, pid=77, asid=100001), w.return32(),
        w.identity("com.apple.sh", "", bytes(range(20)), platform=True)], time=adv.T0)
    result = backends.decode_records(rec, backend)
    row = result.records.row(0, named=True)
    assert (row["auid"], row["exec_argv"], row["paths"], row["damage"]) == \
        (501, ["sh", "-c", "x"], ["/bin/sh"], None)
    assert result.errors == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_cut_keeping_more_than_xnu_can_is_not_taken(backend):
    """xnu keeps at most 16 KiB of exec strings: a clean cut after 10 KB of arguments is taken,
    one after 20 KB is not a cut the kernel wrote, and the record reports its damage instead."""
    def rec(n):
        return w.record(w.AUE_EXECVE, [w.exec_args(["x" * 1000] * n, count=100),
                                       w.subject(auid=501), w.return32(0, 1)], time=adv.T0)
    row = backends.decode_records(rec(10), backend).records.row(0, named=True)
    assert (row["auid"], len(row["exec_argv"]), row["damage"]) == (501, 10, None)
    row = backends.decode_records(rec(20), backend).records.row(0, named=True)
    assert row["auid"] is None and row["damage"] == "unknown token"


@pytest.mark.parametrize("backend", BACKENDS)
def test_times_out_of_range_are_damage_not_a_crash(backend):
    result = backends.decode_records(adv.out_of_range_times(), backend)
    frame = result.records
    assert frame["time"].null_count() == 3
    assert frame["damage"].to_list() == ["bad time", None, "bad time", "bad time", None]
    assert [e[2] for e in result.errors] == ["bad time"] * 3
    assert frame["time"][1].year == 9999


def test_load_survives_times_out_of_range(tmp_path, monkeypatch):
    """The whole load (summary tables included) runs on a trail dated after year 9999."""
    trail = tmp_path / "20240315085958.20240315090000"
    trail.write_bytes(adv.out_of_range_times() + w.record(w.AUE_EXIT, [w.return32()],
                                                          time=adv.T0))
    for backend in BACKENDS:
        audit = forensics.load(trail, backend=backend)
        assert audit.records.height == 6
        assert audit.records["time"].null_count() == 3
        assert set(audit.errors["reason"].to_list()) == {"bad time"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_token_count_overflow_is_flagged(backend):
    result = backends.decode_records(adv.too_many_tokens(70_000), backend)
    row = result.records.row(0, named=True)
    assert (row["token_count"], row["damage"]) == (65535, "too many tokens")
    assert [e[2] for e in result.errors] == ["too many tokens"]


def test_praudit_says_when_a_cut_is_a_guess():
    import io

    from forensics.bsm.praudit import render
    messages: list[str] = []
    render(adv.planted_subject(), out=io.BytesIO(), warn=messages.append, tz="UTC")
    assert len(messages) == 1 and "ambiguous exec cut" in messages[0]


def test_new_reasons_are_documented():
    for reason in ("bad time", "ambiguous exec cut", "too many tokens"):
        assert reason in schema.DAMAGE_REASONS
