"""`knox-report praudit` starts without Polars, pyarrow or numpy (issue 11: start-up)."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import FIXTURES

TRAIL = FIXTURES / "scenarios" / "su.trail"

_PROBE = """
import sys
from forensics.cli.main import main
code = main(["praudit", sys.argv[1]])
heavy = sorted(m for m in ("polars", "pyarrow", "numpy", "matplotlib") if m in sys.modules)
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def test_praudit_imports_nothing_heavy(tmp_path):
    done = subprocess.run([sys.executable, "-c", _PROBE, str(TRAIL)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("header,")
    assert "HEAVY:\n" in done.stderr, done.stderr


def test_the_package_imports_nothing_heavy(tmp_path):
    probe = ("import sys, forensics; "
             "print([m for m in ('polars', 'pyarrow', 'numpy') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_unknown_subcommand_word_is_a_path(tmp_path):
    done = subprocess.run([sys.executable, "-m", "forensics.cli", str(tmp_path / "nope")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
