"""A small watchdog: run a child under a time, a memory (RSS) and an output limit.

Memory is watched, not capped: the child's resident set is read from ``/proc/<pid>/status``
every 50 ms and the child is killed once it passes the limit (an address-space cap such as
``ulimit -v`` makes Polars abort). Output goes to temporary files, so a child that prints
gigabytes is killed at the output limit instead of filling the test's memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Run", "run", "knox", "load_child", "ROOT"]

ROOT = Path(__file__).resolve().parents[2]
_CHILD = Path(__file__).with_name("load_child.py")
_POLL = 0.05


@dataclass
class Run:
    """What a watched child did: exit code (None when killed), output, time, peak memory."""
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    killed: str | None          # "time", "rss" or "output" when the watchdog stopped it
    out_bytes: int

    def __str__(self) -> str:
        return (f"rc={self.rc} killed={self.killed} {self.seconds:.1f}s peak={self.peak_mb:.0f}MB "
                f"out={self.out_bytes}B stderr={self.stderr[-600:]!r}")


def _rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a live process in MB; zeros once it is gone."""
    rss = hwm = 0.0
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss, hwm


def run(argv: list[str], *, seconds: float, rss_mb: float, output_mb: float = 16,
        stdin=subprocess.DEVNULL, cwd=None, env=None) -> Run:
    """Run ``argv``; kill it past ``seconds``, ``rss_mb`` resident or ``output_mb`` written.

    The child runs in ``cwd``, by default a fresh temporary folder (removed afterwards), so
    whatever it writes next to itself (a report file) lands nowhere else."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        started = time.monotonic()
        child = subprocess.Popen(argv, stdout=out, stderr=err, stdin=stdin, cwd=cwd or scratch,
                                 env=env, start_new_session=True)
        peak, killed = 0.0, None
        while child.poll() is None:
            rss, hwm = _rss_mb(child.pid)
            peak = max(peak, rss, hwm)
            size = os.fstat(out.fileno()).st_size + os.fstat(err.fileno()).st_size
            if time.monotonic() - started > seconds:
                killed = "time"
            elif rss > rss_mb:
                killed = "rss"
            elif size > output_mb * (1 << 20):
                killed = "output"
            if killed:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                break
            time.sleep(_POLL)
        took = time.monotonic() - started
        size = os.fstat(out.fileno()).st_size
        texts = []
        for fh in (out, err):
            fh.seek(0)
            texts.append(fh.read(int(output_mb * (1 << 20))).decode("utf-8", "replace"))
    return Run(None if killed else child.returncode, texts[0], texts[1], took, peak, killed, size)


def knox(*args, seconds: float = 20, rss_mb: float = 600, **kw) -> Run:
    """``knox-report ARGS...`` (the main job unless a subcommand is named) in a child."""
    return run([sys.executable, "-m", "forensics.cli", *map(str, args)], seconds=seconds,
               rss_mb=rss_mb, **kw)


def load_child(*paths, seconds: float = 20, rss_mb: float = 600, **options) -> Run:
    """``forensics.load(*paths, **options)`` in a child that prints a JSON digest of the Audit
    (see load_child.py)."""
    import json
    return run([sys.executable, str(_CHILD), json.dumps([list(map(str, paths)), options])],
               seconds=seconds, rss_mb=rss_mb)
