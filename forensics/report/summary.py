"""The text summary (``knox-report PATH --text``): the report's structure as terminal text.

Renders the same :class:`~forensics.report.sections.Report` the HTML page does; every cell goes
through the ``term`` filter (control characters visible, long cells cut with a marker).
"""

from __future__ import annotations

from . import environment as templates
from .cells import Table
from .sections import Report, Run, build

__all__ = ["render", "render_report", "SECTIONS"]

#: the sections the text summary reads (the others are not built for it)
SECTIONS = frozenset({"run", "coverage", "people", "commands", "files", "inferred"})

#: rows each text table shows
_ROWS = {"commands": 40, "logins": 30, "inferred": 20, "people": 30, "event-types": 15}
_CHANGES = (("renamed", ("rename",)), ("deleted", ("delete",)),
            ("created or written", ("create", "write", "truncate")),
            ("with mode or owner changed", ("chmod", "chown")))


def render(audit, zone, run: Run | None = None) -> str:
    """The text summary of an ``Audit`` (builds the structure)."""
    run = run or Run(zone=str(zone))
    return render_report(build(audit, run, only=SECTIONS))


def _pick(table: Table | None, *columns: str, rows: int | None = None) -> list[tuple]:
    if table is None:
        return []
    at = [table.columns.index(c) for c in columns]
    out = []
    for row in table.rows[:rows]:
        out.append(tuple(_plain(row[i]) for i in at))
    return out


def _plain(value):
    if isinstance(value, (list, tuple)):
        return " ".join(_quote(a) for a in value)
    if hasattr(value, "parts"):
        return value.text
    return value


def _quote(arg: str) -> str:
    """Argument boundaries kept: an argument with blanks or quotes is quoted."""
    if arg and not any(c in arg for c in " \t\n'\"\\"):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def _sections(report: Report) -> list[tuple[str, tuple, list, int]]:
    s = report.sections
    out = []
    types = s["coverage"].table("event-types")
    out.append(("Events", ("event", "records"), _pick(types, "event", "records", rows=15), 160))
    people = s["people"].table("people")
    out.append(("People (from attribution: who is behind the records)",
                ("person", "records", "direct", "inferred", "elevated", "commands"),
                _pick(people, "person", "records", "direct", "inferred", "elevated", "commands",
                      rows=30), 160))
    cmds = s["commands"].table("commands")
    if cmds is not None and cmds.total:
        n = min(cmds.total, 40)
        rows = [(t, p, h + (", elevated" if e else ""), ids, pid, argv)
                for t, p, h, e, ids, pid, argv in _pick(cmds, "time", "person", "how sure",
                                                        "elevated", "ids", "pid", "argv", rows=40)]
        out.append((f"Commands run (first {n} of {cmds.total:,}; person = who is behind it)",
                    ("time", "person", "how sure", "ids", "pid", "argv"), rows, 160))
    logins = s["people"].table("logins")
    if logins is not None and logins.total:
        out.append(("Logins and sessions", ("start", "how", "user", "target", "session", "ok"),
                    [(t, h, p, a, sid or "", {"ok": "yes"}.get(r, r)) for t, h, p, a, r, sid in
                     _pick(logins, "time", "how", "person", "as", "result", "session", rows=30)],
                    160))
    inferred = s["inferred"].table("inferred")
    if inferred is not None and inferred.total:
        out.append(("Inferred attributions (no audit user on the records; evidence below)",
                    ("process", "program", "person", "how sure", "evidence"),
                    _pick(inferred, "process", "program", "person", "how sure", "evidence",
                          rows=20), 400))
    changes = s["files"].table("changes")
    for what, actions in _CHANGES:
        if changes is None:
            break
        rows = [r[1:] for r in _pick(changes, "action", "time", "person", "how sure", "pid",
                                     "path", "result") if r[0] in actions][:20]
        if rows:
            out.append((f"Files {what} (first {len(rows)})",
                        ("time", "person", "how sure", "pid", "path", "result"), rows, 160))
    return out


def render_report(report: Report) -> str:
    v = report.sections["run"].values
    cov = report.sections["coverage"]
    files = [(f, k, r if read == "read" else "-", d if read == "read" else "-",
              "" if read == "read" else read.removeprefix("not read: "))
             for f, k, read, r, d in _pick(cov.table("sources"), "file", "kind", "read",
                                           "records", "damaged bytes")]
    context = {
        "zone": report.run.zone, "backend": v["backend"], "files_read": v["files_read"],
        "files_unread": v["files_unread"], "bytes_read": v["bytes_read"], "files": files,
        "records": v["records"], "first": v["first"], "last": v["last"],
        "damage": _pick(cov.table("errors"), "file", "offset", "length", "reason", rows=20),
        "damage_spans": v["damage_spans"], "damage_bytes": v["damage_bytes"],
        "sections": _sections(report) if v["records"] else [],
    }
    return templates.environment().get_template("summary.txt.j2").render(context)
