"""Notebook helpers on an :class:`~forensics.audit.Audit` (mixed into it): questions analysts ask
of the frames. Reads frames only.

    audit.tree(proc_id)            the process and everything it started, as a frame
    audit.tree_text(proc_id)       the same as indented text
    audit.ancestors(proc_id)       its parent, the parent's parent, ... up to the first one known
    audit.descendants(proc_id)     everything it started, at any depth
    audit.person("alice")          their sessions, commands, files and processes
    audit.who_touched("/Volumes/*/report.pdf")   every record naming a matching path, and who
    audit.section("commands")      one report section, shown inline in Jupyter
    audit.write("out/", "parquet") the frames as files (see forensics.report.exports)

Lifetimes are linked by ``processes.parent_proc_id`` (who forked or spawned it) or, with
``via="responsible"``, by ``responsible_proc_id`` (who asked for it: the XPC client of a launchd
helper).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from .errors import SelectionError

__all__ = ["Explore", "Person", "Section", "glob_regex"]

Via = Literal["parent", "responsible"]
_LINK = {"parent": "parent_proc_id", "responsible": "responsible_proc_id"}
#: Columns of the process frames the tree helpers return (``depth`` first).
TREE_COLUMNS = ("proc_id", "parent_proc_id", "responsible_proc_id", "pid", "ppid", "start",
                "end", "start_evidence", "end_evidence", "exit_status", "images", "argv",
                "user", "user_kind", "user_confidence", "euid")
#: Classes of events that touch files (the event table's short names).
FILE_CLASSES = ["fr", "fw", "fc", "fd", "fm", "fa", "cl"]
_REGEX_SPECIAL = set("\\.+*?()|[]{}^$#&-~")


@dataclass
class Person:
    """One person's part in the audit: every frame filtered to them (``uid``)."""
    uid: int
    name: str | None
    sessions: pl.DataFrame      #: logins, su/sudo to or from them, their audit sessions
    commands: pl.DataFrame      #: exec/spawn events behind which they are (direct or inferred)
    files: pl.DataFrame         #: file events behind which they are, one row per path
    processes: pl.DataFrame     #: the lifetimes attributed to them

    def __repr__(self) -> str:
        who = f"{self.name} ({self.uid})" if self.name else str(self.uid)
        return (f"Person({who}: {self.sessions.height} sessions, {self.commands.height} "
                f"commands, {self.files.height} file events, {self.processes.height} processes)")


@dataclass
class Section:
    """One report section as HTML; Jupyter shows it inline through ``_repr_html_``."""
    name: str
    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def glob_regex(pattern: str) -> str:
    """A shell-style glob as an anchored regular expression for Polars.

    ``*`` matches any run of characters (``/`` included), ``?`` one character, ``[abc]`` and
    ``[!abc]`` a set; everything else matches itself. A pattern without wildcards is a path.
    """
    out, i, n = ["(?s)^"], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and _set_end(pattern, i) > 0:
            end = _set_end(pattern, i)
            body = pattern[i + 1:end]
            neg = body.startswith("!")
            body = body[1:] if neg else body
            out.append("[" + ("^" if neg else "") + _set_body(body) + "]")
            i = end
        else:
            out.append("\\" + c if c in _REGEX_SPECIAL else c)
        i += 1
    return "".join(out) + "$"


def _set_body(body: str) -> str:
    """The inside of a glob set for the regex engine: ranges (``a-z``) kept, the characters
    its set syntax gives meaning (``[ ] \\ ^ & ~`` and a second ``-``) escaped."""
    out = []
    for i, ch in enumerate(body):
        special = ch in "\\[]^&~" or (ch == "-" and i and body[i - 1] == "-")
        out.append("\\" + ch if special else ch)
    return "".join(out)


def _set_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the set that opens at ``start``, or -1 (a literal ``[``)."""
    j = start + 1
    if pattern[j:j + 1] == "!":
        j += 1
    if pattern[j:j + 1] == "]":
        j += 1
    return pattern.find("]", j)


class Explore:
    """Methods every ``Audit`` has for deep dives in a notebook."""

    # --- exports ---------------------------------------------------------------------------

    def write(self, folder: str | Path, format: str = "parquet", *, frames=None,
              progress=None) -> dict[str, Path]:
        """Write the frames into ``folder``: ``parquet``, ``csv``, ``jsonl`` (one file per frame;
        ``frames`` picks some, default all), ``timesketch`` or ``timesketch-csv`` (one timeline
        file). Returns {name: path}.

        ``forensics.read(folder)`` reads a Parquet export back. The file formats and their
        encoding rules: :mod:`forensics.report.exports` and :mod:`forensics.report.timesketch`.
        """
        if format in ("timesketch", "timesketch-csv"):
            from .report import timesketch
            path = timesketch.write(self, folder, csv=format == "timesketch-csv",
                                    progress=progress)
            return {"timeline": path}
        from .report import exports
        return exports.write(self, folder, format, frames=frames or exports.FRAMES,
                             progress=progress)

    # --- process trees ---------------------------------------------------------------------

    def _links(self, via: Via) -> tuple[dict[str, str], dict[str, list[str]]]:
        """(child -> parent, parent -> children) over ``processes``, following ``via``."""
        column = _LINK[via]
        pairs = self.processes.select("proc_id", column).rows()
        up = {child: parent for child, parent in pairs if parent is not None and parent != child}
        down: dict[str, list[str]] = {}
        for child, parent in up.items():
            down.setdefault(parent, []).append(child)
        return up, down

    def _lives(self, order: list[tuple[str, int]]) -> pl.DataFrame:
        """``processes`` rows of ``order`` (proc_id, depth), in that order, depth first."""
        wanted = pl.DataFrame(order, schema={"proc_id": pl.String, "depth": pl.UInt32},
                              orient="row")
        procs = self.processes
        columns = [c for c in TREE_COLUMNS if c in procs.columns]
        return (wanted.join(procs.select(columns), on="proc_id", how="left",
                            maintain_order="left")
                .with_columns(pl.col("images").list.last().alias("image"))
                .select("depth", "proc_id", "image", *[c for c in columns if c != "proc_id"]))

    def _known(self, proc_id: str) -> None:
        if not self.processes.filter(pl.col("proc_id") == proc_id).height:
            raise SelectionError(f"no process {proc_id!r} (see audit.processes['proc_id'])")

    def _walk(self, proc_id: str, via: Via) -> list[tuple[str, int]]:
        _up, down = self._links(via)
        order, stack, seen = [], [(proc_id, 0)], set()
        while stack:
            node, depth = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            order.append((node, depth))
            stack.extend((child, depth + 1) for child in reversed(down.get(node, [])))
        return order

    def tree(self, proc_id: str, *, via: Via = "parent", text: bool = False) -> pl.DataFrame | str:
        """The process ``proc_id`` and every process below it, depth first (``depth`` 0 is it).

        ``via="responsible"`` follows who asked for a process instead of who started it.
        ``text=True`` returns :meth:`tree_text` instead of a frame.
        """
        if text:
            return self.tree_text(proc_id, via=via)
        self._known(proc_id)
        return self._lives(self._walk(proc_id, via))

    def descendants(self, proc_id: str, *, via: Via = "parent") -> pl.DataFrame:
        """Every process started below ``proc_id`` (``depth`` 1 = its children), depth first."""
        self._known(proc_id)
        return self._lives(self._walk(proc_id, via)[1:])

    def ancestors(self, proc_id: str, *, via: Via = "parent") -> pl.DataFrame:
        """``proc_id``'s parent (``depth`` 1), its parent (2), ... up to the first one known."""
        self._known(proc_id)
        up, _down = self._links(via)
        order, node, seen = [], proc_id, {proc_id}
        while node in up and up[node] not in seen:
            node = up[node]
            seen.add(node)
            order.append((node, len(order) + 1))
        return self._lives(order)

    def tree_text(self, proc_id: str, *, via: Via = "parent") -> str:
        """:meth:`tree` as indented lines: pid, program, arguments, person, start and end.

        Control characters in evidence strings are shown as ``\\x1b``-style escapes.
        """
        rows = self.tree(proc_id, via=via).iter_rows(named=True)
        return "\n".join(_tree_line(r) for r in rows) + "\n"

    # --- people and paths ------------------------------------------------------------------

    def _uid(self, who: int | str) -> tuple[int, str | None]:
        if isinstance(who, int) or (isinstance(who, str) and who.isdigit()):
            uid = int(who)
            names = self.events.filter(pl.col("user") == uid)["user_name"].drop_nulls()
            name = names[0] if names.len() else self.tables.users.user_name(uid)
            return uid, name
        hit = self.events.filter(pl.col("user_name") == who)["user"].drop_nulls()
        uid = int(hit[0]) if hit.len() else self.tables.users.uid(who)
        if uid is None:
            sess = self.sessions.filter(pl.col("user_name") == who)["user"].drop_nulls()
            uid = int(sess[0]) if sess.len() else None
        if uid is None:
            raise SelectionError(f"no user named {who!r} in the evidence's tables or frames")
        return uid, who

    def person(self, who: int | str) -> Person:
        """One person (uid, or user name as the evidence's tables give it): their sessions,
        the commands and file events attributed to them, and their processes."""
        uid, name = self._uid(who)
        mine = self.events.filter(pl.col("user") == uid)
        sessions = self.sessions.filter((pl.col("user") == uid) | (pl.col("target_user") == uid))
        return Person(uid=uid, name=name, sessions=sessions.sort("start", nulls_last=True),
                      commands=_commands(mine), files=_file_events(mine),
                      processes=self.processes.filter(pl.col("user") == uid))

    def who_touched(self, path_or_glob: str) -> pl.DataFrame:
        """Every record naming a path that matches (a path, or a glob: ``*``, ``?``, ``[...]``),
        one row per record and path, with the person behind it and how sure that is."""
        regex = glob_regex(path_or_glob)
        try:
            pl.Series([""]).str.contains(regex)
        except pl.exceptions.ComputeError as exc:
            raise SelectionError(f"not a usable glob: {path_or_glob!r}") from exc
        rows = (self.events.select(*_WHO_COLUMNS, pl.col("paths").alias("path"))
                .explode("path")
                .filter(pl.col("path").str.contains(regex))
                .unique(["source", "offset", "path"], maintain_order=True))
        return rows.select("time", "path", *[c for c in _WHO_COLUMNS if c != "time"])

    # --- report sections -------------------------------------------------------------------

    def section(self, name: str) -> Section:
        """One section of the HTML report (run, coverage, people, commands, files, inferred,
        failures, network, timeline, records), shown inline by Jupyter."""
        try:
            from .report.html import render_section
        except ImportError:
            render_section = None
        if render_section is not None:
            return Section(name, render_section(self, name))
        return Section(name, _html_table(name, _section_frame(self, name)))


_WHO_COLUMNS = ("time", "user", "user_name", "attribution_kind", "confidence", "elevated",
                "image", "pid", "proc_id", "event_name", "success", "source", "offset")


def _commands(events: pl.DataFrame) -> pl.DataFrame:
    return (events.filter(pl.col("exec_argv").is_not_null())
            .select("time", "user", "user_name", "attribution_kind", "confidence", "elevated",
                    "euid", "pid", "proc_id", "image", "exec_argv", "success", "source",
                    "offset"))


def _file_events(events: pl.DataFrame) -> pl.DataFrame:
    touches = pl.col("event_classes").list.set_intersection(pl.lit(FILE_CLASSES)).list.len() > 0
    return (events.filter(touches & (pl.col("paths").list.len() > 0))
            .select(*_WHO_COLUMNS, pl.col("paths").alias("path"))
            .explode("path")
            .unique(["source", "offset", "path"], maintain_order=True))


def _clean(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256
                   else f"\\u{ord(c):04x}" for c in text)


def _tree_line(row: dict) -> str:
    argv = " ".join(row["argv"] or []) or row["image"] or "(program not seen)"
    who = "nobody" if row["user"] is None else f"uid {row['user']}"
    if row["user"] is not None and row["user_kind"] == "inferred":
        who += f" (inferred {row['user_confidence']})"
    span = f"{_stamp(row['start'])} .. {_stamp(row['end'])}"
    return f"{'    ' * row['depth']}{row['pid']} {_clean(argv)}  [{who}; {span}]"


def _stamp(t) -> str:
    return "?" if t is None else t.strftime("%H:%M:%S.%f")[:-3]


def _section_frame(audit, name: str) -> pl.DataFrame:
    """The frame a report section is about (the fallback when the HTML report is absent)."""
    events = audit.events
    frames = {
        "run": lambda: audit.sources.select("path", "kind", "read", "records", "bytes"),
        "coverage": lambda: audit.sources,
        "people": lambda: audit.sessions,
        "commands": lambda: _commands(events),
        "files": lambda: _file_events(events),
        "inferred": lambda: audit.processes.filter(pl.col("user_kind") == "inferred"),
        "failures": lambda: events.filter(pl.col("success") == False).select(  # noqa: E712
            *_WHO_COLUMNS, "return_errno", "paths"),
        "network": lambda: events.filter(pl.col("event_classes").list.contains("nt")).select(
            *_WHO_COLUMNS, "remote_address", "remote_port", "local_address", "local_port"),
        "timeline": lambda: events.group_by(pl.col("time").dt.truncate("1h").alias("hour"),
                                            "user_name").len().sort("hour"),
        "records": lambda: audit.records.select("source", "offset", "time", "event_name",
                                                "auid", "pid", "paths"),
    }
    if name not in frames:
        raise SelectionError(f"no report section {name!r}: one of {', '.join(frames)}")
    return frames[name]()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "<br>".join(html.escape(_clean(str(v))) for v in value)
    return html.escape(_clean(str(value)))


def _html_table(name: str, frame: pl.DataFrame, limit: int = 200) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.head(limit).iter_rows())
    note = (f"<p>showing {min(limit, frame.height)} of {frame.height} rows</p>"
            if frame.height > limit else "")
    return (f'<section data-section="{html.escape(name)}"><h3>{html.escape(name)}</h3>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</section>")
