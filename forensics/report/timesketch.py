"""The events (and sessions) as a Timesketch timeline: JSON Lines, or the same fields as CSV.

One line per event of ``audit.events``, then one per session start and end. Every line has the
same keys, and every key one JSON type on every line (Timesketch drops lines whose field type
changes):

* integers: ``timestamp`` (microseconds since the epoch) and ``offset`` (byte offset of the
  record in its trail);
* boolean: ``elevated`` (false when not known);
* arrays of strings: ``argv`` and ``paths`` (``[]`` when none);
* strings: everything else, ``""`` when not known. uids and pids are decimal strings so that an
  unknown one (``""``) is never mistaken for 0 (root, the kernel).

``message`` says who, how sure, and what was done, e.g. ``alice (501, inferred high, elevated)
DesktopServicesHelper created /Volumes/USB/report.pdf``; ``datetime`` is ISO 8601 with offset and
microseconds; ``timestamp_desc`` is ``Audit record time`` (``Session start``/``Session end`` on
session lines; a record whose header time is unreadable is placed at the epoch with ``Audit
record time (unreadable)``). No reserved field (``_id``, ``_index``, ``_type``, ``_source``) is
written. A string over 32,766 UTF-8 bytes (the longest term the search index keeps) is written
whole, and when an export holds one, two more string fields are on every line for that field:
``<field>_head`` (its first 256 characters) and ``<field>_sha256`` (of its UTF-8 bytes), empty
where the value is short. Strings keep the private-use mapping of invalid UTF-8 bytes
(``forensics.text``).

``timesketch-csv``: the same fields, RFC 4180 quoting (LF line ends), a header. No cell holds a
raw line break: in string fields a backslash is written ``\\\\``, a line feed ``\\n`` and a
carriage return ``\\r``; ``argv`` and ``paths`` hold their JSON array text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from ..tables import bsm_errno

__all__ = ["FIELDS", "LIMIT", "HEAD_CHARS", "write", "frame"]

LIMIT = 32_766
HEAD_CHARS = 256
CHUNK_ROWS = 50_000
#: Every field of a line, in order, with its JSON type (companions of long strings follow).
FIELDS = {
    "message": str, "datetime": str, "timestamp": int, "timestamp_desc": str, "data_type": str,
    "event_name": str, "user": str, "user_name": str, "attribution_kind": str,
    "confidence": str, "elevated": bool, "euid": str, "pid": str, "proc_id": str,
    "responsible_proc_id": str, "program": str, "argv": list, "command_line": str,
    "paths": list, "result": str, "remote": str, "text": str, "evidence": str, "source": str,
    "offset": int, "record": str,
}
_STRINGS = [name for name, kind in FIELDS.items() if kind is str]

_CREATE = ("WC", "RWC", "WTC", "RWTC")
_VERBS = {
    **{f"AUE_{e}": "ran" for e in ("EXECVE", "EXEC", "MAC_EXECVE", "FEXECVE")},
    "AUE_POSIX_SPAWN": "spawned", "AUE_FORK": "forked", "AUE_VFORK": "forked",
    "AUE_EXIT": "exited", "AUE_CLOSE": "closed", "AUE_CHDIR": "changed directory to",
    **{f"AUE_{op}_{m}": "created" for op in ("OPEN", "OPENAT") for m in _CREATE},
    **{f"AUE_{op}_R": "read" for op in ("OPEN", "OPENAT")},
    **{f"AUE_{op}_W": "opened for writing" for op in ("OPEN", "OPENAT")},
    **{f"AUE_{op}_RW": "opened for reading and writing" for op in ("OPEN", "OPENAT")},
    **{f"AUE_{op}_{m}": "truncated" for op in ("OPEN", "OPENAT") for m in ("WT", "RWT")},
    "AUE_UNLINK": "deleted", "AUE_UNLINKAT": "deleted", "AUE_RMDIR": "removed the folder",
    "AUE_MKDIR": "created the folder", "AUE_MKDIRAT": "created the folder",
    "AUE_RENAME": "renamed", "AUE_RENAMEAT": "renamed", "AUE_RENAMEX_NP": "renamed",
    "AUE_CHMOD": "changed the mode of", "AUE_FCHMOD": "changed the mode of",
    "AUE_FCHMODAT": "changed the mode of", "AUE_CHOWN": "changed the owner of",
    "AUE_LCHOWN": "changed the owner of", "AUE_FCHOWN": "changed the owner of",
    "AUE_FCHOWNAT": "changed the owner of", "AUE_TRUNCATE": "truncated", "AUE_LINK": "linked",
    "AUE_SYMLINK": "made a symbolic link", "AUE_CONNECT": "connected to",
    "AUE_BIND": "bound", "AUE_ACCEPT": "accepted a connection from", "AUE_KILL": "signalled",
    "AUE_SETUID": "set its uid", "AUE_SETEUID": "set its euid", "AUE_SETGID": "set its gid",
    "AUE_openssh": "logged in over ssh", "AUE_login": "logged in", "AUE_logout": "logged out",
    "AUE_su": "ran su", "AUE_sudo": "ran sudo", "AUE_ssauthorize": "asked for a right",
}
_DATA_TYPES = [   # (data_type, test) in order; the first that holds names the line
    ("macos:bsm:exec", pl.col("exec_argv").is_not_null()
     | pl.col("event_name").is_in(["AUE_EXECVE", "AUE_EXEC", "AUE_MAC_EXECVE", "AUE_FEXECVE",
                                   "AUE_POSIX_SPAWN"])),
    ("macos:bsm:login", pl.col("event_classes").list.contains("lo")),
    ("macos:bsm:auth", pl.col("event_classes").list.contains("aa")),
    ("macos:bsm:network", pl.col("event_classes").list.contains("nt")
     | pl.col("remote_address").is_not_null()),
    ("macos:bsm:file", pl.col("event_classes").list.set_intersection(
        pl.lit(["fr", "fw", "fc", "fd", "fm", "fa", "cl"])).list.len() > 0),
    ("macos:bsm:process", pl.col("event_classes").list.contains("pc")),
    ("macos:bsm:admin", pl.col("event_classes").list.contains("ad")),
]


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).fill_null("")


def _iso(expr: pl.Expr) -> pl.Expr:
    return (expr.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
            .dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00"))


def _who() -> pl.Expr:
    """``alice (501, inferred high, elevated)``; ``no one (euid 0)`` when nobody is behind it."""
    how = pl.concat_str([pl.col("attribution_kind"), pl.col("confidence")], separator=" ")
    elevated = pl.when(pl.col("elevated")).then(pl.lit(", elevated")).otherwise(pl.lit(""))
    person = pl.format("{} ({}, {}{})", pl.coalesce("user_name", pl.format("uid {}", "user")),
                       pl.col("user"), how.fill_null("?"), elevated)
    nobody = (pl.when(pl.col("euid").is_not_null())
              .then(pl.format("no one (euid {})", "euid")).otherwise(pl.lit("no one")))
    return pl.when(pl.col("user").is_not_null()).then(person).otherwise(nobody)


def _what() -> pl.Expr:
    """What was done to what: the verb, then the command, paths or peer, then the result."""
    verb = pl.col("event_name").replace_strict(
        _VERBS, default=pl.coalesce("event_description", "event_name", pl.lit("record")))
    last, first = pl.col("paths").list.last(), pl.col("paths").list.first()
    target = (
        pl.when(pl.col("exec_argv").is_not_null()).then(pl.col("exec_argv").list.join(" "))
        .when(pl.col("event_name").str.starts_with("AUE_RENAME") & (first != last))
        .then(pl.format("{} to {}", first, last))
        .when(pl.col("remote_address").is_not_null())
        .then(pl.format("{}:{}", "remote_address", _text(pl.col("remote_port"))))
        .when(pl.col("event_name") == "AUE_EXIT")
        .then(pl.format("with status {}", _text(pl.col("exit_status"))))
        .otherwise(last))
    failed = pl.when(pl.col("success") == False).then(  # noqa: E712
        pl.format(" (failed: {})", pl.col("_result"))).otherwise(pl.lit(""))
    return pl.concat_str([verb, target], separator=" ", ignore_nulls=True) + failed


def _program() -> pl.Expr:
    name = pl.col("image").str.split("/").list.last()
    return pl.coalesce(name, pl.format("pid {}", "pid"))


def _result() -> pl.Expr:
    errno = pl.col("return_errno")
    names = {n: f"{bsm_errno(n)[0]} (errno {n})" for n in range(256) if bsm_errno(n)}
    text = errno.replace_strict(names, default=pl.format("errno {}", errno), return_dtype=pl.String)
    return (pl.when(pl.col("success")).then(pl.lit("success"))
            .when(pl.col("success") == False).then(text)  # noqa: E712
            .otherwise(pl.lit("")))


def _data_type() -> pl.Expr:
    expr = pl.lit("macos:bsm:record")
    for name, test in reversed(_DATA_TYPES):
        expr = pl.when(test.fill_null(False)).then(pl.lit(name)).otherwise(expr)
    return expr


def _event_lines(events: pl.DataFrame) -> pl.DataFrame:
    """The timeline fields of a slice of ``events`` (vectorised)."""
    ev = events.with_columns(_result().alias("_result"))
    short_source = pl.col("source").str.split("/").list.last()
    return ev.select(
        pl.concat_str([_who(), _program(), _what()], separator=" ", ignore_nulls=True)
        .alias("message"),
        pl.when(pl.col("time").is_null()).then(pl.lit("1970-01-01T00:00:00.000000+00:00"))
        .otherwise(_iso(pl.col("time"))).alias("datetime"),
        (pl.col("time").dt.epoch("us").fill_null(0)).alias("timestamp"),
        pl.when(pl.col("time").is_null()).then(pl.lit("Audit record time (unreadable)"))
        .otherwise(pl.lit("Audit record time")).alias("timestamp_desc"),
        _data_type().alias("data_type"),
        _text(pl.col("event_name")).alias("event_name"),
        _text(pl.col("user")).alias("user"), _text(pl.col("user_name")).alias("user_name"),
        _text(pl.col("attribution_kind")).alias("attribution_kind"),
        _text(pl.col("confidence")).alias("confidence"),
        pl.col("elevated").fill_null(False).alias("elevated"),
        _text(pl.col("euid")).alias("euid"), _text(pl.col("pid")).alias("pid"),
        _text(pl.col("proc_id")).alias("proc_id"),
        _text(pl.col("responsible_proc_id")).alias("responsible_proc_id"),
        _text(pl.col("image")).alias("program"),
        pl.col("exec_argv").fill_null([]).alias("argv"),
        _text(pl.col("exec_argv").list.join(" ")).alias("command_line"),
        pl.col("paths").fill_null([]).alias("paths"),
        pl.col("_result").alias("result"),
        pl.when(pl.col("remote_address").is_not_null())
        .then(pl.format("{}:{}", "remote_address", _text(pl.col("remote_port"))))
        .otherwise(pl.lit("")).alias("remote"),
        _text(pl.col("text").list.join("\n")).alias("text"),
        _text(pl.col("evidence")).alias("evidence"),
        _text(pl.col("source")).alias("source"),
        pl.col("offset").cast(pl.Int64).alias("offset"),
        pl.format("{}:{}", short_source, "offset").alias("record"),
    )


def _session_phrase(edge: str) -> pl.Expr:
    """``ssh from 203.0.113.9 (session 100012) started``; ``su to root failed: bad su ...``."""
    target = pl.coalesce("target_user_name", _text(pl.col("target_user")).replace("", None))
    failed = (pl.col("success") == False).fill_null(False)  # noqa: E712
    word = "started" if edge == "start" else "ended"
    parts = [
        pl.col("how"),
        pl.when(target.is_not_null()).then(pl.format("to {}", target)),
        pl.when(pl.col("terminal_host").is_not_null() & (pl.col("terminal_host") != "0.0.0.0"))
        .then(pl.format("from {}", "terminal_host")),
        pl.when(pl.col("session_id").is_not_null()).then(pl.format("(session {})", "session_id")),
        pl.when(failed).then(pl.format("failed: {}", _text(pl.col("text"))))
        .when(pl.col("command").is_not_null())
        .then(pl.format("{}: {}", pl.lit(word), pl.col("command").list.join(" ")))
        .otherwise(pl.lit(word)),
    ]
    return pl.concat_str(parts, separator=" ", ignore_nulls=True)


def _session_lines(sessions: pl.DataFrame, edge: str) -> pl.DataFrame:
    """One line per session at its ``start`` or its ``end`` (sessions without one: none)."""
    rows = sessions.filter(pl.col(edge).is_not_null())
    who = pl.when(pl.col("user").is_not_null()).then(
        pl.format("{} ({})", pl.coalesce("user_name", pl.format("uid {}", "user")), "user")
    ).otherwise(pl.lit("no one"))
    elevated = (pl.col("how").is_in(["su", "sudo"]) & (pl.col("target_user") == 0)).fill_null(False)
    src, off = ("source", "offset") if edge == "start" else ("end_source", "end_offset")
    return rows.select(
        pl.concat_str([who, _session_phrase(edge)], separator=" ").alias("message"),
        _iso(pl.col(edge)).alias("datetime"), pl.col(edge).dt.epoch("us").alias("timestamp"),
        pl.lit(f"Session {edge}").alias("timestamp_desc"),
        pl.lit("macos:bsm:session").alias("data_type"), _text(pl.col("how")).alias("event_name"),
        _text(pl.col("user")).alias("user"), _text(pl.col("user_name")).alias("user_name"),
        pl.lit("").alias("attribution_kind"), pl.lit("").alias("confidence"),
        elevated.alias("elevated"), pl.lit("").alias("euid"), _text(pl.col("pid")).alias("pid"),
        pl.lit("").alias("proc_id"), pl.lit("").alias("responsible_proc_id"),
        pl.lit("").alias("program"), pl.col("command").fill_null([]).alias("argv"),
        _text(pl.col("command").list.join(" ")).alias("command_line"),
        pl.lit([], pl.List(pl.String)).alias("paths"),
        pl.when(pl.col("success")).then(pl.lit("success"))
        .when(pl.col("success") == False).then(pl.lit("failure"))  # noqa: E712
        .otherwise(pl.lit("")).alias("result"),
        _text(pl.col("terminal_host")).alias("remote"), _text(pl.col("text")).alias("text"),
        _text(pl.col("evidence")).alias("evidence"), _text(pl.col(src)).alias("source"),
        pl.col(off).cast(pl.Int64).fill_null(0).alias("offset"),
        pl.format("{}:{}", pl.col(src).str.split("/").list.last(), pl.col(off))
        .fill_null("").alias("record"),
    )


def _chunks(audit):
    events = audit.events
    for start in range(0, events.height, CHUNK_ROWS):
        yield _event_lines(events.slice(start, CHUNK_ROWS))
    sessions = audit.sessions
    for edge in ("start", "end"):
        yield _session_lines(sessions, edge)


def frame(audit) -> pl.DataFrame:
    """The whole timeline as one frame (base fields only; for small audits and tests)."""
    return pl.concat(list(_chunks(audit)))


def _long_fields(chunk: pl.DataFrame) -> set[str]:
    sizes = chunk.select(pl.col(_STRINGS).str.len_bytes().max())
    return {c for c in _STRINGS if (sizes[c][0] or 0) > LIMIT}


def _with_companions(chunk: pl.DataFrame, long: list[str]) -> pl.DataFrame:
    """Add ``<field>_head`` and ``<field>_sha256`` for each field in ``long``."""
    extra = []
    for name in long:
        values = chunk[name]
        is_long = values.str.len_bytes() > LIMIT
        head = pl.when(is_long).then(values.str.slice(0, HEAD_CHARS)).otherwise(pl.lit(""))
        digests = [hashlib.sha256(v.encode("utf-8")).hexdigest() if flag else ""
                   for v, flag in zip(values.to_list(), is_long.to_list())]
        extra += [head.alias(f"{name}_head"), pl.Series(f"{name}_sha256", digests)]
    return chunk.with_columns(extra) if extra else chunk


def _csv_cells(chunk: pl.DataFrame) -> pl.DataFrame:
    strings = [c for c, t in chunk.schema.items() if t == pl.String]
    escape = [pl.col(c).str.replace_all("\\", "\\\\", literal=True)
              .str.replace_all("\n", "\\n", literal=True)
              .str.replace_all("\r", "\\r", literal=True) for c in strings]
    lists = [pl.struct(pl.col(c).alias("v")).struct.json_encode().str.slice(5)
             .str.strip_suffix("}").alias(c) for c in ("argv", "paths")]
    return chunk.with_columns(escape + lists)


def write(audit, folder, *, csv: bool = False, progress=None) -> Path:
    """Write ``timeline.jsonl`` (or ``timeline.csv``) into ``folder``; returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("timeline.csv" if csv else "timeline.jsonl")
    long = sorted(set().union(*(_long_fields(c) for c in _chunks(audit))))
    done = 0
    with open(path, "wb") as out:
        for chunk in _chunks(audit):
            chunk = _with_companions(chunk, long)
            if csv:
                _csv_cells(chunk).write_csv(out, include_header=done == 0 and not out.tell())
            elif chunk.height:
                chunk.write_ndjson(out)
            done += chunk.height
            if progress is not None:
                progress("timeline", done, None)
    return path

