"""Run one measured step in a fresh interpreter and report its time and peak memory.

Each case runs in its own process so that its peak RSS (``ru_maxrss``) is its own. The child
starts in a temporary folder with ``python -P``, so it imports the *installed* package (with its
compiled core) and never the source tree it was started from: run from a fresh clone, the source
tree has no built C core, and importing it would quietly measure the pure-Python decoder. Every
child reports the backend it decoded with and where it imported ``forensics`` from; ``run``
refuses a result measured on another backend than the one asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUNNER = r"""
import json, resource, sys, time
sys.path.append({bench!r})
setup = {setup!r}
stmt = {stmt!r}
ns = {{}}
try:                        # `import forensics` is lazy: load what a step uses before timing it
    import forensics.audit, polars  # noqa: E401
except ImportError:
    pass
exec(setup, ns)
t0 = time.perf_counter()
exec(stmt, ns)
seconds = time.perf_counter() - t0
extra = ns.get("extra", {{}})
facts = {{}}
if "forensics" in sys.modules:
    import forensics
    from forensics.bsm import backends
    audit = ns.get("a")
    facts = {{"backend": getattr(audit, "backend", None) or backends.choose(),
              "c_available": backends.c_available(), "package": forensics.__file__}}
def _hwm():
    # VmHWM is this process image's own peak; ru_maxrss would also count the parent's
    # resident pages when the child was started by vfork (Linux keeps the pre-exec peak)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"seconds": seconds,
                  "peak_rss": _hwm(),
                  **facts, **extra}}))
"""

_VERSIONS = r"""
import json, platform, sys
out = {"python": platform.python_version()}
for name in ("forensics", "polars", "pyarrow", "numpy", "jinja2", "matplotlib"):
    try:
        mod = __import__(name)
        out[name] = getattr(mod, "__version__", "?")
    except ImportError:
        out[name] = None
import forensics
from forensics.bsm import backends
out["package"] = forensics.__file__
out["c_available"] = backends.c_available()
print(json.dumps(out))
"""


class WrongBackend(RuntimeError):
    """The child decoded with another backend than the one the case is about."""


def _child(code: str, *, env: dict | None, cpus: str | None, tree: str | None = None) -> dict:
    cmd = [sys.executable, "-P", "-c", code]
    if cpus is not None and hasattr(os, "sched_setaffinity"):
        cmd = ["taskset", "-c", cpus, *cmd]
    child_env = {**os.environ, **(env or {})}
    child_env.pop("PYTHONPATH", None)               # nothing may put the source tree first
    if tree is not None:                            # ... but an earlier commit's, on purpose
        child_env["PYTHONPATH"] = tree
    with tempfile.TemporaryDirectory(prefix="knox-bench-") as cwd:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=child_env,
                             stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError(f"child failed ({out.returncode}): {out.stderr.strip()[-800:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(setup: str, stmt: str, *, env: dict | None = None, cpus: str | None = "0",
        backend: str | None = "c", tree: str | None = None) -> dict:
    """Time ``stmt`` after ``setup`` in a new Python; ``cpus`` pins it (one core by default).

    When the child imported ``forensics``, the backend it decoded with must be ``backend``
    (``None`` accepts any); a local variable ``a`` holding an ``Audit`` names it, else the
    default choice is reported. ``tree``: import ``forensics`` from that source tree (an
    earlier commit, C core built) instead of the installed package.
    """
    code = _RUNNER.format(bench=str(ROOT / "benchmarks"), setup=setup, stmt=stmt)
    res = _child(code, env=env, cpus=cpus, tree=tree)
    if backend is not None and "backend" in res and res["backend"] != backend:
        raise WrongBackend(f"measured the {res['backend']} backend, not {backend} "
                           f"(forensics from {res.get('package')}; C core built: "
                           f"{res.get('c_available')})")
    return res


def versions() -> dict:
    """Versions of the packages a child imports, and where ``forensics`` comes from."""
    return _child(_VERSIONS, env=None, cpus=None)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1e6:.1f} GB"
    except OSError:
        pass
    return "?"


def machine() -> str:
    """One paragraph: the machine, the software versions and the backend children use."""
    v = versions()
    if not v["c_available"]:
        raise WrongBackend(f"the installed forensics ({v['package']}) has no compiled C core: "
                           "install the project (pip install .) with a C compiler first")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    libs = ", ".join(f"{k} {v[k]}" for k in ("polars", "pyarrow", "numpy", "jinja2", "matplotlib")
                     if v.get(k))
    return (f"{stamp}; {platform.system()} {platform.release()} {platform.machine()}, {_cpu()}, "
            f"{os.cpu_count()} cores, {_memory()} RAM, load {load}\n"
            f"Python {v['python']}; knox-report {v['forensics']} from {v['package']} "
            f"(C core built); {libs}")


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f}"


#: Runs ``-m MODULE ARGS...`` or ``-c CODE ARGS...`` as Python would, then writes the process's
#: own peak (VmHWM) to the file named by KNOX_BENCH_PEAK. wait4's ru_maxrss cannot be used:
#: Linux carries the peak of the memory image a process had before exec into it, and a child
#: started by vfork (as subprocess does) had its parent's, so a large parent sets a floor.
_WRAPPER = r"""
import os, runpy, sys
def _peak():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    with open(os.environ["KNOX_BENCH_PEAK"], "w") as out:
                        out.write(str(int(line.split()[1]) * 1024))
    except OSError:
        pass
how, what, *rest = sys.argv[1:]
try:
    if how == "-m":
        sys.argv = [what, *rest]
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *rest]
        exec(compile(what, "<string>", "exec"), {"__name__": "__main__"})
finally:
    _peak()
"""


def run_command(args: list[str], *, env: dict | None = None, tree: str | None = None) -> dict:
    """Run ``python -P -m MODULE ...`` or ``python -P -c CODE ...`` (``args``) as a whole
    process from a temporary folder: its wall time and its own peak RSS (VmHWM), imports and
    start-up included. ``tree``: import ``forensics`` from this source tree (an earlier commit
    with its C core built, for "before" figures) instead of the installed package."""
    if not args or args[0] not in ("-m", "-c"):
        raise ValueError("run_command runs -m MODULE ... or -c CODE ...")
    child_env = {**os.environ, **(env or {})}
    child_env.pop("PYTHONPATH", None)
    if tree is not None:
        child_env["PYTHONPATH"] = tree
    with tempfile.TemporaryDirectory(prefix="knox-bench-") as cwd, \
            tempfile.TemporaryFile("w+") as err:
        peak_file = os.path.join(cwd, "peak")
        child_env["KNOX_BENCH_PEAK"] = peak_file
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-P", "-c", _WRAPPER, *args], cwd=cwd,
                                env=child_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(args[:3])}... failed ({proc.returncode}): "
                               f"{err.read().strip()[-800:]}")
        try:
            with open(peak_file) as f:
                peak = int(f.read())
        except (OSError, ValueError):
            peak = usage.ru_maxrss * 1024       # no /proc: the kernel's figure, floor and all
    return {"seconds": seconds, "peak_rss": peak}


@contextlib.contextmanager
def installed():
    """The interpreter of a temporary environment holding this package as ``pip install .``
    lays it out: the package copied (compiled core, templates as ``forensics/report_templates``,
    bytecode written), and the dependencies reached through a ``.pth`` line naming this
    environment's site-packages. Start-up is then what users have: an editable install adds
    setuptools' import hook to every process (about 10 ms here), and a source tree whose
    bytecode is not written (PYTHONDONTWRITEBYTECODE) compiles each module at every start."""
    import compileall
    import shutil
    import sysconfig

    import forensics

    package = Path(forensics.__file__).parent
    with tempfile.TemporaryDirectory(prefix="knox-bench-env-") as root:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", root], check=True)
        py = os.path.join(root, "bin", "python")
        purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                  "['purelib'])"], check=True, capture_output=True,
                                 text=True).stdout.strip()
        target = Path(purelib) / "forensics"
        shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", ".build-*"))
        templates = ROOT / "reports" / "templates"
        if templates.is_dir():
            shutil.copytree(templates, target / "report_templates",
                            ignore=shutil.ignore_patterns("__pycache__"))
        compileall.compile_dir(str(target), quiet=1)
        with open(Path(purelib) / "knox-bench-deps.pth", "w") as f:
            f.write(sysconfig.get_paths()["purelib"] + "\n")
        yield py
