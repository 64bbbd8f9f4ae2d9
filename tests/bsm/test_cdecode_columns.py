"""The C core's output: column projection, Polars' own layout, and one buffer on two cores.

- ``columns=``: both backends give exactly the columns asked for, in ``schema.CORE`` order, with
  the values of the full frame; unknown names are a ValueError naming them.
- The C frame is written as Polars keeps it (string views, validity bits): its dtypes are
  ``schema.CORE``'s and strings on both sides of the 12-byte inline limit read back intact.
- A large buffer decoded in two halves at once gives byte for byte what one pass gives: rows,
  errors, records_seen and file_tokens, also when the middle's candidate record is a fake one
  inside an exec argument.
- A long string a column's data block already holds is not written again (views share its
  bytes): values stay exactly the Python decoder's whatever the block size or table size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from forensics import schema
from forensics.bsm import backends
from forensics.bsm import writer as w

from .test_backends import CSRC, FOLDERS, ROOT, SHARED, T0, _fixture_files, _first_difference

needs_c = pytest.mark.skipif(not backends.c_available(),
                             reason="the C core (forensics._cbsm) is not built in this environment")
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/fixtures is absent (reference trails not available)")

#: the report's columns (the issue's projection), lists and args included
REPORT = ["offset", "time", "event", "pid", "auid", "euid", "egid", "ruid", "rgid", "asid",
          "success", "return_value", "args", "paths", "exec_argv", "exec_cdhash", "exit_status",
          "text", "attr_uid", "signing_id", "terminal_port", "terminal_host"]
PROJECTIONS = [
    ["offset"],
    ["args"],
    ["paths", "exec_argv", "exec_env", "text"],
    REPORT,
    ["damage", "success", "time", "host", "signing_id_truncated", "cdhash"],
    list(reversed(REPORT)),
]


def _same(a, b):
    assert a.records.schema == b.records.schema
    assert a.records.equals(b.records), _first_difference(a.records, b.records)
    assert a.errors == b.errors
    assert (a.records_seen, a.file_tokens) == (b.records_seen, b.file_tokens)


# ---------------------------------------------------------------------------------------------
# (1) projection

@needs_c
@needs_shared
@pytest.mark.parametrize("folder", FOLDERS)
def test_projection_identical_on_both_backends(folder):
    files = _fixture_files(folder)
    assert files, f"no input files under {folder}"
    for path in files:
        buf = path.read_bytes()
        full = backends.decode_records(buf, "c")
        for columns in PROJECTIONS:
            names = [n for n in schema.CORE.names() if n in columns]
            py = backends.decode_records(buf, "python", columns=columns)
            c = backends.decode_records(buf, "c", columns=columns)
            where = f"{path.relative_to(SHARED)} {columns}"
            assert c.records.columns == names, where
            assert c.records.schema == schema.CORE.__class__(
                [(n, schema.CORE[n]) for n in names]), where
            try:
                _same(py, c)
                assert c.records.equals(full.records.select(names))
            except AssertionError as exc:
                raise AssertionError(f"{where}: {exc}") from None
            assert c.errors == full.errors and c.records_seen == full.records_seen


@needs_c
def test_projection_with_prechecks_and_empty_projection():
    recs = b"".join(w.record(w.AUE_EXIT, [w.exit_token(i), w.text(f"t{i}" * i),
                                          w.subject(auid=501, pid=i), w.return32()],
                             time=T0 + i) for i in range(20))
    ms = int(T0 * 1000)
    for opts in ({}, {"since_ms": ms + 3000, "until_ms": ms + 9000},
                 {"events": frozenset({w.AUE_EXIT})}, {"events": frozenset()}):
        for columns in ([], ["text"], ["pid", "exit_status", "time"]):
            py = backends.decode_records(recs, "python", columns=columns, **opts)
            c = backends.decode_records(recs, "c", columns=columns, **opts)
            _same(py, c)
            assert c.records.columns == [n for n in schema.CORE.names() if n in columns]


@pytest.mark.parametrize("backend", ["python", pytest.param("c", marks=needs_c)])
def test_unknown_columns_are_named(backend):
    rec = w.record(w.AUE_EXIT, [w.return32()], time=T0)
    with pytest.raises(ValueError, match="bogus.*nope|nope.*bogus"):
        backends.decode_records(rec, backend, columns=["offset", "nope", "bogus"])
    with pytest.raises(ValueError, match="source"):      # a derived column, not a core one
        backends.decode_records(rec, backend, columns=["source"])


# ---------------------------------------------------------------------------------------------
# (2) Polars' own layout

@needs_c
def test_strings_around_the_inline_limit():
    """Views hold up to 12 bytes inline and longer strings in data blocks: every length near
    the limit, in every kind of string column, reads back as the Python decoder gives it."""
    toks = []
    for n in (0, 1, 4, 11, 12, 13, 14, 40, 300):
        s = ("é" + "x" * n)[:n] if n else ""
        toks += [w.path("/" + s), w.text(s), w.arg(1, n, s)]
    argv = ["a" * n for n in (0, 3, 12, 13, 100)]
    rec = w.record(w.AUE_EXECVE, [w.exec_args(argv), w.exec_env(["X=" + "y" * 11, "Z=" * 9]),
                                  *toks, w.subject(auid=501, host="fe80::1"),
                                  w.identity("com.example." + "i" * 12, "T" * 12, bytes(20)),
                                  w.return32()], time=T0)
    py = backends.decode_records(rec * 3, "python")
    c = backends.decode_records(rec * 3, "c")
    _same(py, c)
    assert c.records.schema == schema.CORE
    assert c.records["exec_argv"][0].to_list() == argv


@needs_c
def test_frame_has_core_dtypes_without_conversion():
    """Polars adopts the C buffers as they are: the frame's dtypes are exactly CORE's and its
    string columns are one chunk of views (nothing to rechunk or convert)."""
    recs = b"".join(w.record(w.AUE_OPEN_R, [w.path(f"/tmp/some/longer/path/{i}"), w.return32()],
                             time=T0 + i) for i in range(1000))
    frame = backends.decode_records(recs, "c").records
    assert frame.schema == schema.CORE
    assert frame.n_chunks("all") == [1] * len(schema.CORE)
    assert frame["paths"].list.first().str.len_bytes().to_list()[:2] == [23, 23]


# ---------------------------------------------------------------------------------------------
# (3) one buffer on two cores

@pytest.fixture
def split_everything(monkeypatch):
    """Every buffer is cut in two (as a large one is on a machine with two cores)."""
    from forensics.bsm import cdecode
    monkeypatch.setattr(cdecode, "SPLIT_MIN", 0)
    monkeypatch.setattr(cdecode, "_CORES", 2)
    return cdecode


def _single(cdecode, buf, **opts):
    old = cdecode.SPLIT_MIN
    cdecode.SPLIT_MIN = 1 << 62
    try:
        return cdecode.decode(buf, **opts)
    finally:
        cdecode.SPLIT_MIN = old


@needs_c
@needs_shared
@pytest.mark.parametrize("folder", FOLDERS)
def test_halves_equal_one_pass_on_fixtures(folder, split_everything):
    cdecode = split_everything
    for path in _fixture_files(folder):
        buf = path.read_bytes()
        for opts in ({}, {"since_ms": 1710493199000, "until_ms": 1710493300000},
                     {"events": frozenset({23, 72, 45000})}, {"columns": REPORT}):
            try:
                _same(cdecode.decode(buf, **opts), _single(cdecode, buf, **opts))
            except AssertionError as exc:
                raise AssertionError(f"{path.relative_to(SHARED)} {opts}: {exc}") from None


def _fake_in_the_middle() -> tuple[bytes, int, int]:
    """A trail whose middle falls inside an exec argument that holds a whole valid record:
    the resync rule's candidate there is that fake record, not a real boundary."""
    fake = w.record(w.AUE_EXIT, [w.return32()], time=T0)
    pieces = fake.split(b"\0")          # the fake's NULs end exec strings
    argv = [b"A" * 3000, *pieces, b"tail"]
    exec_rec = w.record(w.AUE_EXECVE, [w.exec_args(argv), w.subject(auid=501, pid=7),
                                       w.return32()], time=T0)
    small = b"".join(w.record(w.AUE_EXIT, [w.exit_token(i), w.return32()], time=T0 + i)
                     for i in range(40))
    trail = small + exec_rec + small
    return trail, len(small), len(small) + len(exec_rec)


@needs_c
def test_halves_equal_one_pass_when_the_middle_is_a_fake_record(split_everything):
    cdecode = split_everything
    trail, start, end = _fake_in_the_middle()
    src = cdecode.ffi.from_buffer("uint8_t[]", trail)
    mid = int(cdecode.lib.bsm_resync(src, len(trail) // 2, len(trail)))
    assert start < mid < end                        # the cut candidate lies inside the record
    split = cdecode.decode(trail)
    _same(split, _single(cdecode, trail))
    _same(split, backends.decode_records(trail, "python"))
    assert split.records.height == 81 and split.errors == []
    assert split.records["offset"].to_list().count(start) == 1


def _generated(name: str) -> bytes:
    """The benchmark shapes at a test's size, made by the project's own writers."""
    from forensics.testing import hostile
    if name == "demo":
        return b"".join(p.read_bytes() for p in sorted((ROOT / "tests" / "fixtures" / "demo")
                                                       .iterdir()))
    if name == "resync":
        return hostile.wrong_sizes(20_000)
    if name == "exec cut":
        return hostile.good_trail() + hostile.big_exec_args(400_000) + hostile.good_trail()
    return hostile.helper_join(4_000)


@needs_c
@pytest.mark.parametrize("name", ["demo", "resync", "exec cut", "helper join"])
def test_halves_equal_one_pass_on_the_benchmark_shapes(name, split_everything):
    cdecode = split_everything
    buf = _generated(name)
    _same(cdecode.decode(buf), _single(cdecode, buf))
    _same(cdecode.decode(buf, columns=REPORT), _single(cdecode, buf, columns=REPORT))
    _same(cdecode.decode(buf), backends.decode_records(buf, "python"))


# ---------------------------------------------------------------------------------------------
# (4) each long string once per data block

#: repeated strings on both sides of the inline limit and of the partial hash (HASH_ALL, 256)
LENGTHS = (13, 16, 100, 300, 5000)


def _long(n: int, tag: str) -> str:
    """An ASCII string of n bytes (its text is itself) starting with tag."""
    return (tag + "-" + "abcdefghij" * (n // 10 + 1))[:n]


def _repeating(rows: int) -> tuple[bytes, dict[str, int]]:
    """A trail whose every record repeats the same long strings in string columns and list
    children (and short ones), and the bytes of the distinct long strings each column holds
    (a handful per column: they do not share a slot of the table)."""
    recs = []
    for i in range(rows):
        argv = [_long(n, "argv") for n in LENGTHS] + ["ls", f"-{i}"]
        env = [_long(n, "ENV") for n in LENGTHS] + ["A=b"]
        toks = [w.path(_long(n, "/path")) for n in LENGTHS] + [w.path(f"/tmp/{i}")]
        toks += [w.text(_long(n, "text")) for n in LENGTHS]
        toks += [w.arg(k + 1, i, _long(n, "arg")) for k, n in enumerate(LENGTHS)]
        recs.append(w.record(w.AUE_EXECVE, [
            w.exec_args(argv), w.exec_env(env), *toks,
            w.subject(auid=501, pid=i, host="fe80::1234:5678:9abc:def0"),
            w.identity("com.example." + "s" * (i % 2) * 20, "TEAMIDENTIFIER", bytes(range(20))),
            w.cdhash_data(bytes(range(20, 40))), w.zonename(_long(40, "zone")),
            w.return32()], time=T0 + i))
    distinct = sum(LENGTHS)
    expected = {"exec_argv": distinct, "exec_env": distinct, "paths": distinct,
                "text": distinct, "args": distinct,
                "terminal_host": len("fe80::1234:5678:9abc:def0"),
                # "com.example." alone is 12 bytes: inline, not in the block
                "signing_id": len("com.example.") + 20,
                "team_id": len("TEAMIDENTIFIER"), "cdhash": 40, "exec_cdhash": 40,
                "zonename": 40}
    return b"".join(recs), expected


def _data_bytes(res) -> dict[str, int]:
    """The bytes in the data blocks of each selected string or list column of a C result."""
    from forensics.bsm import cdecode
    ffi, lib = cdecode.ffi, cdecode.lib
    out = {}
    for i in range(res.ncols):
        col = res.cols[i]
        if col.selected and col.kind not in (lib.BSM_FIXED, lib.BSM_BOOL):
            out[ffi.string(col.name).decode()] = sum(int(col.block_len[b])
                                                     for b in range(col.nblocks))
    return out


def _c_data_bytes(buf: bytes, halves: bool = False) -> dict[str, int]:
    from forensics.bsm import cdecode
    ffi, lib = cdecode.ffi, cdecode.lib
    src = ffi.from_buffer("uint8_t[]", buf)
    if not halves:
        res = lib.bsm_decode(src, len(buf), ffi.NULL)
    else:
        opts = ffi.new("bsm_options *")
        opts.keep_capacity = 1
        mid = int(lib.bsm_resync(src, len(buf) // 2, len(buf)))
        res = lib.bsm_decode_range(src, len(buf), 0, mid, opts)
        second = lib.bsm_decode_range(src, len(buf), res.stopped, len(buf), opts)
        assert lib.bsm_concat(res, second) == 0
    try:
        return _data_bytes(res)
    finally:
        lib.bsm_free(res)


@needs_c
def test_repeated_long_strings_are_written_once(split_everything):
    """The same long string in row after row (a column) or child after child (a list) is
    written once into the data block and every view points at that copy: the values are
    exactly the Python decoder's, and each column's block holds each distinct string once."""
    trail, expected = _repeating(60)
    py = backends.decode_records(trail, "python")
    _same(py, _single(split_everything, trail))
    _same(py, split_everything.decode(trail))           # two halves, joined
    assert py.records["exec_argv"][3].to_list()[:5] == [_long(n, "argv") for n in LENGTHS]
    data = _c_data_bytes(trail)
    assert {k: data[k] for k in expected} == expected
    naive = 60 * sum(LENGTHS)
    assert data["paths"] < naive / 20 and data["args"] < naive / 50
    # two halves: each keeps its own copy, the joined views point into both
    joined = _c_data_bytes(trail, halves=True)
    assert {k: joined[k] for k in ("exec_env", "text", "args", "team_id")} == {
        k: 2 * expected[k] for k in ("exec_env", "text", "args", "team_id")}


@needs_c
def test_strings_sharing_table_slots(split_everything):
    """Far more distinct strings than the table has slots (4096), in an order that makes them
    evict each other, long strings equal at every sampled place but one byte in the middle,
    and strings equal but for their length: every value stays exactly the Python decoder's."""
    import random
    rng = random.Random(11)
    names = [f"/Users/someone/Library/{i:05d}" for i in range(9000)]
    order = names + rng.sample(names, len(names)) + names[::-1]
    middle = []
    for i in range(40):                 # 1000 bytes, differing only at byte 140 (not hashed)
        s = bytearray(_long(1000, "long").encode())
        s[140] = ord("A") + i % 26
        s[141] = ord("a") + i // 26
        middle.append(s.decode())
    prefixes = [_long(n, "same") for n in range(13, 60)]
    recs = []
    for i in range(0, len(order), 4):
        recs.append(w.record(w.AUE_OPEN_R, [
            *[w.path(p) for p in order[i:i + 4]], w.text(middle[i % 40]),
            w.text(middle[(i * 7) % 40]), w.text(prefixes[i % len(prefixes)]),
            w.identity(order[i], "", b""), w.subject(auid=501, pid=i), w.return32()],
            time=T0 + i))
    trail = b"".join(recs)
    py = backends.decode_records(trail, "python")
    _same(py, _single(split_everything, trail))
    _same(py, split_everything.decode(trail))
    assert py.records["paths"].list.len().sum() == len(order)
    data = _c_data_bytes(trail)
    assert data["text"] >= 40 * 1000 + sum(range(13, 60))      # none lost, none confused
    assert data["paths"] < sum(map(len, order))                # some shared all the same


def _harness(tmp_path, name: str, flags: list[str]) -> Path:
    cc = os.environ.get("CC", "gcc")
    exe = tmp_path / name
    subprocess.run([cc, "-std=c99", "-D_DEFAULT_SOURCE", *flags, "-g", "-O1", "-Wall",
                    f"-I{CSRC}", str(ROOT / "tests" / "bsm" / "bsm_harness.c"),
                    *(str(CSRC / f) for f in ("bsm.c", "columns.c", "concat.c")),
                    "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    return exe


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "gcc")) is None, reason="no C compiler")
def test_values_do_not_depend_on_block_size_or_table_size(tmp_path):
    """The C core built with 64- or 300-byte data blocks (strings roll over into new blocks,
    and the table of strings seen starts empty in each) and with a table of 2 slots (every
    long string evicts another) gives every string and list column the same values as the
    normal build, in every decoding the harness runs (full, windowed, projected, halves)."""
    trail, _ = _repeating(30)
    inputs = [tmp_path / "repeating.trail", tmp_path / "slots.trail"]
    inputs[0].write_bytes(trail)
    inputs[1].write_bytes(b"".join(
        w.record(w.AUE_OPEN_R, [w.path(f"/Users/someone/Library/{i % 700:05d}"),
                                w.text(_long(20 + i % 50, "t")), w.return32()], time=T0 + i)
        for i in range(3000)))
    if (SHARED / "real").is_dir():
        inputs += sorted(p for p in (SHARED / "real").iterdir() if p.is_file()
                         and not p.name.endswith(".md"))
    builds = {"normal": [], "blocks": ["-DBSM_BLOCK_MAX=64"],
              "slots": ["-DBSM_SEEN_BITS=1", "-DBSM_BLOCK_MAX=300"]}
    outputs = {}
    for name, flags in builds.items():
        exe = _harness(tmp_path, name, flags)
        cmd = [str(exe), "-d", *map(str, inputs)]
        if name == "slots" and shutil.which("valgrind"):
            cmd = ["valgrind", "--error-exitcode=1", "--leak-check=full",
                   "--errors-for-leak-kinds=definite,indirect", "--quiet", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        outputs[name] = proc.stdout
    assert outputs["normal"].count("\n") >= 5 * 19 * 2
    assert outputs["blocks"] == outputs["normal"]
    assert outputs["slots"] == outputs["normal"]
