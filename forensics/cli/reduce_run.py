"""``knox-report reduce`` without click: the command's work (:func:`run`) and its quick start.

:func:`quick` reads a plain command line with :mod:`forensics.cli.quick` and runs it, so that
the common ``knox-report reduce -m AUE_EXECVE trail`` imports neither click nor Polars; any
other command line (``--help``, a usage error) returns None and goes to the click command in
:mod:`forensics.cli.reduce`, which runs the same :func:`run`.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import timezone

from ..bsm import choice as backends
from ..errors import BackendError, CollectionError, SelectionError, TableError, TimeError
from .flags import SELECTION, merge_paths
from .terminal import line as terminal_line

__all__ = ["EX_USAGE", "PROG", "OWN", "load_tables", "quick", "run"]

EX_USAGE = 64
PROG = "knox-report reduce"

#: reduce's own options, beside flags.SELECTION (same entry shape; see quick.parse)
OWN = (
    (("--output",), "output", "output", "FILE", "Write the trail here (default: stdout)."),
    (("--backend",), "backend", "choice", None, backends.VALID),
    (("-q", "--quiet"), "quiet", "flag", None, "Do not report skipped damage on stderr."),
)


def load_tables(audit_event=None, audit_class=None, passwd=None, group=None, dslocal=None):
    """The evidence's tables; audit_event class names resolve through the given audit_class."""
    from ..tables import ClassTable, EventTable, Tables, Users

    classes = ClassTable.from_file(audit_class) if audit_class else ClassTable.bundled()
    # NOTE: without --audit-event the bundled event table keeps the bundled class masks.
    events = (EventTable.from_file(audit_event, classes=classes) if audit_event
              else EventTable.bundled())
    return Tables(events, classes, Users.from_files(passwd=passwd, group=group, dslocal=dslocal))


def quick(args: list[str]) -> int | None:
    """Run ``knox-report reduce ARGS`` when the command line is a plain one (its exit code),
    else None: click then reads it."""
    from .quick import parse

    kwargs = parse(args, SELECTION + OWN)
    if kwargs is None:
        return None
    files = tuple(kwargs.pop("args"))
    if kwargs["output"] is None:
        kwargs["output"] = "-"
    return run(files, **merge_paths(kwargs))


def _say(message: str) -> None:
    sys.stderr.write(f"{PROG}: {terminal_line(message)}\n")
    sys.stderr.flush()


def run(files, output="-", backend=None, quiet=False, since=None, until=None, tz=None,
        audit_event=None, audit_class=None, passwd=None, group=None, dslocal=None,
        **options) -> int:
    """Select and write; the exit code. Usage errors print one line and give 64 (EX_USAGE),
    like auditreduce; tables, inputs and the output that cannot be read or written give 1
    before anything is written; an input that breaks while read gives 1 at the end."""
    from ..collection import selection as filters, timewords
    from ..reduce import collect_inputs, reduce as run_reduce

    def warn(text: str) -> None:
        if not quiet:
            _say(f"warning: {text}")

    try:
        backend = backends.choose(backend)
    except BackendError as exc:
        return _fail(str(exc), EX_USAGE)
    try:
        tables = load_tables(audit_event, audit_class, passwd, group, dslocal)
    except TableError as exc:
        return _fail(str(exc), 1)
    timed = tz or since or until or any(options.get(k) for k in ("after", "before", "date"))
    try:
        # the zone (the local one unless --tz) matters only to a time: none, none looked up
        zone = timewords.resolve_zone(tz) if timed else timezone.utc
        start, end = timewords.window(since, until, tz=zone)
        selection = filters.Selection.from_options(tables=tables, tz=zone, **options)
    except (TimeError, SelectionError) as exc:
        return _fail(str(exc), EX_USAGE)
    try:
        inputs = collect_inputs(files or ("-",), warn)
    except CollectionError as exc:
        return _fail(str(exc), 1)
    try:
        out = nullcontext(sys.stdout.buffer) if output == "-" else open(output, "wb")
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror or exc}", 1)
    with out as stream:
        stats = run_reduce(inputs, selection, stream, tables=tables, since=start, until=end,
                           backend=backend, warn=warn)
        stream.flush()
    return 1 if stats.read_errors else 0


def _fail(message: str, code: int) -> int:
    _say(message)
    return code
