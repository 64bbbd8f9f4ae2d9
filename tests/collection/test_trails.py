"""Tests for forensics.trails: finding and opening trails in files, folders and archives."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import struct
import tarfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import zstandard

from forensics.collection.trails import (
    CollectionError,
    Skipped,
    TrailFile,
    TrailReadError,
    collect,
    in_window,
    parse_name,
    read_all,
)

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
AUDITDIR = FIXTURES / "openbsm" / "auditdir"

UTC = timezone.utc

# Trail names used throughout, in time order.
T1 = "20240314120000.crash_recovery"
T2 = "20240315085958.20240317091016"
T3 = "20240318085958.not_terminated"


def record(sec: int = 1710493198, event: int = 1) -> bytes:
    """One minimal BSM record: header32 (version 11) + trailer."""
    size = 18 + 7
    head = b"\x14" + struct.pack(">IBHHII", size, 11, event, 0, sec, 0)
    return head + b"\x13\xb1\x05" + struct.pack(">I", size)


def trail(n: int = 3, seed: int = 0) -> bytes:
    return b"".join(record(1710493198 + seed * 100 + i, i + 1) for i in range(n))


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def names(files: list[TrailFile]) -> list[str]:
    return [t.name for t in files]


def reasons(skipped: list[Skipped]) -> dict[str, str]:
    return {os.path.basename(s.path.split("!")[-1]): s.reason for s in skipped}


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def auditdir(tmp_path: Path) -> Path:
    d = tmp_path / "audit"
    write(d / T1, trail(2, 1))
    write(d / T2, trail(3, 2))
    write(d / T3, trail(1, 3))
    os.symlink(T3, d / "current")
    return d


# --------------------------------------------------------------------------- names


def test_parse_name_kinds():
    kind, start, end, host = parse_name(T2)
    assert kind == "terminated"
    assert start == datetime(2024, 3, 15, 8, 59, 58, tzinfo=UTC)
    assert end == datetime(2024, 3, 17, 9, 10, 16, tzinfo=UTC)
    assert host is None
    assert parse_name(T3)[:3] == ("not_terminated", datetime(2024, 3, 18, 8, 59, 58, tzinfo=UTC), None)
    assert parse_name(T1)[0] == "crash_recovery"
    assert parse_name("20240318085958.not_terminated.mac-01.example.com") == (
        "not_terminated", datetime(2024, 3, 18, 8, 59, 58, tzinfo=UTC), None, "mac-01.example.com"
    )
    assert parse_name(T2 + ".host1")[0] == "terminated"


@pytest.mark.parametrize(
    "name",
    [
        "20241301000000.not_terminated",  # month 13
        "20240230000000.20240301000000",  # 30 February
        "20240315250000.not_terminated",  # hour 25
        "20240315085958.20240399091016",  # bad END
        "2024031508595.not_terminated",  # 13 digits
        "current",
        "audit.bsm",
        "20240315085958.terminated",
        "openbsm-parser-20211014090822.20211014090900",
    ],
)
def test_parse_name_other(name):
    assert parse_name(name) == ("other", None, None, None)


# --------------------------------------------------------------------------- directories


def test_directory_like_var_audit(auditdir):
    files, skipped = collect(auditdir)
    assert names(files) == [T1, T2, T3]
    assert [t.kind for t in files] == ["crash_recovery", "terminated", "not_terminated"]
    assert files[1].name_end == datetime(2024, 3, 17, 9, 10, 16, tzinfo=UTC)
    assert files[0].name_end is None
    assert all(t.compression is None for t in files)
    assert files[1].stored_bytes == len(trail(3, 2))
    assert files[1].read_bytes() == trail(3, 2)
    assert files[1].path == os.path.join(str(auditdir), T2)
    assert skipped == [Skipped(os.path.join(str(auditdir), "current"), f"link to {auditdir / T3}")]


def test_current_never_read_twice_when_named_with_its_folder(auditdir):
    files, skipped = collect(auditdir / "current", auditdir)
    assert names(files) == [T1, T2, T3]
    assert len(files) == 3
    assert any(s.reason.startswith("link to") for s in skipped)


def test_explicit_current_alone_is_read_under_its_own_path(auditdir):
    files, skipped = collect(auditdir / "current")
    assert len(files) == 1 and skipped == []
    t = files[0]
    assert t.path == str(auditdir / "current")
    assert t.name == T3 and t.kind == "not_terminated"
    assert t.read_bytes() == trail(1, 3)


def test_dangling_current(tmp_path):
    d = tmp_path / "audit"
    write(d / T2, trail())
    os.symlink("20240318085958.not_terminated", d / "current")
    files, skipped = collect(d)
    assert names(files) == [T2]
    assert skipped == [Skipped(str(d / "current"), "dangling link")]


def test_explicit_dangling_link_is_an_error(tmp_path):
    os.symlink("nowhere", tmp_path / "current")
    with pytest.raises(CollectionError, match="dangling link"):
        collect(tmp_path / "current")


def test_absolute_current_means_the_file_beside_it(tmp_path):
    # macOS writes current -> /var/audit/START.not_terminated; in a copy that is the sibling.
    d = tmp_path / "case" / "var" / "audit"
    write(d / T3, trail())
    os.symlink("/var/audit/" + T3, d / "current")
    files, skipped = collect(tmp_path / "case")
    assert names(files) == [T3]
    assert skipped == [Skipped(str(d / "current"), f"link to {d / T3}")]


def test_absolute_link_elsewhere_is_not_followed(tmp_path):
    d = tmp_path / "audit"
    write(d / T2, trail())
    os.symlink("/var/audit/20990101000000.not_terminated", d / "current")
    files, skipped = collect(d)
    assert names(files) == [T2]
    assert "outside the collection" in reasons(skipped)["current"]


def test_relative_link_out_of_the_folder_is_not_read(tmp_path):
    # Issue 10: nothing outside the evidence is read as evidence, whatever the link is named.
    outside = write(tmp_path / "elsewhere" / T3, trail(2))
    d = tmp_path / "audit"
    write(d / T2, trail())
    os.symlink(os.path.relpath(outside, d), d / "latest")
    files, skipped = collect(d)
    assert names(files) == [T2]
    assert "outside the evidence folder" in reasons(skipped)["latest"]


def test_relative_link_inside_the_folder_is_read(tmp_path):
    d = tmp_path / "audit"
    write(d / T2, trail())
    write(d / "old" / T3, trail(2))
    os.symlink(os.path.join("old", T3), d / "latest")
    files, _skipped = collect(d)
    assert T3 in names(files)


def test_link_to_directory_not_followed(tmp_path):
    d = tmp_path / "audit"
    write(d / T2, trail())
    write(tmp_path / "other" / T3, trail())
    os.symlink(tmp_path / "other", d / "more")
    files, skipped = collect(d)
    assert names(files) == [T2]
    assert "not followed" in reasons(skipped)["more"]


def test_flattened_current_text_file_is_a_link(tmp_path):
    # A copy that cannot store links leaves `current` as a file holding the target's name.
    d = tmp_path / "audit"
    write(d / T3, trail())
    write(d / "current", T3.encode())
    files, skipped = collect(d)
    assert names(files) == [T3]
    assert skipped == [Skipped(str(d / "current"), f"link to {d / T3}")]


def test_non_trails_in_directories_are_skipped_with_reasons(auditdir):
    write(auditdir / "audit_control", b"dir:/var/audit\nflags:lo,aa\n")
    write(auditdir / ".DS_Store", b"\0\0\0\1Bud1")
    write(auditdir / "notes.txt", trail())  # even with trail bytes: a .txt is a note
    write(auditdir / (T2 + ".txt"), b"header,25,11,...\n")  # a praudit dump
    write(auditdir / "random.bin", b"\x00\x01garbage" * 10)
    write(auditdir / "empty", b"")
    write(auditdir / "extra.bsm", trail(1))  # no trail name, but BSM content: read
    write(auditdir / ".git" / "config", b"x")
    files, skipped = collect(auditdir)
    assert names(files) == [T1, T2, T3, "extra.bsm"]
    assert files[-1].kind == "other" and files[-1].name_start is None
    r = reasons(skipped)
    assert r["audit_control"] == "audit configuration file"
    assert r[".DS_Store"] == "hidden file"
    assert r["notes.txt"] == ".txt file, not a trail"
    assert r[T2 + ".txt"] == ".txt file, not a trail"
    assert "does not start like a BSM record" in r["random.bin"]
    assert r["empty"] == "empty file without a trail name"
    assert r[".git"] == "hidden directory"
    assert "config" not in r


def test_trail_named_files_are_read_whatever_their_content(tmp_path):
    d = tmp_path / "audit"
    write(d / T3, b"")  # a just-created active trail
    write(d / T2, b"not bsm at all")
    files, skipped = collect(d)
    assert names(files) == [T2, T3]
    assert files[1].read_bytes() == b""
    assert skipped == []


def test_explicit_file_is_always_read(tmp_path):
    f = write(tmp_path / "notes.txt", b"hello")
    files, skipped = collect(f)
    assert len(files) == 1 and files[0].kind == "other" and files[0].read_bytes() == b"hello"
    assert skipped == []


def test_directories_are_walked_recursively(tmp_path):
    write(tmp_path / "case" / "host1" / "var" / "audit" / T2, trail())
    write(tmp_path / "case" / "host2" / T1, trail())
    files, _ = collect(tmp_path / "case")
    assert names(files) == [T1, T2]


def test_fifo_in_directory_is_skipped(tmp_path):
    d = tmp_path / "audit"
    write(d / T2, trail())
    os.mkfifo(d / "pipe")
    files, skipped = collect(d)
    assert names(files) == [T2]
    assert reasons(skipped)["pipe"] == "not a regular file"


# --------------------------------------------------------------------------- order


def test_order_is_time_not_name(tmp_path):
    # Paths sort the other way round; the host suffix and the compression don't matter.
    write(tmp_path / "a" / "20240320000000.not_terminated.zhost", trail())
    write(tmp_path / "b" / "20240101000000.20240102000000.ahost", trail())
    write(tmp_path / "c" / "20240215000000.20240216000000.gz", gzip.compress(trail()))
    write(tmp_path / "0" / "zz.bsm", trail())
    write(tmp_path / "0" / "aa.bsm", trail(2))
    files, _ = collect(tmp_path / "c", tmp_path / "a", tmp_path / "0", tmp_path / "b")
    assert names(files) == [
        "20240101000000.20240102000000.ahost",
        "20240215000000.20240216000000",
        "20240320000000.not_terminated.zhost",
        "aa.bsm",
        "zz.bsm",
    ]
    assert files[0].host == "ahost"


def test_same_start_ties_by_name(tmp_path):
    write(tmp_path / "20240315085958.not_terminated", trail(1))
    write(tmp_path / "20240315085958.20240316000000", trail(2))
    write(tmp_path / "20240315085958.crash_recovery", trail(3))
    files, _ = collect(tmp_path)
    assert names(files) == [
        "20240315085958.20240316000000",
        "20240315085958.crash_recovery",
        "20240315085958.not_terminated",
    ]


# --------------------------------------------------------------------------- compression


COMPRESSORS = {
    "gzip": (".gz", gzip.compress),
    "bz2": (".bz2", lambda b: bz2.compress(b, compresslevel=1)),  # 100 kB blocks
    "xz": (".xz", lzma.compress),
    "zstd": (".zst", lambda b: zstandard.ZstdCompressor().compress(b)),
}


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_compressed_single_files(tmp_path, kind):
    suffix, compress = COMPRESSORS[kind]
    data = trail(50)
    packed = compress(data)
    f = write(tmp_path / (T2 + suffix), packed)
    files, skipped = collect(f)
    assert skipped == []
    (t,) = files
    assert t.name == T2 and t.kind == "terminated"
    assert t.compression == kind
    assert t.stored_bytes == len(packed)
    assert t.read_bytes() == data
    with t.open() as fh:
        assert fh.read(10) == data[:10]
        assert fh.read() == data[10:]


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_compression_found_by_magic_not_suffix(tmp_path, kind):
    _, compress = COMPRESSORS[kind]
    d = tmp_path / "audit"
    write(d / T2, compress(trail()))  # no suffix
    write(d / "mystery", compress(trail(2)))  # neither trail name nor suffix: sniffed after decompression
    files, skipped = collect(d)
    assert [(t.name, t.compression) for t in files] == [(T2, kind), ("mystery", kind)]
    assert files[1].read_bytes() == trail(2)
    assert skipped == []


def test_compression_suffix_on_plain_content(tmp_path):
    f = write(tmp_path / (T2 + ".gz"), trail())
    (t,), _ = collect(f)
    assert t.name == T2 and t.compression is None and t.read_bytes() == trail()


def test_concatenated_streams(tmp_path):
    f = write(tmp_path / (T3 + ".gz"), gzip.compress(trail(1)) + gzip.compress(trail(2, 5)))
    (t,), _ = collect(f)
    assert t.read_bytes() == trail(1) + trail(2, 5)
    z = zstandard.ZstdCompressor()
    f = write(tmp_path / (T2 + ".zst"), z.compress(trail(1)) + z.compress(trail(2, 5)))
    (t,), _ = collect(f)
    assert t.read_bytes() == trail(1) + trail(2, 5)


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_truncated_compressed_file_keeps_what_was_read(tmp_path, kind):
    suffix, compress = COMPRESSORS[kind]
    data = os.urandom(300_000)  # incompressible, so a cut loses only the tail
    packed = compress(data)
    f = write(tmp_path / (T2 + suffix), packed[: len(packed) - 1000])
    (t,), _ = collect(f)
    with pytest.raises(TrailReadError) as err:
        t.read_bytes()
    assert str(err.value).startswith(str(f) + ":")
    assert kind in str(err.value)
    assert len(err.value.partial) > 0
    assert data.startswith(err.value.partial)


def test_trailing_garbage_after_stream(tmp_path):
    f = write(tmp_path / (T2 + ".gz"), gzip.compress(trail()) + b"JUNKJUNKJUNK")
    (t,), _ = collect(f)
    with pytest.raises(TrailReadError, match="unexpected data") as err:
        t.read_bytes()
    assert err.value.partial == trail()


def test_zero_padding_after_stream_is_fine(tmp_path):
    f = write(tmp_path / (T2 + ".gz"), gzip.compress(trail()) + b"\0" * 1000)
    (t,), _ = collect(f)
    assert t.read_bytes() == trail()


# --------------------------------------------------------------------------- archives


def add_file(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1710493198
    tf.addfile(ti, io.BytesIO(data))


def add_link(tf: tarfile.TarFile, name: str, target: str, *, hard: bool = False) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    ti.linkname = target
    tf.addfile(ti)


def build_tar(mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        d = tarfile.TarInfo("./var/audit")
        d.type = tarfile.DIRTYPE
        tf.addfile(d)
        # Stored out of time order on purpose.
        add_file(tf, "./var/audit/" + T3, trail(1, 3))
        add_file(tf, "./var/audit/" + T1, trail(2, 1))
        add_file(tf, "./var/audit/" + T2, trail(3, 2))
        add_link(tf, "./var/audit/current", "/var/audit/" + T3)
        add_file(tf, "./var/audit/audit_control", b"dir:/var/audit\n")
        add_file(tf, "./var/audit/._" + T2, b"\0\5\26\7AppleDouble")
        add_file(tf, "./notes/readme.txt", b"collected by me")
    return buf.getvalue()


TAR_KINDS = {
    "evidence.tar": lambda: build_tar("w"),
    "evidence.tar.gz": lambda: build_tar("w:gz"),
    "evidence.tgz": lambda: build_tar("w:gz"),
    "evidence.tar.bz2": lambda: build_tar("w:bz2"),
    "evidence.tar.xz": lambda: build_tar("w:xz"),
    "evidence.tar.zst": lambda: zstandard.ZstdCompressor().compress(build_tar("w")),
}


@pytest.mark.parametrize("archive", sorted(TAR_KINDS))
def test_tar_archives_read_in_place(tmp_path, archive):
    a = write(tmp_path / archive, TAR_KINDS[archive]())
    before = snapshot(tmp_path)
    files, skipped = collect(a)
    assert names(files) == [T1, T2, T3]
    assert files[1].path == f"{a}!var/audit/{T2}"
    assert files[1].stored_bytes == len(trail(3, 2))
    assert files[1].compression is None
    assert [t.read_bytes() for t in files] == [trail(2, 1), trail(3, 2), trail(1, 3)]
    with files[2].open() as fh:
        assert fh.read() == trail(1, 3)
    r = reasons(skipped)
    assert r["current"] == f"link to {a}!var/audit/{T3}"
    assert r["audit_control"] == "audit configuration file"
    assert r["._" + T2] == "hidden file"
    assert r["readme.txt"] == ".txt file, not a trail"
    assert snapshot(tmp_path) == before  # nothing extracted


def test_zip_archive(tmp_path):
    a = tmp_path / "evidence.zip"
    with zipfile.ZipFile(a, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("audit/" + T2, trail(3, 2))
        zf.writestr("audit/" + T3 + ".gz", gzip.compress(trail(1, 3)))
        zf.writestr("__MACOSX/audit/._" + T2, b"\0\5\26\7")
        link = zipfile.ZipInfo("audit/current")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, T3 + ".gz")
    before = snapshot(tmp_path)
    files, skipped = collect(a)
    assert names(files) == [T2, T3]
    assert files[1].compression == "gzip"
    assert files[1].path == f"{a}!audit/{T3}.gz"
    assert files[1].read_bytes() == trail(1, 3)
    assert files[0].read_bytes() == trail(3, 2)
    assert files[0].stored_bytes == len(trail(3, 2))
    r = reasons(skipped)
    assert r["current"] == f"link to {a}!audit/{T3}.gz"
    assert r["._" + T2] == "hidden file"
    assert snapshot(tmp_path) == before


def test_archive_recognised_by_content(tmp_path):
    a = write(tmp_path / "evidence.bin", build_tar("w:gz"))
    files, _ = collect(a)
    assert names(files) == [T1, T2, T3]
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(T2, trail())
    a = write(tmp_path / "blob", z.getvalue())
    files, _ = collect(a)
    assert names(files) == [T2]


def test_archives_found_in_directories_are_opened(tmp_path):
    write(tmp_path / "case" / "host1.tgz", build_tar("w:gz"))
    write(tmp_path / "case" / "host2" / "20240101000000.20240102000000", trail())
    files, _ = collect(tmp_path / "case")
    assert names(files) == ["20240101000000.20240102000000", T1, T2, T3]


def test_tar_members_links_compression_and_nesting(tmp_path):
    inner = build_tar("w:gz")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        add_file(tf, "audit/" + T2 + ".bz2", bz2.compress(trail(4)))
        add_link(tf, "audit/" + T2 + ".bz2.copy", "audit/" + T2 + ".bz2", hard=True)
        add_link(tf, "audit/current", "gone.not_terminated")
        add_file(tf, "audit/other.tgz", inner)
        add_file(tf, "audit/sniffed", trail(2))
        add_file(tf, "audit/garbage", b"\x01\x02\x03")
    a = write(tmp_path / "x.tgz", buf.getvalue())
    files, skipped = collect(a)
    assert names(files) == [T2, "sniffed"]
    assert files[0].compression == "bz2" and files[0].read_bytes() == trail(4)
    assert files[1].read_bytes() == trail(2)
    r = reasons(skipped)
    assert r[T2 + ".bz2.copy"] == f"link to {a}!audit/{T2}.bz2"
    assert r["current"] == "dangling link"
    assert r["other.tgz"].startswith("archive inside an archive")
    assert "does not start like a BSM record" in r["garbage"]


def test_tar_members_read_in_any_order(tmp_path):
    buf = io.BytesIO()
    expected = {}
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        for i in range(12):
            name = f"202403{10 + i:02d}000000.202403{11 + i:02d}000000"
            expected[name] = trail(i + 1, i)
            add_file(tf, name, expected[name])
    a = write(tmp_path / "many.tar.xz", buf.getvalue())
    files, _ = collect(a)
    assert len(files) == 12
    for t in reversed(files):
        assert t.read_bytes() == expected[t.name]
    for t in files:
        assert t.read_bytes() == expected[t.name]
    seen = {t.name: data for t, data, err in read_all(files)}
    assert seen == expected


def test_truncated_tar_member(tmp_path):
    data = build_tar("w")
    cut = data.index(trail(3, 2)) + 10  # inside the T2 member
    a = write(tmp_path / "cut.tar", data[:cut])
    files, skipped = collect(a)
    by = {t.name: t for t in files}
    assert T2 in by
    with pytest.raises(TrailReadError, match="truncated") as err:
        by[T2].read_bytes()
    assert err.value.partial == trail(3, 2)[:10]
    assert by[T3].read_bytes() == trail(1, 3)


def test_read_all_reports_damage(tmp_path):
    good = write(tmp_path / (T1 + ".gz"), gzip.compress(trail()))
    bad = write(tmp_path / (T2 + ".gz"), gzip.compress(os.urandom(5000))[:-100])
    files, _ = collect(good, bad)
    out = {t.name: (data, err) for t, data, err in read_all(files)}
    assert out[T1] == (trail(), None)
    assert isinstance(out[T2][1], TrailReadError)


# --------------------------------------------------------------------------- duplicates


def test_same_file_twice(auditdir):
    files, skipped = collect(auditdir, auditdir / T2, auditdir)
    assert names(files) == [T1, T2, T3]
    assert Skipped(str(auditdir / T2), f"same file as {os.path.join(str(auditdir), T2)}") in skipped


def test_same_content_in_two_copies(tmp_path, auditdir):
    copy = tmp_path / "copy"
    for p in auditdir.iterdir():
        if not p.is_symlink():
            write(copy / p.name, p.read_bytes())
    write(tmp_path / "backup.tgz", build_tar("w:gz"))
    files, skipped = collect(auditdir, copy, tmp_path / "backup.tgz")
    assert names(files) == [T1, T2, T3]
    assert all(str(auditdir) in t.path for t in files)
    r = [s.reason for s in skipped]
    assert sum(x.startswith("same content as") for x in r) == 6


def test_growing_not_terminated_copied_twice(tmp_path):
    early = write(tmp_path / "monday" / T3, trail(2))
    late = write(tmp_path / "tuesday" / (T3 + ".gz"), gzip.compress(trail(5)))
    files, skipped = collect(early, late)
    assert len(files) == 1 and files[0].path == str(late)
    assert skipped == [Skipped(str(early), f"earlier copy of {late} (its bytes are a prefix)")]
    # Same name, different content (two hosts, same second): both are read.
    other = write(tmp_path / "host2" / T3, trail(2, 9))
    files, _ = collect(early, other)
    assert len(files) == 2


# --------------------------------------------------------------------------- in_window


def tf(name: str) -> TrailFile:
    kind, start, end, host = parse_name(name)
    return TrailFile(name, name, kind, start, end, None, 0, host)


START = datetime(2024, 3, 15, 8, 59, 58, tzinfo=UTC)
END = datetime(2024, 3, 17, 9, 10, 16, tzinfo=UTC)
US = timedelta(microseconds=1)


def test_in_window_terminated():
    t = tf(T2)
    assert in_window(t, None, None)
    assert not in_window(t, None, START)  # until is exclusive; records are >= START
    assert in_window(t, None, START + US)
    assert not in_window(t, END + timedelta(seconds=1), None)  # records are < END + 1 s
    assert in_window(t, END + timedelta(seconds=1) - US, None)
    assert in_window(t, END, END + timedelta(hours=1))
    assert not in_window(t, START - timedelta(days=2), START - timedelta(days=1))
    assert in_window(t, START - timedelta(days=2), START + timedelta(days=1))
    assert not in_window(t, END + timedelta(days=1), END + timedelta(days=2))


def test_in_window_unterminated_and_other():
    for name in (T3, "20240318085958.crash_recovery"):
        t = tf(name)
        s = t.name_start
        assert not in_window(t, None, s)
        assert in_window(t, None, s + US)
        assert in_window(t, s + timedelta(days=3650), None)  # no END: cannot prove anything
    assert in_window(tf("audit.bsm"), datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC))


def test_in_window_clock_went_back_and_slack():
    t = tf("20240317000000.20240316000000")  # END before START
    assert in_window(t, datetime(2025, 1, 1, tzinfo=UTC), None)
    assert in_window(t, None, datetime(2020, 1, 1, tzinfo=UTC))
    t = tf(T2)
    assert in_window(t, None, START, slack=timedelta(seconds=5))
    assert in_window(t, END + timedelta(seconds=3), None, slack=timedelta(seconds=5))
    with pytest.raises(ValueError):
        in_window(t, datetime(2024, 1, 1), None)


# --------------------------------------------------------------------------- errors


def test_errors(tmp_path):
    with pytest.raises(CollectionError, match="no trail"):
        collect()
    missing = tmp_path / "nope"
    with pytest.raises(CollectionError) as err:
        collect(missing)
    assert str(err.value) == f"{missing}: no such file or directory"
    bad = write(tmp_path / "bad.tgz", b"\x1f\x8b" + b"garbage" * 20)
    with pytest.raises(CollectionError, match=r"bad\.tgz: ") as err:
        collect(bad)
    assert "\n" not in str(err.value)
    bad = write(tmp_path / "bad.zip", b"PK\x03\x04 not really")
    with pytest.raises(CollectionError, match="not a readable zip archive"):
        collect(bad)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(CollectionError, match="not a regular file"):
        collect(tmp_path / "fifo")


def test_bad_archive_inside_a_folder_is_skipped(tmp_path):
    write(tmp_path / "d" / "broken.tar.gz", b"\x1f\x8b not gzip")
    write(tmp_path / "d" / T2, trail())
    files, skipped = collect(tmp_path / "d")
    assert names(files) == [T2]
    assert "broken.tar.gz" in reasons(skipped)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_explicit_file(tmp_path):
    f = write(tmp_path / T2, trail())
    f.chmod(0)
    with pytest.raises(CollectionError, match="cannot read"):
        collect(f)


# --------------------------------------------------------------------------- shared fixture


@pytest.mark.skipif(not AUDITDIR.is_dir(), reason="shared fixtures not present")
def test_shared_auditdir_fixture():
    files, skipped = collect(AUDITDIR)
    assert names(files) == [
        "20240314120000.crash_recovery",
        "20240315085958.20240317091016",
        "20240318085958.not_terminated",
    ]
    assert [t.kind for t in files] == ["crash_recovery", "terminated", "not_terminated"]
    for t in files:
        data = t.read_bytes()
        assert len(data) == t.stored_bytes == (AUDITDIR / t.name).stat().st_size
        assert data[:1] in (b"\x11", b"\x14", b"\x15", b"\x74", b"\x79")
    (cur,) = skipped
    assert cur.path == str(AUDITDIR / "current")
    assert cur.reason == f"link to {AUDITDIR / '20240318085958.not_terminated'}"
    since = datetime(2024, 3, 17, 12, 0, tzinfo=UTC)
    assert [in_window(t, since, None) for t in files] == [True, False, True]
