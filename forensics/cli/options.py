"""auditreduce's options, the time window and the evidence's tables as click options.

The selection layer (:mod:`forensics.collection.selection`) knows nothing of click; the
commands that take a selection (``knox-report PATH...`` and ``knox-report reduce``) get their
options from :func:`click_options` here, under the keyword names of :func:`forensics.load`.
"""

from __future__ import annotations

import functools
import re

import click

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
        extra = tuple("file=" + p.replace(",", "\\,") for p in kwargs.pop("path_regex", ()) or ())
        if extra or "objects" in kwargs:
            kwargs["objects"] = tuple(kwargs.get("objects", ()) or ()) + extra
        return f(*args, **kwargs)
    return wrapper


def click_options(f=None, *, object_short: bool = True):
    """Add auditreduce's options, the time window and the evidence's tables to a command.

    The keyword names match :func:`forensics.audit.load` (and so
    :meth:`Selection.from_options`): event, klass, auid, euid, egid, ruid, rgid, pid,
    objects, zone, after, before, date, invert, all, since, until, tz, audit_event,
    audit_class, passwd, group, dslocal. ``after``/``before``/``date`` arrive as tuples so
    that giving one twice is an error, as in auditreduce. ``object_short=False`` leaves out
    ``-o`` (only ``--object`` and ``--path`` remain) for commands that use ``-o`` otherwise.
    """
    if f is None:
        return functools.partial(click_options, object_short=object_short)

    def opt(*decls, **kw):
        kw.setdefault("show_default", False)
        return click.option(*decls, **kw)

    object_decls = ("-o", "--object") if object_short else ("--object",)
    options = [
        opt("-m", "--event", "event", multiple=True, metavar="EVENT",
            help="Event number or AUE_ name (repeatable, ORed)."),
        opt("-c", "--class", "klass", metavar="FLAGS",
            help="Audit classes, audit_control style: lo,+fr,-fw,^ex."),
        opt("-u", "--user", "auid", multiple=True, metavar="USER",
            help="Audit user (auid): number or name (repeatable, ORed)."),
        opt("-e", "--euid", "euid", multiple=True, metavar="USER", help="Effective user."),
        opt("-f", "--egid", "egid", multiple=True, metavar="GROUP", help="Effective group."),
        opt("-r", "--ruid", "ruid", multiple=True, metavar="USER", help="Real user."),
        opt("-g", "--rgid", "rgid", multiple=True, metavar="GROUP", help="Real group."),
        opt("-j", "--pid", "pid", multiple=True, metavar="PID", help="Subject pid."),
        opt(*object_decls, "objects", multiple=True, metavar="TYPE=VALUE",
            help="Object: file=RE[,~RE...], pid=N, msgqid=N, semid=N, shmid=N, "
                 "sock=PORT|ADDR|ADDR:PORT|/path (repeatable, ANDed across types)."),
        opt("--path", "path_regex", multiple=True, metavar="RE",
            help="Same as --object file=RE (a comma in RE is literal)."),
        opt("-z", "--zone", "zone", metavar="GLOB", help="Zone name (fnmatch glob)."),
        opt("-a", "--after", "after", multiple=True, metavar="YYYYMMDD[HH[MM[SS]]]",
            help="Records at or after this second (in --tz)."),
        opt("-b", "--before", "before", multiple=True, metavar="YYYYMMDD[HH[MM[SS]]]",
            help="Records at or before this second (in --tz)."),
        opt("-d", "--date", "date", multiple=True, metavar="YYYYMMDD",
            help="Records of this day (in --tz); exclusive with -a/-b."),
        opt("-v", "--invert", "invert", is_flag=True, help="Select the records that do NOT match."),
        opt("-A", "--all", "all", is_flag=True,
            help="All records (overrides -a/-b/-d, as in auditreduce)."),
        opt("--since", "since", metavar="WHEN",
            help="Window start: ISO time, epoch, 'yesterday', '2 hours ago', ..."),
        opt("--until", "until", metavar="WHEN", help="Window end (exclusive)."),
        opt("--tz", "tz", metavar="ZONE",
            help="Zone for dates without one (default: the local zone)."),
        opt("--audit-event", "audit_event", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/security/audit_event."),
        opt("--audit-class", "audit_class", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/security/audit_class."),
        opt("--passwd", "passwd", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/passwd (or master.passwd)."),
        opt("--group", "group", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/group."),
        opt("--dslocal", "dslocal", type=click.Path(exists=True, file_okay=False),
            help="The evidence's /var/db/dslocal/nodes/Default folder."),
    ]
    f = _merge_paths(f)
    for option in reversed(options):
        f = option(f)
    return f


def selection_kwargs(options: dict) -> dict:
    """The keywords of :meth:`Selection.from_options` found in a dict of click values."""
    names = ("event", "klass", "auid", "euid", "egid", "ruid", "rgid", "pid", "objects",
             "zone", "after", "before", "date", "invert", "all")
    return {k: options[k] for k in names if k in options}
