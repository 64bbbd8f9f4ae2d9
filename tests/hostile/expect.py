"""What every hostile run must show, whatever the input: it finished within its limits, it
exited 0 or with one line (never a traceback), and no control character reached the terminal."""

from __future__ import annotations

import json

from forensics.testing.hostile import CONTROL

from .watchdog import Run

__all__ = ["finished", "clean", "digest", "controls"]


def controls(text: str) -> list[str]:
    """The control characters in ``text`` (C0 but newline and tab, DEL, C1, bidi controls)."""
    return sorted({repr(c) for c in text if c in CONTROL})


def finished(run: Run) -> Run:
    """Not stopped by the watchdog; exit 0, or non-zero with a one-line message."""
    assert run.killed is None, f"stopped by the watchdog: {run}"
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    if run.rc != 0:
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, f"rc={run.rc}, error is not one line: {run.stderr[-2000:]!r}"
    return run


def clean(run: Run) -> Run:
    """``finished`` and no control character from the evidence on stdout or stderr."""
    finished(run)
    assert not controls(run.stdout), controls(run.stdout)
    assert not controls(run.stderr), controls(run.stderr)
    return run


def digest(run: Run) -> dict:
    """The JSON digest a ``load_child`` run printed (it must have finished with exit 0)."""
    finished(run)
    assert run.rc == 0, run
    return json.loads(run.stdout)
