"""The C core's columns reach Polars through the Arrow C data interface, without pyarrow.

- Loading a trail with the C core never imports pyarrow (a fresh process).
- A frame owns its columns' C memory: it stays valid after the C result and every Python
  wrapper are gone, one column kept alone outlives the rest, and slices, ``gather``, ``sort``
  and ``concat`` across results read the same values as the Python decoder's frames.
- Nothing leaks: decoding the same trail many times in one process (one pass or two halves,
  whole frames or single columns, exported columns never taken) keeps RSS flat.
- An exported column is handed over once.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import polars as pl
import pytest

from forensics.bsm import backends

from .test_backends import ROOT
from .test_cdecode_columns import _repeating, _same

needs_c = pytest.mark.skipif(not backends.c_available(),
                             reason="the C core (forensics._cbsm) is not built in this environment")

DEMO = ROOT / "tests" / "fixtures" / "demo"


def _demo_bytes() -> bytes:
    return b"".join(p.read_bytes() for p in sorted(DEMO.iterdir()))


def _child(code: str) -> str:
    """Run code in a fresh interpreter (not from the project root: the installed package)."""
    proc = subprocess.run([sys.executable, "-P", "-c", textwrap.dedent(code)], cwd="/",
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@needs_c
def test_loading_with_the_c_core_never_imports_pyarrow():
    out = _child(f"""
        import sys
        import forensics
        audit = forensics.load({str(DEMO)!r}, backend="c")
        print(audit.records.height, "pyarrow" in sys.modules)
        """)
    rows, imported = out.split()
    assert int(rows) > 0 and imported == "False"


@needs_c
@pytest.mark.parametrize("halves", [False, True])
def test_frames_outlive_their_result_and_wrappers(halves, monkeypatch):
    from forensics.bsm import cdecode
    if halves:
        monkeypatch.setattr(cdecode, "SPLIT_MIN", 0)
        monkeypatch.setattr(cdecode, "_CORES", 2)
    first, _ = _repeating(60)
    second = _demo_bytes()
    c1, c2 = cdecode.decode(first), cdecode.decode(second)
    py1, py2 = (backends.decode_records(b, "python") for b in (first, second))
    _same(c1, py1)
    frames = [c1.records, c2.records]
    alone = c1.records["exec_argv"]
    args = c2.records.get_column("args")
    del c1, c2
    gc.collect()
    a, b = py1.records, py2.records
    assert alone.to_list() == a["exec_argv"].to_list()
    assert args.equals(b["args"])
    frames[0] = frames[0].select("exec_argv", "args", "paths", "time")   # drop the rest
    gc.collect()
    a = a.select("exec_argv", "args", "paths", "time")
    b = b.select(frames[0].columns)
    c = frames[1].select(frames[0].columns)
    assert frames[0].equals(a)
    assert frames[0].slice(7, 20).equals(a.slice(7, 20))
    order = list(range(0, a.height, 3))[::-1]
    assert frames[0][order].equals(a[order])
    assert frames[0].gather_every(2).equals(a.gather_every(2))
    assert c.sort("time", maintain_order=True).equals(b.sort("time", maintain_order=True))
    both = pl.concat([frames[0], c])
    assert both.equals(pl.concat([a, b]))
    assert both.rechunk().sort("time", maintain_order=True).equals(
        pl.concat([a, b]).sort("time", maintain_order=True))


@needs_c
def test_an_exported_column_is_handed_over_once():
    from forensics.bsm import cdecode
    buf = _demo_bytes()
    owner = cdecode._Owner(cdecode.lib.bsm_decode(buf, len(buf), cdecode.ffi.NULL))
    column = cdecode._Column(owner.res, 0)
    assert not owner.res.cols[0].selected          # the buffers left the result
    series = pl.Series(column)
    assert series.name == "offset" and series.len() == owner.res.nrows
    with pytest.raises(RuntimeError):
        pl.Series(column)
    cdecode._Column(owner.res, 1)                  # never taken: its capsules release it
    with pytest.raises(MemoryError):               # moved already: nothing left to export
        cdecode._Column(owner.res, 1)


@needs_c
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_decoding_many_times_keeps_memory_flat():
    out = _child(f"""
        import ctypes
        import gc
        import pathlib
        from forensics.bsm import cdecode

        def rss():      # the memory still in use: free memory goes back from every arena
            gc.collect()
            trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
            if trim:
                trim(0)
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096

        buf = b"".join(p.read_bytes()
                       for p in sorted(pathlib.Path({str(DEMO)!r}).iterdir())) * 100
        keep = []
        def once(i):
            cdecode.SPLIT_MIN = 0 if i % 2 else 1 << 62       # one pass, then two halves
            cdecode._CORES = 2
            res = cdecode.decode(buf, columns=None if i % 3 else ["paths", "args", "pid"])
            keep.append(res.records.select("paths").tail(3))  # a small piece stays each time
            if len(keep) > 4:
                keep.pop(0)
            owner = cdecode._Owner(cdecode.lib.bsm_decode(buf, len(buf), cdecode.ffi.NULL))
            cdecode._Column(owner.res, 30)                   # exported, never taken
            return res.records.estimated_size()
        for i in range(24):
            size = once(i)
        before = rss()
        for i in range(24, 64):
            once(i)
        print(size, rss() - before)
        """)
    frame, growth = map(int, out.split())
    assert frame > 10 << 20, frame
    assert growth < frame // 2, f"RSS grew {growth >> 20} MB over 40 decodes"
