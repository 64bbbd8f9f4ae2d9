"""Hostile compressed files and archives: damage part-way, duplicate names, lying headers,
bombs and a member name of megabytes (issue 10)."""

from __future__ import annotations

import pytest

from forensics.testing import hostile

from .expect import clean, digest
from .watchdog import knox, load_child


def _damage_rows(out: dict, name: str) -> list[dict]:
    return [e for e in out["errors"] if name in (e["source"] or "")]


@pytest.mark.parametrize("shape", ["truncated_tar_gz", "corrupt_tar_zst"])
def test_damaged_archive_keeps_members_before_the_damage(tmp_path, shape):
    path = getattr(hostile, shape)(tmp_path / ("a.tar.gz" if "gz" in shape else "a.tar.zst"))
    out = digest(load_child(path))
    assert out["records"] >= 3 * 40                          # the three whole members
    assert _damage_rows(out, path.name), out["errors"]


def test_crc_damaged_gz_in_a_folder_is_damage_not_the_end(tmp_path):
    folder = hostile.crc_damaged_gz(tmp_path / "audit")
    out = digest(load_child(folder))
    assert out["records"] >= 3 + 40                          # the plain trail and the gz bytes
    assert _damage_rows(out, ".gz"), out["errors"]


def test_same_named_zip_members_take_one_pass(tmp_path):
    # 300 members of one name: comparing every pair re-opening the zip takes over a minute
    path = hostile.same_named_zip(tmp_path / "same.zip", 300)
    assert clean(knox(path, seconds=15)).rc == 0


def test_tar_header_claiming_8_gib_is_not_allocated(tmp_path):
    path = hostile.tar_claiming(tmp_path / "liar.tar")
    out = digest(load_child(path, rss_mb=600))
    assert out["records"] == 6                                # both members' good records
    assert _damage_rows(out, hostile.TRAIL_NAME), out["errors"]


def test_gz_bomb_is_streamed(tmp_path):
    # ~2 MB on disk, 2 GiB inflated (zeros after 40 good records): held whole today
    path = hostile.gz_bomb(tmp_path / f"{hostile.TRAIL_NAME}.gz", 2 << 30)
    assert path.stat().st_size < 3 << 20
    run = clean(knox(path, seconds=40, rss_mb=600))
    assert run.rc == 0 or "gz" in run.stderr


def test_zip_bomb_is_streamed(tmp_path):
    # ~1 MB on disk, 1 GiB inflated: a MemoryError traceback (or 1 GiB and more) today
    path = hostile.zip_bomb(tmp_path / "bomb.zip", 1 << 30)
    assert path.stat().st_size < 2 << 20
    out = digest(load_child(path, seconds=40, rss_mb=600))
    assert out["records"] == 40
    assert _damage_rows(out, "bomb.zip"), out["errors"]


def test_long_member_name_does_not_amplify_output(tmp_path):
    # a few KB of .tar.gz holding a 1 MB member name: tables padded to it print megabytes
    path = hostile.long_member_name(tmp_path / "long.tar.gz", 1 << 20)
    assert path.stat().st_size < 8 << 10
    run = clean(knox(path, "--text", seconds=30, rss_mb=1000, output_mb=4))
    assert run.rc == 0 and run.out_bytes < 64 << 10, run


def test_long_member_name_does_not_amplify_memory(tmp_path):
    path = hostile.long_member_name(tmp_path / "long.tar.gz")
    assert path.stat().st_size < 16 << 10
    assert clean(knox(path, seconds=30, rss_mb=400)).rc == 0


def test_overhead_per_file_is_kilobytes(tmp_path):
    # 1,500 one-record files: ~200 KB each today (about 300 MB over the ~120 MB start)
    folder = hostile.many_small_files(tmp_path / "audit", 1500)
    out = digest(load_child(folder, seconds=60, rss_mb=350))
    assert out["records"] == 1500
