"""The C core against the pure-Python decoder: identical frames, errors and counts.

The Python decoder (``forensics.bsm.decode``) is the reference. Every file of the shared fixtures,
random bytes, mutated fixtures and random token soups must give dtype-identical frames and the
same errors, records_seen and file_tokens on both backends, and neither may raise.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from forensics import schema, text
from forensics.bsm import backends, decode, tokens
from forensics.bsm import writer as w

from . import adversarial

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
CSRC = ROOT / "forensics" / "bsm" / "csrc"

needs_c = pytest.mark.skipif(not backends.c_available(),
                             reason="the C core (forensics._cbsm) is not built in this environment")
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/fixtures is absent (reference trails not available)")

T0 = 1710493198.0
MS0 = 1710493199000
OPTION_SETS = [
    {},
    {"since_ms": MS0, "until_ms": MS0 + 100_000},
    {"since_ms": MS0 + 1},
    {"until_ms": MS0},
    {"events": frozenset({23, 72, 45000, 6153})},
    {"events": frozenset()},
    {"since_ms": 0, "until_ms": 1 << 62, "events": frozenset({43190, 2})},
]

_GOLDEN_SUFFIXES = (".md", ".tsv", ".txt", ".jsonl", ".stderr")


def _is_input(path: Path) -> bool:
    name = path.name
    return path.is_file() and ".praudit" not in name and ".tokprint" not in name \
        and not name.endswith(_GOLDEN_SUFFIXES)


def _fixture_files(folder: str) -> list[Path]:
    base = SHARED / folder
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*") if _is_input(p))


FOLDERS = ["openbsm/trail", "openbsm/records", "openbsm/tokens", "openbsm/upstream-reference",
           "openbsm/auditdir", "openbsm/auditreduce", "real"]


def _both(buf, **opts):
    py = backends.decode_records(buf, "python", **opts)
    c = backends.decode_records(buf, "c", **opts)
    return py, c


def _assert_same(buf, **opts):
    py, c = _both(buf, **opts)
    assert c.records.schema == schema.CORE
    assert py.records.schema == c.records.schema
    assert py.records.equals(c.records), _first_difference(py.records, c.records)
    assert py.errors == c.errors
    assert (py.records_seen, py.file_tokens) == (c.records_seen, c.file_tokens)
    return py, c


def _first_difference(a, b) -> str:
    if a.height != b.height:
        return f"heights differ: python {a.height}, c {b.height}"
    for name in a.columns:
        if not a[name].equals(b[name]):
            for i, (x, y) in enumerate(zip(a[name].to_list(), b[name].to_list())):
                if x != y:
                    return f"column {name} row {i}: python {x!r}, c {y!r}"
            return f"column {name} differs"
    return "frames differ"


# ---------------------------------------------------------------------------------------------
# (1) every file of the shared fixtures, with and without the header pre-checks

@needs_c
@needs_shared
@pytest.mark.parametrize("folder", FOLDERS)
def test_fixtures_identical(folder):
    files = _fixture_files(folder)
    assert files, f"no input files under {folder}"
    for path in files:
        buf = path.read_bytes()
        for opts in OPTION_SETS:
            try:
                _assert_same(buf, **opts)
            except AssertionError as exc:
                raise AssertionError(f"{path.relative_to(SHARED)} {opts}: {exc}") from None


@needs_c
@needs_shared
def test_fixture_frames_are_not_trivial():
    py, c = _assert_same((SHARED / "openbsm/trail/realistic.trail").read_bytes())
    assert c.records.height == 41 and c.file_tokens == 2
    for name in ("exec_argv", "exec_env", "args", "signing_id", "cdhash", "terminal_host",
                 "remote_address", "socket_path", "ip_address", "process_pid", "attr_mode"):
        assert c.records[name].null_count() < c.records.height, name


def _file_token(msec: int, name: bytes = b"") -> bytes:
    return tokens.encode("file", (1710493198, msec, name))


_REC = w.record(w.AUE_EXIT, [w.exit_token(3), w.subject(auid=501, pid=9), w.return32()], time=T0)
_MIN = tokens.encode("header32", (25, 11, 1, 0, 1, 2)) + tokens.encode("trailer", (0xB105, 25))
_H64 = tokens.encode("header64", (32, 11, 1, 0, 1, 2))[:25] + tokens.encode("trailer", (0xB105, 32))

FRAMING_CASES = {
    "file token found by resync (msec 999)": b"\x00" + _file_token(999) + _REC,
    "file token skipped by resync (msec 1000)": b"\x00" + _file_token(1000) + _REC,
    "file token at the very end": b"\x00" + _file_token(5, b"next\x00"),
    "file token before a bad record": b"\x00" + _file_token(5) + _REC[:-1] + b"\x00" + _REC,
    "truncated file token": _REC + b"\x11\x00\x00",
    "file token whose name runs past the end": _file_token(5, b"abc")[:-1],
    "smallest record": _MIN + _MIN,
    "size below 25": b"\x14\x00\x00\x00\x18" + _REC,
    "size past the end": b"\x14\xff\xff\xff\xff" + _REC,
    "4 bytes left": _REC + b"\x14\x00\x00\x00",
    "bad trailer magic": _REC[:-6] + b"\xb1\x06" + _REC[-4:] + _REC,
    "bad trailer size": _REC[:-1] + bytes([_REC[-1] ^ 1]) + _REC,
    "header64 too small for its header": _H64 + _REC,
    "header32_ex with address type 6": tokens.encode("header32_ex", (
        35, 11, 1, 0, (6, b""), 1, 2)) + w.return32() + tokens.encode("trailer", (0xB105, 35)),
    "header32_ex too small for its address": b"\x15" + struct.pack(">IBHHI", 25, 11, 1, 0, 16)
    + b"\0" * 4 + tokens.encode("trailer", (0xB105, 25)),
    "garbage only": b"\x00\x01\x02\x13\xb1\x05",
    "record inside garbage": b"\x14" + _REC + b"\x79\x00",
}


@needs_c
@pytest.mark.parametrize("name", sorted(FRAMING_CASES))
def test_framing_edge_cases(name):
    for opts in OPTION_SETS[:3]:
        _assert_same(FRAMING_CASES[name], **opts)


@needs_c
def test_window_edges():
    recs = b"".join(w.record(w.AUE_EXIT, [w.return32()], time=T0 + i / 1000) for i in range(5))
    ms = int(T0 * 1000)
    for since in (None, ms, ms + 1, ms + 4, ms + 5, ms + 1.5, -1, 1 << 70, -(1 << 70)):
        for until in (None, ms, ms + 2, ms + 2.5, 1 << 70, -(1 << 70)):
            py, c = _assert_same(recs, since_ms=since, until_ms=until)
    # header64 times out of range: never inside a window, null time otherwise
    far = [tokens.encode("header64", (33, 11, 1, 0, sec, msec))
           + tokens.encode("trailer", (0xB105, 33))
           for sec, msec in ((1 << 43, 0), ((1 << 43) - 1, 0xFFFFFFFF), (5, 1 << 32), (5, 7))]
    py, c = _assert_same(b"".join(far))
    # issue 10: msec above 999 or a year after 9999 is "bad time" (kept, time null), so the
    # second record (2**43 - 1 s, msec 2**32 - 1) is null too
    assert c.records["time"].null_count() == 3
    assert c.records["damage"].to_list() == ["bad time"] * 3 + [None]
    _assert_same(b"".join(far), since_ms=0)
    _assert_same(b"".join(far), events=frozenset({1.0, True, 2**70, -1, "1"}))


@needs_c
def test_buffer_kinds_and_empty_input():
    rec = w.record(w.AUE_EXIT, [w.exit_token(3), w.subject(auid=501, pid=9), w.return32()], time=T0)
    for buf in (rec, bytearray(rec), b""):
        _assert_same(buf)
    assert backends.decode_records(memoryview(rec), "c").records.equals(
        backends.decode_records(rec, "c").records)
    result = backends.decode_records(b"", "c")
    assert result.records.height == 0 and result.errors == [] and result.records_seen == 0


# ---------------------------------------------------------------------------------------------
# (2) random inputs: both backends equal, neither raises

@needs_c
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes(data):
    _assert_same(data)


def _load_samples() -> list[bytes]:
    samples = []
    for rel in ("openbsm/trail/realistic.trail", "openbsm/trail/second.trail",
                "real/plaso-apple.bsm", "real/openbsm-execve-long-args.trail",
                "real/macos-bunnymech-bind-listen-socket.bsm",
                "real/openbsm-parser-20211014132440.20211014133815",
                "openbsm/records/header32_ex_record", "openbsm/records/socket_ex_record"):
        path = SHARED / rel
        if path.is_file():
            samples.append(path.read_bytes())
    # the project's own: exec records cut by the kernel, identity, IPv6
    samples.append(w.record(w.AUE_EXECVE, [
        w.exec_args(["sh", "-c", "/x y"], count=4000), w.exec_env(["A=1", "B=2"]),
        w.path("/bin/sh"), w.attr(0o100755), w.cdhash_data(bytes(range(20))),
        w.subject(auid=501, pid=77, asid=100001), w.return32(),
        w.identity("com.apple.sh", "TEAM", bytes(range(20)), platform=True)], time=T0))
    # hostile shapes (issue 10): a planted subject in argument bytes, times out of range
    samples.append(adversarial.planted_subject())
    samples.append(adversarial.planted_subject(env_count=3))
    samples.append(adversarial.out_of_range_times())
    samples.append(w.record(w.AUE_CONNECT, [
        w.arg(1, 5, "fd"), w.sockinet("2001:db8::1", 443), w.subject(auid=501, host="fe80::1"),
        w.return32(36, -1)], time=T0, header="header32_ex", host="::ffff:10.0.0.1"))
    return samples


SAMPLES = _load_samples()


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 5))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "ffffffff", "ffff",
                                     "count", "count", "byte"]))
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[i] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[i:]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[i:i + draw(st.integers(1, 8))]
        elif kind == "ffffffff":
            data[i:i + 4] = b"\xff\xff\xff\xff"
        elif kind == "ffff":
            data[i:i + 2] = b"\xff\xff"
        else:  # an exec_args / exec_env count running past the record
            spots = [j for j, b in enumerate(data) if b in (0x3C, 0x3D) and j + 5 <= len(data)]
            if spots:
                j = draw(st.sampled_from(spots))
                count = draw(st.sampled_from([0, 1, 2, 3, 7, 100, 1 << 20, (1 << 20) + 1,
                                              0xFFFFFFFF]))
                data[j + 1:j + 5] = struct.pack(">I", count)
    return bytes(data)


@needs_c
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_fixtures(data):
    _assert_same(data)
    _assert_same(data, since_ms=MS0, until_ms=MS0 + 2000, events=frozenset({23, 45021}))


# random token soups built from the token table itself: every layout, with random values

_U = {"u8": st.integers(0, 0xFF), "u16": st.integers(0, 0xFFFF),
      "u32": st.one_of(st.integers(0, 0xFFFFFFFF), st.sampled_from([0, 0xFFFFFFFF, 0x80000000])),
      "u64": st.one_of(st.integers(0, (1 << 64) - 1), st.sampled_from([0, (1 << 64) - 1, 1 << 63]))}
_TEXT = st.one_of(
    st.binary(max_size=24),
    st.lists(st.sampled_from([b"a", b"/", b"\x00", b"\xc3\xa9", b"\xee\xbe\x80", b"\xee\xbf\xbf",
                              b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf0\x9f\x98\x80", b"\xff",
                              b"\xe2\x82", b"\xc0\xaf", b"\x80"]), max_size=8).map(b"".join),
)
_NONUL = st.binary(max_size=16).map(lambda b: b.replace(b"\0", b"x"))
_IP4 = st.binary(min_size=4, max_size=4)
_IP6 = st.one_of(
    st.binary(min_size=16, max_size=16),
    st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8, 0x2001, 0xFE80]), min_size=8, max_size=8)
    .map(lambda g: struct.pack(">8H", *g)),
    _IP4.map(lambda a: b"\0" * 10 + b"\xff\xff" + a),
)
_TADDR = st.one_of(_IP4.map(lambda a: (4, a)), _IP6.map(lambda a: (16, a)))


@st.composite
def _strings_value(draw):
    strings = draw(st.lists(_NONUL, max_size=5))
    count = draw(st.one_of(st.just(len(strings)), st.integers(0, 8),
                           st.sampled_from([1 << 20, (1 << 20) + 1, 0xFFFFFFFF])))
    return (count, strings)


@st.composite
def _data_value(draw):
    unit = draw(st.sampled_from([0, 0, 1, 2, 3]))
    count = draw(st.sampled_from([20, 0, 1, 3, 20, 255]))
    size = tokens.DATA_UNIT_SIZES[unit] * count
    return (draw(_U["u8"]), unit, count, draw(st.binary(min_size=size, max_size=size)))


@st.composite
def _sockex_value(draw):
    atype, laddr = draw(_TADDR)
    raddr = draw(_IP4 if atype == 4 else _IP6)
    return (atype, draw(_U["u16"]), laddr, draw(_U["u16"]), raddr)


_LENIENT = st.one_of(_TADDR, _U["u32"].filter(lambda t: t not in (4, 16)).map(lambda t: (t, b"")))
_KINDS = {**_U, "str": _TEXT, "opaque": st.binary(max_size=24), "ip4": _IP4, "ip16": _IP6,
          "uuid": st.binary(min_size=16, max_size=16), "taddr": _TADDR, "taddr_lenient": _LENIENT,
          "strings": _strings_value(), "gids": st.lists(_U["u32"], max_size=4), "cstr": _NONUL,
          "data": _data_value(), "sockex": _sockex_value()}
_FAMILY = {"u16": st.sampled_from([2, 26, 1, 30, 0xFFFF])}


def _token_strategy(spec: tokens.TokenSpec):
    fields = []
    for name, kind in spec.fields:
        if spec.id == 0x7F and name == "domain":
            fields.append(_FAMILY["u16"])
        else:
            fields.append(_KINDS[kind])
    return st.tuples(*fields).map(lambda values, sid=spec.id: tokens.encode(sid, values))


_BODY_TOKENS = [spec for tid, spec in tokens.TOKENS.items() if tid not in tokens.HEADER_IDS]
_TOKEN = st.one_of(
    st.one_of(*[_token_strategy(spec) for spec in _BODY_TOKENS]),
    st.sampled_from([0x3C, 0x3D]).map(lambda t: bytes([t]) + b"\x00\x00\x00\x02"),  # bare counts
    st.binary(min_size=1, max_size=6),                                              # junk
)


@st.composite
def soup_record(draw):
    kind = draw(st.sampled_from(["header32", "header32_ex", "header64", "header64_ex"]))
    event = draw(st.one_of(st.sampled_from([23, 34, 72, 43190, 45000]), _U["u16"]))
    sec = draw(st.one_of(st.integers(1710493190, 1710493210), _U["u32"]))
    msec = draw(st.one_of(st.integers(0, 999), _U["u32"]))
    if kind.startswith("header64"):
        sec = draw(st.one_of(st.just(sec),
                             st.sampled_from([1 << 43, (1 << 43) - 1, (1 << 64) - 1])))
        msec = draw(st.one_of(st.just(msec), st.sampled_from([1 << 32, (1 << 64) - 1])))
    body = b"".join(draw(st.lists(_TOKEN, max_size=10)))
    host = draw(_LENIENT) if kind.endswith("_ex") else None
    head_len = {"header32": 18, "header64": 26}.get(kind) or \
        (22 if kind == "header32_ex" else 30) + len(host[1])
    size = head_len + len(body) + 7
    values = (size, 11, event, 0) + ((host,) if host else ()) + (sec, msec)
    return tokens.encode(kind, values) + body + tokens.encode("trailer", (0xB105, size))


@st.composite
def soup_trail(draw):
    parts = draw(st.lists(st.one_of(soup_record(), soup_record(), soup_record(),
                                    st.just(w.file_token(T0, "x")), st.binary(max_size=6)),
                          min_size=1, max_size=6))
    data = bytearray(b"".join(parts))
    if data and draw(st.booleans()):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return bytes(data)


@needs_c
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soup_trail())
def test_token_soups(data):
    _assert_same(data)
    _assert_same(data, since_ms=MS0, until_ms=MS0 + 10_000)
    _assert_same(data, events=frozenset({23, 34}))


# the exec_args cut search, directly

@st.composite
def cut_records(draw):
    argv = draw(st.lists(st.one_of(_NONUL, st.sampled_from([b"#", b"$x", b"'", b"=", b">", b"s",
                                                            b"u", b"z", b"|", b"r", b"!"])),
                         min_size=0, max_size=6))
    count = draw(st.one_of(st.just(len(argv)), st.integers(len(argv), len(argv) + 4000),
                           st.sampled_from([0xFFFFFFFF, 1 << 20, (1 << 20) + 1])))
    toks = [w.exec_args(argv, count)]
    if draw(st.booleans()):
        env = draw(st.lists(_NONUL, max_size=3))
        toks.append(w.exec_env(env, draw(st.one_of(st.just(len(env)), st.integers(0, 9)))))
    toks += draw(st.lists(st.sampled_from([
        w.path("/bin/sh"), w.attr(0o100755), w.cdhash_data(bytes(20)), w.subject(auid=501),
        w.return32(), w.identity("id", "t", b"\x01" * 20), b"\x99", b"\x00\x00", b"\x27\x00"]),
        max_size=6))
    return w.record(w.AUE_EXECVE, toks, time=T0)


@needs_c
@settings(max_examples=400, deadline=None)
@given(st.lists(cut_records(), min_size=1, max_size=3).map(b"".join))
def test_exec_cut_search(data):
    _assert_same(data)


@needs_c
def test_many_exec_tokens_in_one_record():
    """Deep nesting of exec_args tokens: the C walk is iterative and memoised."""
    import sys
    def body(n):
        # each exec_env claims 2 strings but holds 1: the cut before the next exec_env wins
        return w.exec_args(["a"], 2) + w.exec_env(["b"], 2) * n + w.return32()

    rec = w.record(w.AUE_EXECVE, [body(300)], time=T0)
    assert backends.decode_records(rec, "python").records["exec_env"].to_list() == [["b"]]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 5000))
    try:
        _assert_same(rec)
    finally:
        sys.setrecursionlimit(old)
    # far past the Python decoder's recursion limit: the C core still answers
    result = backends.decode_records(w.record(w.AUE_EXECVE, [body(20000)], time=T0), "c")
    assert result.errors == []
    row = result.records.row(0, named=True)
    assert (row["token_count"], row["exec_argv"], row["exec_env"]) == (20004, ["a"], ["b"])


def _branching_level(m: int = 3) -> bytes:
    """An exec_args token with m cuts that each parse (as one path token) exactly up to the
    next level: without memoisation every level multiplies the work by about m."""
    strings = b"".join(b"#" + struct.pack(">H", 0x0101 + 4 * (m - 1 - j)) + b"\0" for j in range(m))
    tok = b"\x3c" + struct.pack(">I", 1000) + strings
    return tok + b"A" * (8 + 4 * (m - 1) + 0x0101 - len(tok))


@needs_c
def test_exec_cut_search_is_not_exponential():
    rec = w.record(w.AUE_EXECVE, [_branching_level() * 6 + b"\x99"], time=T0)
    _assert_same(rec)
    rec = w.record(w.AUE_EXECVE, [_branching_level() * 60 + b"\x99"], time=T0)
    start = time.perf_counter()
    result = backends.decode_records(rec, "c")
    assert time.perf_counter() - start < 2.0
    assert result.records.height == 1 and result.errors[0][2] == "unknown token"


@needs_c
def test_every_token_id():
    """Known and unknown ids, and each id after a cut exec_args token (EXEC_FOLLOWERS)."""
    for tid in range(256):
        _assert_same(w.record(w.AUE_OPEN_R, [bytes([tid]) + b"\x00" * 40], time=T0))
        _assert_same(w.record(w.AUE_OPEN_R, [bytes([tid]) + b"\x01" * 60], time=T0))
        cut = w.exec_args(["a", "b"], 3) + bytes([tid]) + b"\x00" * 40
        _assert_same(w.record(w.AUE_EXECVE, [cut], time=T0))


@needs_c
def test_token_count_saturates():
    """More than 65535 tokens in one record: token_count (UInt16) saturates in C."""
    rec = w.record(w.AUE_OPEN_R, [b"\x2c\x00\x50" * 70000], time=T0)
    result = backends.decode_records(rec, "c")
    assert result.records["token_count"].to_list() == [65535]


# ---------------------------------------------------------------------------------------------
# (3) the text mapping

_UTF8_PIECES = st.sampled_from([
    b"a", b"\x00", b"\x7f", b"\x80", b"\xbf", b"\xc0", b"\xc1\xbf", b"\xc2\x80", b"\xdf\xbf",
    b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xe0\xa0\x80", b"\xed\x9f\xbf", b"\xed\xa0\x80",
    b"\xed\xbf\xbf", b"\xee\x80\x80", b"\xee\xbd\xbf", b"\xee\xbe\x80", b"\xee\xbf\xbf",
    b"\xef\x80\x80", b"\xef\xbf\xbf", b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xfe", b"\xe2\x82", b"\xf0\x9f\x98",
    b"\xe2", b"\xf0", b"\xee", b"\xee\xbe",
])


@needs_c
@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.binary(max_size=64), st.lists(_UTF8_PIECES, max_size=12).map(b"".join)))
def test_text_mapping_matches_python(data):
    from forensics.bsm import cdecode
    assert cdecode.text_map(data) == text.decode_bytes(data)


@needs_c
def test_text_mapping_every_two_and_three_byte_prefix():
    from forensics.bsm import cdecode
    for a in range(0x80, 0x100):
        for b in range(0x70, 0x100, 3):
            data = bytes((a, b, 0x80, 0xBF))
            assert cdecode.text_map(data) == text.decode_bytes(data), data


# ---------------------------------------------------------------------------------------------
# (4) backend selection

def test_unknown_backend_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("KNOX_REPORT_BACKEND", "fortran")
    with pytest.raises(backends.BackendError) as info:
        backends.choose()
    assert "c" in str(info.value) and "python" in str(info.value)
    with pytest.raises(backends.BackendError):
        backends.decode_records(b"", None)


def test_backend_from_environment(monkeypatch):
    monkeypatch.setenv("KNOX_REPORT_BACKEND", "python")
    assert backends.choose() == "python"
    monkeypatch.setenv("KNOX_REPORT_BACKEND", " Python ")
    assert backends.choose() == "python"
    monkeypatch.delenv("KNOX_REPORT_BACKEND")
    assert backends.choose() == ("c" if backends.c_available() else "python")
    monkeypatch.setenv("KNOX_REPORT_BACKEND", "c")
    if backends.c_available():
        assert backends.choose() == "c"
    else:
        with pytest.raises(backends.BackendError):
            backends.choose()


# ---------------------------------------------------------------------------------------------
# (5) memory checking: the C core under valgrind, over mutated inputs

def _valgrind_inputs(folder: Path) -> list[Path]:
    rng = random.Random(1234)
    bases = list(SAMPLES)
    for rel in ("openbsm/trail/crash-truncated.trail",
                "openbsm/trail/garbage-between-records.trail",
                "openbsm/trail/starts-mid-record.trail", "real/plaso-openbsm.bsm"):
        if (SHARED / rel).is_file():
            bases.append((SHARED / rel).read_bytes())
    bases.append(w.record(w.AUE_EXECVE, [w.exec_args(["a"], 3) * 200 + b"\x99"], time=T0))
    bases.append(w.record(w.AUE_EXECVE, [_branching_level() * 12 + b"\x99"], time=T0))
    bases.append(w.record(w.AUE_EXECVE, [
        w.exec_args(["a"], 2) + w.exec_env(["b"], 2) * 300 + w.return32()], time=T0))
    # hostile shapes (issue 10): the cut search over a whole record, guesses, bad times
    bases += [adversarial.planted_subject(), adversarial.planted_subject(env_count=3),
              adversarial.cut_search_bomb(3000), adversarial.out_of_range_times(),
              adversarial.bad_size_run(2000)]
    out = []
    for i in range(160):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(0, 6)):
            if not data:
                break
            j = rng.randrange(len(data))
            op = rng.randrange(6)
            if op == 0:
                data[j] = rng.randrange(256)
            elif op == 1:
                del data[j:]
            elif op == 2:
                data[j:j + 4] = b"\xff\xff\xff\xff"
            elif op == 3:
                data[j:j] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
            elif op == 4 and data[j] in (0x3C, 0x3D) and j + 5 <= len(data):
                data[j + 1:j + 5] = struct.pack(">I", rng.choice([7, 1 << 20, 0xFFFFFFFF]))
            else:
                data[j:j + 2] = b"\xff\xff"
        path = folder / f"in{i:03d}.bin"
        path.write_bytes(bytes(data))
        out.append(path)
    # single records damaged inside the body only (framing intact): a token that reads past
    # its record would read past the end of the buffer, which valgrind reports
    records = [bytes(b[i.offset:i.offset + i.length]) for b in bases for i in decode.frame(b)
               if i.kind == "record"]
    for i in range(240):
        data = bytearray(rng.choice(records))
        for _ in range(rng.randint(1, 3)):
            j = rng.randrange(18, len(data) - 7)
            op = rng.randrange(4)
            if op == 0:
                data[j] = rng.randrange(256)
            elif op == 1:
                data[j:j + 2] = b"\xff\xff"
            elif op == 2:
                data[j:j + 4] = b"\xff\xff\xff\xff"
            else:
                data[j:j + 2] = struct.pack(">H", rng.randrange(64))
            del data[len(data) - 7:]
            data.extend(tokens.encode("trailer", (0xB105, len(data) + 7)))
            data[1:5] = struct.pack(">I", len(data))
        path = folder / f"rec{i:03d}.bin"
        path.write_bytes(bytes(data))
        out.append(path)
    empty = folder / "empty.bin"
    empty.write_bytes(b"")
    out.append(empty)
    return out


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(shutil.which(os.environ.get("CC", "gcc")) is None, reason="no C compiler")
def test_c_core_under_valgrind(tmp_path):
    cc = os.environ.get("CC", "gcc")
    inputs = _valgrind_inputs(tmp_path)
    # the second build's data blocks hold 64 bytes: views across many blocks, and strings longer
    # than a block in blocks of their own
    for name, flags in (("bsm_harness", []), ("bsm_harness_blocks", ["-DBSM_BLOCK_MAX=64"])):
        exe = tmp_path / name
        # _DEFAULT_SOURCE: the build the C core gets (madvise's prefaulting included)
        subprocess.run([cc, "-std=c99", "-D_DEFAULT_SOURCE", *flags, "-g", "-O1", "-Wall",
                        f"-I{CSRC}", str(ROOT / "tests" / "bsm" / "bsm_harness.c"),
                        *(str(CSRC / f) for f in ("bsm.c", "columns.c", "concat.c")),
                        "-o", str(exe)],
                       check=True, capture_output=True, text=True)
        proc = subprocess.run(["valgrind", "--error-exitcode=1", "--leak-check=full",
                               "--errors-for-leak-kinds=definite,indirect", "--quiet", str(exe),
                               *map(str, inputs)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
