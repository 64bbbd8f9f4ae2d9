"""``knox-report reduce`` benchmark: wall time and peak memory, C walk against the records frame.

    python benchmarks/bench_reduce.py [--mb 105] [--repeat 3] [--auditreduce PATH]

Input: a realistic mixed trail written by the project's own writer (benchmarks/out/, built
once, as bench_decode.py builds its input). Each case is a whole ``knox-report reduce``
process (start-up and imports included) run from a temporary folder, writing to /dev/null,
with the package laid out as ``pip install .`` lays it out (``measure.installed``: compiled
core, bytecode written, no editable-install import hook):

* new: the selection evaluated in the C walk over a memory map (the default);
* old: the same command with the C walk switched off, so the records frame is built and
  filtered with Polars (the reference path, and what ``reduce`` did before);
* auditreduce: OpenBSM's, when ``--auditreduce`` (or $AUDITREDUCE) names a build of it. It
  reads its own /etc/security tables; knox-report uses its bundled macOS tables.

The best of ``--repeat`` runs is shown; the runs of one case alternate between the paths.
Before timing, every case's output is compared between old and new (they must be
byte-identical), and the new path is checked not to import click, Polars, pyarrow or numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

from measure import installed, machine, mb
from workload import cached, mixed_trail

CASES = [["-m", "AUE_EXECVE"], ["-u", "501"], ["-o", "file=/Users"], ["-c", "ex"]]

# python -P -c CODE ARGS...: sys.argv is ["-c", *ARGS]; what the knox-report script runs
_NEW = ("import sys\nfrom forensics.cli.main import main\n"
        "sys.argv = ['knox-report', 'reduce', *sys.argv[1:]]\nsys.exit(main())\n")
_OLD = ("import sys\nimport forensics.reduce as r\nr._program = lambda selection, tables: None\n"
        "from forensics.cli.main import main\n"
        "sys.argv = ['knox-report', 'reduce', *sys.argv[1:]]\nsys.exit(main())\n")
# main(ARGS) returns instead of ending the process at once, so the modules can be listed
_CHECK = ("import sys, json\nfrom forensics.cli.main import main\n"
          "code = main(['reduce', *sys.argv[1:]])\n"
          "print(json.dumps(sorted(m for m in ('click', 'polars', 'pyarrow', 'numpy') "
          "if m in sys.modules)), file=sys.stderr)\nsys.exit(code)\n")


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _digest(python: str, code: str, args: list[str]) -> tuple[str, int, str]:
    """(sha256 of the output, its size, the child's stderr) of one run, from a temp folder."""
    with tempfile.TemporaryDirectory(prefix="knox-bench-") as cwd:
        out = os.path.join(cwd, "out.trail")
        proc = subprocess.run([python, "-P", "-c", code, "--output", out, *args],
                              cwd=cwd, env=_env(), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RuntimeError(f"reduce {' '.join(args)} failed: {proc.stderr[-800:]}")
        with open(out, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        return digest, os.path.getsize(out), proc.stderr


def _timed(cmd: list[str]) -> dict:
    """Wall time and peak RSS of one whole process, output to /dev/null, from a temp folder.

    The peak comes from GNU time (a small parent): a process's ru_maxrss counts the memory of
    the process that forked it, so taken here it would include this benchmark's own.
    """
    gnu_time = "/usr/bin/time"
    if not os.path.exists(gnu_time):
        return _plain(cmd)
    with tempfile.TemporaryDirectory(prefix="knox-bench-") as cwd:
        t0 = time.perf_counter()
        proc = subprocess.run([gnu_time, "-f", "%M", *cmd], cwd=cwd, env=_env(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed: {proc.stderr[-800:]}")
    return {"seconds": seconds, "peak_rss": int(proc.stderr.strip().splitlines()[-1]) * 1024}


def _plain(cmd: list[str]) -> dict:
    """As _timed without GNU time (the peak then includes this process's own memory)."""
    with tempfile.TemporaryDirectory(prefix="knox-bench-") as cwd:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed")
    return {"seconds": seconds, "peak_rss": usage.ru_maxrss * 1024}


def _best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=105, help="size of the input trail in MB")
    parser.add_argument("--repeat", type=int, default=7, help="runs per case (best shown)")
    parser.add_argument("--auditreduce", default=os.environ.get("AUDITREDUCE"),
                        help="an OpenBSM auditreduce binary to measure beside")
    args = parser.parse_args()
    path = cached(f"mixed-{args.mb}MB.trail", lambda: mixed_trail(args.mb * 1_000_000))
    size, p = path.stat().st_size, str(path)
    print(machine())
    print(f"input: {path.name}, {mb(size)} MB; whole processes, output to /dev/null, "
          f"best of {args.repeat}, the cases of one row alternating; knox-report as "
          "`pip install .` lays it out")
    print()
    print("| case | path | seconds | peak RSS (MB) | output (MB) |")
    print("|---|---|---:|---:|---:|")
    with installed() as python:
        for case in CASES:
            _case(python, case, p, args)


def _case(python: str, case: list[str], p: str, args) -> None:
    new_sum, new_len, new_err = _digest(python, _CHECK, [*case, p])
    old_sum, _, _ = _digest(python, _OLD, [*case, p])
    heavy = json.loads(new_err.strip().splitlines()[-1])
    label = " ".join(case)
    same = "identical" if new_sum == old_sum else "DIFFERENT"
    loaded = ", ".join(heavy) or "no click/polars/pyarrow/numpy"
    rows = {f"new (C walk; output {same} to old; imports: {loaded})":
            [python, "-P", "-c", _NEW, *case, p],
            "old (records frame)": [python, "-P", "-c", _OLD, *case, p]}
    if args.auditreduce:
        rows["OpenBSM auditreduce"] = [args.auditreduce, *case, p]
    runs: dict[str, list] = {name: [] for name in rows}
    for _ in range(args.repeat):
        for name, cmd in rows.items():
            runs[name].append(_timed(cmd))
    for name, results in runs.items():
        res = _best(results)
        out = "" if name.startswith("OpenBSM") else mb(new_len)
        print(f"| `{label}` | {name} | {res['seconds']:.3f} | {mb(res['peak_rss'])} | {out} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
