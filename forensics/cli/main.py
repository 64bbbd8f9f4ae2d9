"""The ``knox-report`` command's entry point.

``knox-report PATH... [selection]`` is the main job; ``praudit``, ``reduce`` and ``export`` are
subcommands (:mod:`forensics.cli.commands`). A plain ``knox-report reduce`` command line runs
without click (:func:`forensics.cli.reduce_run.quick`): reduce starts as fast as auditreduce.
User mistakes print one line and exit non-zero; so does anything unexpected (``--debug``
shows its traceback).
"""

from __future__ import annotations

import os
import sys

from ..errors import KnoxError
from .terminal import line

__all__ = ["main", "cli"]

#: Polars' allocator (jemalloc) keeps freed pages for 0.5 s, then 1 s more as pages the kernel
#: may take but still counts, and keeps them per arena (four per core). The main job frees
#: large intermediate frames one step after another: handing them back within 0.1 s, from one
#: arena, keeps its peak near what is alive (about 20% lower, at no cost in time; purging at
#: once would cost a fifth more time for 5% less). jemalloc reads this when Polars loads, the
#: last value of a setting winning; Polars puts its own defaults first, and a parent process
#: that imported Polars passes those down, so these settings go last (any other is kept).
_DECAY = "dirty_decay_ms:100,muzzy_decay_ms:0,narenas:1"
os.environ["_RJEM_MALLOC_CONF"] = ",".join(
    filter(None, (os.environ.get("_RJEM_MALLOC_CONF"), _DECAY)))


def __getattr__(name: str):
    if name == "cli":               # the click group, imported when asked for
        from .commands import cli
        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _echo(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("KNOX_REPORT_DEBUG"))
    args = [a for a in args if a != "--debug"]
    try:
        return _dispatch(args, leave=argv is None)
    except KnoxError as err:
        if debug:
            raise
        _echo(f"knox-report: {line(err)}")
        return 2
    except MemoryError:
        if debug:
            raise
        _echo("knox-report: out of memory; select less (--since/--until, -m, -u) or "
              "read fewer files at once")
        return 1
    except Exception as err:       # noqa: BLE001 - never a traceback for a user
        if debug:
            raise
        first = (str(err).splitlines() or [""])[0][:300]
        _echo(f"knox-report: internal error: {type(err).__name__}: {line(first)} "
              "(run again with --debug for the traceback)")
        return 1


def _dispatch(args: list[str], leave: bool = False) -> int:
    if args[:1] == ["reduce"]:
        from .reduce_run import quick
        try:
            code = quick(args[1:])
        except BrokenPipeError:
            return 0
        except OSError as err:
            _echo(f"knox-report: {line(err.filename or '')}: {err.strerror or err}")
            return 1
        if code is not None:
            if leave:
                _leave(code)
            return code
    from .commands import run
    return run(args)


def _leave(code: int) -> None:
    """End the process at once after a plain ``reduce`` run from the command line: it holds
    nothing that needs Python's teardown (freeing every module costs about as much as reading
    50 MB), and what it printed is flushed here."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
