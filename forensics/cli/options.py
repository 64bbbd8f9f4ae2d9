"""auditreduce's options, the time window and the evidence's tables as click options.

The selection layer (:mod:`forensics.collection.selection`) knows nothing of click; the
commands that take a selection (``knox-report PATH...`` and ``knox-report reduce``) get their
options from :func:`click_options` here, under the keyword names of :func:`forensics.load`.
"""

from __future__ import annotations

import functools
import re

import click

from .flags import SELECTION, merge_paths

__all__ = ["click_options", "selection_kwargs", "split_outputs"]

#: an ``-o`` value that is auditreduce's object filter, not an output
_OBJECT = re.compile(r"^(file|pid|msgqid|semid|shmid|sock)=")


def split_outputs(outputs, objects: list, what: str) -> str | None:
    """``-o`` both names the output and, as in auditreduce, filters objects (``-o file=RE``):
    the filters go to ``objects``; the output named once (None when not named). ``what``
    names the output in the error for a second one."""
    output = None
    for value in outputs:
        if _OBJECT.match(value):
            objects.append(value)
        elif output is None:
            output = value
        else:
            raise click.UsageError(f"-o given twice for the {what}")
    return output


def _merge_paths(f):
    """Fold ``--path RE`` into ``objects`` as ``file=RE`` before the command runs."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **merge_paths(kwargs))
    return wrapper


#: click's keywords for each kind of flags.SELECTION
_KINDS = {"many": {"multiple": True}, "one": {}, "flag": {"is_flag": True},
          "file": {"type": click.Path(exists=True, dir_okay=False)},
          "folder": {"type": click.Path(exists=True, file_okay=False)}}


def click_options(f=None, *, object_short: bool = True):
    """Add auditreduce's options, the time window and the evidence's tables
    (:data:`forensics.cli.flags.SELECTION`) to a command.

    The keyword names match :func:`forensics.audit.load` (and so
    :meth:`Selection.from_options`): event, klass, auid, euid, egid, ruid, rgid, pid,
    objects, zone, after, before, date, invert, all, since, until, tz, audit_event,
    audit_class, passwd, group, dslocal. ``after``/``before``/``date`` arrive as tuples so
    that giving one twice is an error, as in auditreduce. ``object_short=False`` leaves out
    ``-o`` (only ``--object`` and ``--path`` remain) for commands that use ``-o`` otherwise.
    """
    if f is None:
        return functools.partial(click_options, object_short=object_short)
    options = []
    for decls, keyword, kind, metavar, text in SELECTION:
        if keyword == "objects" and not object_short:
            decls = tuple(d for d in decls if d != "-o")
        kw = dict(_KINDS[kind], show_default=False, help=text)
        if metavar:
            kw["metavar"] = metavar
        options.append(click.option(*decls, keyword, **kw))
    f = _merge_paths(f)
    for option in reversed(options):
        f = option(f)
    return f


def selection_kwargs(options: dict) -> dict:
    """The keywords of :meth:`Selection.from_options` found in a dict of click values."""
    names = ("event", "klass", "auid", "euid", "egid", "ruid", "rgid", "pid", "objects",
             "zone", "after", "before", "date", "invert", "all")
    return {k: options[k] for k in names if k in options}
