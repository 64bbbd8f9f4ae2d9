"""``praudit`` and ``reduce`` reading a trail from stdin write each record as it comes, instead of
reading all of stdin first (a pipe from a live ``auditpipe`` or a slow copy never ends)."""

from __future__ import annotations

import os

import pytest

from forensics.testing import hostile

from .watchdog import knox


def _open_pipe(data: bytes) -> tuple[int, int]:
    """A pipe holding ``data`` whose write end stays open (the child waits for more)."""
    read, write = os.pipe()
    os.write(write, data)
    return read, write


@pytest.mark.parametrize("command", ["praudit", "reduce"])
def test_stdin_is_streamed(command):
    read, write = _open_pipe(hostile.good_trail(count=40))
    try:
        run = knox(command, "-", stdin=read, seconds=3)
    finally:
        os.close(read)
        os.close(write)
    assert run.killed == "time"                               # still waiting for more input
    if command == "praudit":
        assert run.stdout.count("header,") == 40, run
    else:
        assert run.out_bytes >= 40 * 185, run                 # the records, as raw bytes
