"""Hostile evidence, collection side (issue 10): damage is data, nothing read from outside the
evidence, bounded memory, linear duplicate detection, no hang on a FIFO or a device.

Real trails are the shipped demo (tests/fixtures/demo); every damaged or hostile shape is built
here from them. Time bounds are generous (a loaded 2-core machine); memory is measured with
tracemalloc (Python buffers: the bytes the collection holds).
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
import zstandard

import forensics
from forensics.collection import files as trail_files
from forensics.collection import streams
from forensics.collection.trails import ReadDamage, collect

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
NAMES = ["20240315080000.20240315100000", "20240315100000.20240315140000",
         "20240315140000.not_terminated"]
MiB = 1 << 20


def demo(i: int) -> bytes:
    return (DEMO / NAMES[i]).read_bytes()


def records_of(*paths) -> int:
    return forensics.load(*paths).records.height


def tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def peak_bytes(fn):
    """(result, peak bytes traced while fn ran)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- damage is data


def test_crc_damaged_gz_in_an_audit_folder_gives_every_good_byte(tmp_path):
    folder = tmp_path / "var" / "audit"
    folder.mkdir(parents=True)
    packed = bytearray(gzip.compress(demo(0)))
    packed[-6] ^= 0xFF                                   # the gzip trailer's CRC-32
    gz = folder / (NAMES[0] + ".gz")
    gz.write_bytes(bytes(packed))
    (folder / NAMES[1]).write_bytes(demo(1))
    (t, _), _ = collect(folder)
    content, damage = t.read()
    assert bytes(content) == demo(0)
    assert damage == [ReadDamage(len(demo(0)), 0, "damaged compressed data")]
    audit = forensics.load(folder)                      # used to stop the whole run
    assert audit.records.height == records_of(DEMO / NAMES[0], DEMO / NAMES[1])
    rows = audit.errors.filter(audit.errors["source"] == str(gz)).rows()
    assert rows == [(str(gz), len(demo(0)), 0, "damaged compressed data")]


def test_truncated_tar_gz_gives_the_members_before_the_damage(tmp_path):
    raw = tar_bytes([(f"audit/{n}", demo(i)) for i, n in enumerate(NAMES)])
    packed = gzip.compress(raw)
    cut = tmp_path / "evidence.tar.gz"
    cut.write_bytes(packed[: len(packed) * 9 // 10])   # inside the last member
    files, _ = collect(cut)
    by_name = {t.name: t for t in files}
    assert by_name[NAMES[0]].read() == (bytearray(demo(0)), [])
    assert by_name[NAMES[1]].read() == (bytearray(demo(1)), [])
    content, damage = by_name[NAMES[2]].read()         # every byte the stream still had
    assert demo(2).startswith(bytes(content)) and len(content) > 0
    assert damage == [ReadDamage(len(content), 0, "truncated compressed data")]
    audit = forensics.load(cut)
    assert audit.records.height >= records_of(DEMO / NAMES[0], DEMO / NAMES[1])
    reasons = set(audit.errors["reason"]) | set(audit.sources["skip_reason"].drop_nulls())
    assert "truncated compressed data" in reasons or any("damaged" in r for r in reasons)


def test_corrupt_tar_zst_frame_keeps_the_frames_before(tmp_path):
    raw = tar_bytes([(f"audit/{n}", demo(i)) for i, n in enumerate(NAMES)])
    split = raw.index(demo(2)) + 100                    # frame 2 starts inside member 3
    z = zstandard.ZstdCompressor(write_checksum=True)
    second = bytearray(z.compress(raw[split:]))
    second[len(second) // 2:len(second) // 2 + 64] = os.urandom(64)
    archive = tmp_path / "evidence.tar.zst"
    archive.write_bytes(z.compress(raw[:split]) + bytes(second))
    files, skipped = collect(archive)
    by_name = {t.name: t for t in files}
    assert by_name[NAMES[0]].read() == (bytearray(demo(0)), [])
    assert by_name[NAMES[1]].read() == (bytearray(demo(1)), [])
    # the archive's own damage is data too: where in its bytes, and why (an errors row)
    assert [(s.path, s.damage.reason) for s in skipped if s.damage] == [
        (str(archive), "damaged compressed data")]
    audit = forensics.load(archive)                     # used to stop the whole run
    assert audit.records.height >= records_of(DEMO / NAMES[0], DEMO / NAMES[1])


@pytest.mark.parametrize("suffix,compress", [(".gz", gzip.compress), (".xz", None),
                                             (".zst", zstandard.ZstdCompressor().compress)])
def test_read_never_raises_for_a_truncated_stream(tmp_path, suffix, compress):
    import lzma
    compress = compress or lzma.compress
    data = demo(2)
    packed = compress(data)
    f = tmp_path / (NAMES[2] + suffix)
    f.write_bytes(packed[: len(packed) - 20])
    (t,), _ = collect(f)
    content, damage = t.read()
    assert data.startswith(bytes(content))
    assert damage == [ReadDamage(len(content), 0, "truncated compressed data")]


# --------------------------------------------------------------------------- outside the evidence


def test_current_text_file_pointing_out_of_the_evidence_is_not_followed(tmp_path):
    (tmp_path / "analyst").mkdir()
    (tmp_path / "analyst" / NAMES[2]).write_bytes(demo(2))     # not evidence
    audit_dir = tmp_path / "case" / "var" / "audit"
    audit_dir.mkdir(parents=True)
    (audit_dir / NAMES[0]).write_bytes(demo(0))
    (audit_dir / "current").write_bytes(b"../../../analyst/" + NAMES[2].encode())
    files, skipped = collect(tmp_path / "case")
    assert [t.name for t in files] == [NAMES[0]]
    (s,) = skipped
    assert s.path == str(audit_dir / "current") and "outside the evidence folder" in s.reason


def test_current_relative_symlink_out_of_the_evidence_is_not_followed(tmp_path):
    (tmp_path / "analyst").mkdir()
    (tmp_path / "analyst" / NAMES[2]).write_bytes(demo(2))
    audit_dir = tmp_path / "case" / "audit"
    audit_dir.mkdir(parents=True)
    (audit_dir / NAMES[0]).write_bytes(demo(0))
    os.symlink(f"../../analyst/{NAMES[2]}", audit_dir / "current")
    files, skipped = collect(tmp_path / "case")
    assert [t.name for t in files] == [NAMES[0]]
    assert "outside the evidence folder" in skipped[0].reason


def test_dereferenced_current_is_recognised_as_the_copy_it_is(tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, symlinks=False)          # what cp -rL, zip and FAT copies do
    assert (copy / "current").is_file() and not (copy / "current").is_symlink()
    files, skipped = collect(copy)
    assert [t.name for t in files] == NAMES
    assert [(s.path, s.reason) for s in skipped] == [
        (str(copy / "current"), f"same content as {copy / NAMES[2]}")]
    assert records_of(copy) == records_of(DEMO) == 356


# --------------------------------------------------------------------------- bounded memory


def test_tar_header_claiming_8_gib_allocates_what_is_there(tmp_path):
    ti = tarfile.TarInfo("audit/" + NAMES[0])
    ti.size = 8 << 30
    header = ti.tobuf(format=tarfile.GNU_FORMAT)
    archive = tmp_path / "claim.tar"
    archive.write_bytes(header + demo(0))               # 16 KB where 8 GiB are claimed
    (t,), _ = collect(archive)
    assert t.stored_bytes == 8 << 30
    (content, damage), peak = peak_bytes(t.read)
    assert bytes(content) == demo(0)
    assert damage == [ReadDamage(len(demo(0)), 0, "truncated archive member")]
    assert peak < 32 * MiB


def _zeros_gz(n: int) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MiB)
    return b"".join(c.compress(block) for _ in range(n // MiB)) + c.flush()


def test_gzip_bomb_is_cut_at_the_ratio_ceiling(tmp_path):
    f = tmp_path / (NAMES[2] + ".gz")
    f.write_bytes(_zeros_gz(512 * MiB))                 # ~0.5 MB inflating to 512 MiB
    (t,), _ = collect(f)
    (content, damage), peak = peak_bytes(t.read)
    assert len(content) <= streams.RATIO_FLOOR + 4 * MiB
    assert damage == [ReadDamage(len(content), 0, "size limit")]
    assert peak < streams.RATIO_FLOOR + 64 * MiB


def test_zip_bomb_member_is_a_damage_row_not_a_memory_error(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(NAMES[2], "w", force_zip64=True) as member:
            member.write(demo(2))
            block = bytes(MiB)
            for _ in range(400):
                member.write(block)
    (t,), _ = collect(archive)
    (content, damage), peak = peak_bytes(t.read)
    assert bytes(content[: len(demo(2))]) == demo(2)
    assert damage == [ReadDamage(len(content), 0, "size limit")]
    assert peak < streams.RATIO_FLOOR + 64 * MiB


def test_no_trail_is_held_beyond_the_ceiling(tmp_path, monkeypatch):
    monkeypatch.setattr(trail_files, "MAX_TRAIL_BYTES", MiB)
    f = tmp_path / NAMES[0]
    f.write_bytes(os.urandom(3 * MiB))
    (t,), _ = collect(f)
    content, damage = t.read()
    assert len(content) == MiB and damage == [ReadDamage(MiB, 0, "size limit")]


def test_collection_overhead_per_tiny_file_is_kilobytes(tmp_path):
    head = demo(0)[:600]
    for i in range(3000):
        (tmp_path / f"20240101{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}"
                     f".not_terminated.h{i}").write_bytes(head)
    (found, _), peak = peak_bytes(lambda: collect(tmp_path))
    assert len(found) == 3000
    assert peak / 3000 < 8 * 1024


# --------------------------------------------------------------------------- duplicates


def _zip_of(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def test_300_same_named_zip_members_are_compared_in_linear_time(tmp_path):
    base = demo(0)
    members = [(f"host{i}/{NAMES[0]}", base + i.to_bytes(4, "big") * (i + 1))
               for i in range(300)]                     # one head, 300 different tails
    members.append(("again/" + NAMES[0], members[7][1]))          # an identical copy
    members.append(("early/" + NAMES[0], base + b"\0\0"))         # a prefix of host0's
    archive = tmp_path / "many.zip"
    archive.write_bytes(_zip_of(members))
    start = time.monotonic()
    files, skipped = collect(archive)
    elapsed = time.monotonic() - start
    assert len(files) == 300
    reasons = {s.path.split("!")[1]: s.reason for s in skipped}
    assert reasons["again/" + NAMES[0]] == f"same content as {archive}!host7/{NAMES[0]}"
    assert reasons["early/" + NAMES[0]].startswith("earlier copy of")
    assert elapsed < 30, f"{elapsed:.1f} s for 302 same-named members"


# --------------------------------------------------------------------------- hangs


def _tables_in_child(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("what", ["fifo passwd", "dev zero passwd", "fifo plist"])
def test_a_fifo_or_device_as_a_table_is_refused_not_read(tmp_path, what):
    if what == "fifo passwd":
        target = tmp_path / "passwd"
        os.mkfifo(target)
        call = f"Users.from_files(passwd={str(target)!r})"
    elif what == "dev zero passwd":
        call = "Users.from_files(passwd='/dev/zero')"
    else:
        users = tmp_path / "dslocal" / "users"
        users.mkdir(parents=True)
        os.mkfifo(users / "mallory.plist")
        call = f"Users.from_files(dslocal={str(tmp_path / 'dslocal')!r})"
    code = ("from forensics.tables import Users, TableError\n"
            f"try:\n    {call}\nexcept TableError as e:\n    print('TableError:', e)\n")
    done = _tables_in_child(code)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("TableError:")
    assert "not a regular file" in lines[0]
