"""Run one measured step in a fresh interpreter and report its time and peak memory.

Each case runs in its own process so that its peak RSS (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUNNER = r"""
import json, resource, sys, time
sys.path.insert(0, {bench!r})
setup = {setup!r}
stmt = {stmt!r}
ns = {{}}
exec(setup, ns)
t0 = time.perf_counter()
exec(stmt, ns)
seconds = time.perf_counter() - t0
extra = ns.get("extra", {{}})
print(json.dumps({{"seconds": seconds,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  **extra}}))
"""


def run(setup: str, stmt: str, *, env: dict | None = None, cpus: str | None = "0") -> dict:
    """Time ``stmt`` after ``setup`` in a new Python; ``cpus`` pins it (one core by default)."""
    code = _RUNNER.format(bench=str(ROOT / "benchmarks"), setup=setup, stmt=stmt)
    cmd = [sys.executable, "-c", code]
    if cpus is not None and hasattr(os, "sched_setaffinity"):
        cmd = ["taskset", "-c", cpus, *cmd]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f}"
