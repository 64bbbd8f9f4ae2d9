"""The README's command-line examples run as written (on the shipped demo and scenarios)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from .conftest import ROOT


def _examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("Examples (on the demo folder the project ships):", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("command", _examples())
def test_readme_example_runs(command, tmp_path):
    # run where the README's reader would (the repo's paths resolve), but in a folder of the
    # test's own: the report and export files an example writes land there, not in the repo
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    args = shlex.split(command)
    assert args[0] == "knox-report"
    out_file = None
    if ">" in args:
        out_file = args[args.index(">") + 1]
        args = args[:args.index(">")]
    done = subprocess.run([sys.executable, "-m", "forensics.cli", *args[1:]], cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout, command
    if out_file:
        assert done.stdout[:1] in (b"\x14", b"\x15", b"\x74", b"\x79")   # a binary trail
