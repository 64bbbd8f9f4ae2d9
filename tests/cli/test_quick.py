"""`knox-report reduce` reads a plain command line without click (issue 11: start-up), and
reads it exactly as click does; anything else goes to click."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from forensics.cli.flags import SELECTION
from forensics.cli.quick import parse
from forensics.cli.reduce import reduce as reduce_cmd
from forensics.cli.reduce_run import OWN

from ..conftest import FIXTURES

TABLE = SELECTION + OWN
DEMO = sorted((FIXTURES / "demo").glob("*"))


def _click(args: list[str]) -> dict:
    with reduce_cmd.make_context("reduce", list(args)) as ctx:
        return dict(ctx.params)


def _quick(args: list[str]) -> dict:
    got = parse(list(args), TABLE)
    assert got is not None, args
    got["files"] = tuple(got.pop("args"))
    got["output"] = got["output"] or "-"
    return got


@pytest.mark.parametrize("args", [
    [],
    ["trail"],
    ["-m", "AUE_EXECVE", "-m", "23", "t1", "t2"],
    ["-mAUE_EXECVE", "--event=AUE_OPEN_R", "--event", "AUE_CLOSE"],
    ["-u", "501", "trail", "-v", "-A", "-q"],
    ["-c", "lo", "-c", "+fr,-fw", "-z", "glob*", "-"],
    ["-o", "file=/Users", "--object", "pid=3", "--path", "a,b", "--path=c", "x"],
    ["-a", "20240316", "-b", "20240317120000", "-d", "20240318", "--tz", "UTC"],
    ["--since", "yesterday", "--until", "2 hours ago", "--output", "out.trail"],
    ["--backend", "python", "--", "-m", "--help"],
    ["-e", "0", "-f", "wheel", "-r", "root", "-g", "0", "-j", "77", "--output=-", "t"],
    ["-o", "", "--zone=", "t"],
])
def test_a_plain_command_line_reads_as_click_reads_it(args):
    assert _quick(args) == _click(args)


def test_tables_given_as_files_read_as_click_reads_them(tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("root:*:0:0::/var/root:/bin/sh\n")
    args = ["--passwd", str(passwd), "--dslocal", str(tmp_path), "-u", "root", "t"]
    assert _quick(args) == _click(args)


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["-vA"], ["-m"], ["--nope"], ["-x"], ["--invert=yes"],
    ["-j", "-1"], ["--backend", "bogus"], ["--audit-event", "/no/such/file"],
    ["--dslocal", "/no/such/folder"], ["--output", "/"],
])
def test_anything_else_goes_to_click(args):
    assert parse(args, TABLE) is None


def test_reduce_starts_without_click_or_polars(tmp_path):
    """The whole process: a plain reduce imports neither click nor Polars, pyarrow, numpy."""
    trails = [str(p) for p in DEMO if p.is_file()]
    if not trails:
        pytest.skip("no demo trail")
    code = ("import sys, json\nfrom forensics.cli.main import main\n"
            "code = main(sys.argv[1:])\nsys.stdout.flush()\n"
            "print(json.dumps([m for m in ('click', 'polars', 'pyarrow', 'numpy') "
            "if m in sys.modules]), file=sys.stderr)\nsys.exit(code)\n")
    out = tmp_path / "out.trail"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-P", "-c", code, "reduce", "-m", "AUE_EXECVE",
                           "--output", str(out), *trails], capture_output=True, text=True,
                          cwd=tmp_path, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []
    assert out.stat().st_size > 0


def test_reduce_from_the_command_line_ends_with_everything_written(tmp_path):
    """Run as the knox-report script runs it (main() reading sys.argv), a plain reduce ends the
    process at once: what it wrote to stdout and stderr is complete, the exit code kept."""
    trails = [str(p) for p in DEMO if p.is_file()]
    if not trails:
        pytest.skip("no demo trail")
    script = "import sys\nfrom forensics.cli.main import main\nsys.exit(main())\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    expected = tmp_path / "expected.trail"
    from forensics.cli.main import main

    assert main(["reduce", "-m", "AUE_EXECVE", "--output", str(expected), *trails]) == 0
    piped = subprocess.run([sys.executable, "-P", "-c", script, "reduce", "-m", "AUE_EXECVE",
                            *trails], capture_output=True, cwd=tmp_path, env=env, check=False)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == expected.read_bytes() and piped.stdout
    missing = subprocess.run([sys.executable, "-P", "-c", script, "reduce", "-m", "AUE_EXECVE",
                              str(tmp_path / "no-such.trail")], capture_output=True, text=True,
                             cwd=tmp_path, env=env, check=False)
    assert missing.returncode == 1
    assert missing.stderr.startswith("knox-report reduce: ") and "no-such.trail" in missing.stderr
