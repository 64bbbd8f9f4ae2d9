"""auditreduce's options, the time window and the evidence's tables, as data.

One table for two readers: :func:`forensics.cli.options.click_options` makes click options of
it, and :mod:`forensics.cli.quick` parses a plain command line with it (so that
``knox-report reduce`` starts without importing click). Imports nothing.

Each entry is ``(declarations, keyword, kind, metavar, help)``. Kinds: ``many`` (a value,
repeatable, gathered in a tuple), ``one`` (a value; given twice, the last wins), ``flag``,
``file`` (an existing file), ``folder`` (an existing folder). The keywords are those of
:func:`forensics.audit.load` (and so of ``Selection.from_options``).
"""

from __future__ import annotations

__all__ = ["SELECTION", "merge_paths"]

SELECTION = (
    (("-m", "--event"), "event", "many", "EVENT",
     "Event number or AUE_ name (repeatable, ORed)."),
    (("-c", "--class"), "klass", "one", "FLAGS",
     "Audit classes, audit_control style: lo,+fr,-fw,^ex."),
    (("-u", "--user"), "auid", "many", "USER",
     "Audit user (auid): number or name (repeatable, ORed)."),
    (("-e", "--euid"), "euid", "many", "USER", "Effective user."),
    (("-f", "--egid"), "egid", "many", "GROUP", "Effective group."),
    (("-r", "--ruid"), "ruid", "many", "USER", "Real user."),
    (("-g", "--rgid"), "rgid", "many", "GROUP", "Real group."),
    (("-j", "--pid"), "pid", "many", "PID", "Subject pid."),
    (("-o", "--object"), "objects", "many", "TYPE=VALUE",
     "Object: file=RE[,~RE...], pid=N, msgqid=N, semid=N, shmid=N, "
     "sock=PORT|ADDR|ADDR:PORT|/path (repeatable, ANDed across types)."),
    (("--path",), "path_regex", "many", "RE", "Same as --object file=RE (a comma in RE is literal)."),
    (("-z", "--zone"), "zone", "one", "GLOB", "Zone name (fnmatch glob)."),
    (("-a", "--after"), "after", "many", "YYYYMMDD[HH[MM[SS]]]",
     "Records at or after this second (in --tz)."),
    (("-b", "--before"), "before", "many", "YYYYMMDD[HH[MM[SS]]]",
     "Records at or before this second (in --tz)."),
    (("-d", "--date"), "date", "many", "YYYYMMDD",
     "Records of this day (in --tz); exclusive with -a/-b."),
    (("-v", "--invert"), "invert", "flag", None, "Select the records that do NOT match."),
    (("-A", "--all"), "all", "flag", None,
     "All records (overrides -a/-b/-d, as in auditreduce)."),
    (("--since",), "since", "one", "WHEN",
     "Window start: ISO time, epoch, 'yesterday', '2 hours ago', ..."),
    (("--until",), "until", "one", "WHEN", "Window end (exclusive)."),
    (("--tz",), "tz", "one", "ZONE", "Zone for dates without one (default: the local zone)."),
    (("--audit-event",), "audit_event", "file", None, "The evidence's /etc/security/audit_event."),
    (("--audit-class",), "audit_class", "file", None, "The evidence's /etc/security/audit_class."),
    (("--passwd",), "passwd", "file", None, "The evidence's /etc/passwd (or master.passwd)."),
    (("--group",), "group", "file", None, "The evidence's /etc/group."),
    (("--dslocal",), "dslocal", "folder", None,
     "The evidence's /var/db/dslocal/nodes/Default folder."),
)


def merge_paths(kwargs: dict) -> dict:
    """Fold ``--path RE`` (``path_regex``) into ``objects`` as ``file=RE``, in place."""
    extra = tuple("file=" + p.replace(",", "\\,") for p in kwargs.pop("path_regex", ()) or ())
    if extra or "objects" in kwargs:
        kwargs["objects"] = tuple(kwargs.get("objects", ()) or ()) + extra
    return kwargs
