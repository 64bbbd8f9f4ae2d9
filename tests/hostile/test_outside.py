"""Nothing outside the evidence is read, ``current`` is not read twice, and nothing hangs on a
FIFO or an endless device (issue 10)."""

from __future__ import annotations

import os
import shutil

import pytest

from forensics.testing import hostile

from .expect import clean, digest
from .watchdog import ROOT, knox, load_child

DEMO = ROOT / "tests" / "fixtures" / "demo"


@pytest.mark.parametrize("how", ["text", "link"])
def test_current_pointing_outside_is_not_read(tmp_path, how):
    audit = hostile.current_outside(tmp_path, how)
    out = digest(load_child(audit))
    assert hostile.OUTSIDER not in out["auids"]
    assert out["records"] == 6
    read = [s["path"] for s in out["sources"] if s["read"]]
    assert all(p.startswith(str(audit)) for p in read), read
    [cur] = [s for s in out["sources"] if s["path"].endswith("current")]
    assert not cur["read"] and cur["skip_reason"], cur


def test_current_copied_as_a_file_is_read_once(tmp_path):
    audit = hostile.current_outside(tmp_path, "copy")
    assert digest(load_child(audit))["records"] == 6


def test_demo_copied_without_links_reads_356_records(tmp_path):
    if not DEMO.is_dir():
        pytest.skip(f"{DEMO} not present")
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, symlinks=False)
    assert (copy / "current").is_file() and not (copy / "current").is_symlink()
    assert digest(load_child(copy))["records"] == 356


def test_fifo_plist_in_dslocal_does_not_hang(tmp_path):
    dslocal = hostile.fifo_dslocal(tmp_path)
    trail = tmp_path / hostile.TRAIL_NAME
    trail.write_bytes(hostile.good_trail())
    clean(knox(trail, "--dslocal", dslocal, seconds=5))


@pytest.mark.parametrize("where", ["fifo", "/dev/zero"])
def test_passwd_at_fifo_or_device_does_not_hang(tmp_path, where):
    trail = tmp_path / hostile.TRAIL_NAME
    trail.write_bytes(hostile.good_trail())
    if where == "fifo":
        where = tmp_path / "passwd"
        os.mkfifo(where)
    run = clean(knox(trail, "--passwd", where, seconds=5, rss_mb=400))
    assert run.rc != 0 and "passwd" in run.stderr, run
