"""Schemas of the frames, declared once.

``RECORD_CORE`` lists the columns a decoder backend produces, in order: the C core and the
pure-Python decoder fill exactly these, and tests compare them column by column. ``RECORDS``
adds the columns derived afterwards from the evidence's tables (source, event names, classes),
which both backends share.

The frames the model derives are declared here too, each as a list of (column, dtype, meaning)
and a ``pl.Schema``: ``LIFETIME`` / ``PROCESSES`` (one row per lifetime of a pid),
``ATTRIBUTION`` / ``EVENT_COLUMNS`` (what ``events`` adds to each record; ``EVENTS`` is the whole
frame) and ``SESSION`` / ``SESSIONS``. ``markdown(frame)`` renders one as the README's table;
``python -m forensics.schema`` prints them all.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

__all__ = [
    "ARG",
    "RECORD_CORE",
    "RECORDS",
    "TOKENS",
    "ERRORS",
    "SOURCES",
    "LIFETIME",
    "PROCESSES",
    "ATTRIBUTION",
    "EVENT_COLUMNS",
    "EVENTS",
    "SESSION",
    "SESSIONS",
    "FRAMES",
    "DAMAGE_REASONS",
    "empty",
    "markdown",
    "UNSET",
    "Result",
]

from .ids import UNSET  # noqa: E402  (re-exported: one definition, in ids.py)

UTC_MS = pl.Datetime("ms", "UTC")
ARG = pl.Struct({"number": pl.UInt8, "value": pl.UInt64, "text": pl.String})
_IDS = ("auid", "euid", "egid", "ruid", "rgid", "pid", "asid")

#: (column, dtype, meaning) - what each backend produces per record, in this order.
RECORD_CORE: list[tuple[str, pl.DataType, str]] = [
    ("offset", pl.UInt64, "byte offset of the record in its (decompressed) file"),
    ("length", pl.UInt32, "record length from its header"),
    ("time", UTC_MS, "header time: seconds*1000 + msec, UTC (null when out of range)"),
    ("event", pl.UInt16, "event number from the header"),
    ("modifier", pl.UInt16, "header event modifier"),
    ("version", pl.UInt8, "header version (11 OpenBSM/macOS, 10 older, 1 old Darwin)"),
    ("header_token", pl.UInt8, "0x14 header32, 0x15 header32_ex, 0x74 header64, 0x79 header64_ex"),
    ("host", pl.String, "header_ex host address"),
    ("subject_token", pl.UInt8, "id of the subject token (null: the record has none)"),
    *[(name, pl.UInt32, f"subject {name}") for name in _IDS],
    ("terminal_port", pl.UInt64, "subject terminal port"),
    ("terminal_host", pl.String, "subject terminal address"),
    *[(f"process_{name}", pl.UInt32, f"first process token: target {name}") for name in _IDS],
    ("process_terminal_port", pl.UInt64, "first process token: terminal port"),
    ("process_terminal_host", pl.String, "first process token: terminal address"),
    ("return_errno", pl.UInt8, "return token status byte (a BSM errno; 0 = success)"),
    ("return_value", pl.Int64, "return value (return32 read as signed 32-bit)"),
    ("success", pl.Boolean, "return status == 0 (null: no return token)"),
    ("paths", pl.List(pl.String), "every path token, in order"),
    ("args", pl.List(ARG), "every arg32/arg64 token: number, value, text"),
    ("exec_argv", pl.List(pl.String), "exec_args strings (null: no exec_args token)"),
    ("exec_args_count", pl.UInt32, "the count the exec_args token claims (> len(exec_argv): cut by the kernel)"),
    ("exec_env", pl.List(pl.String), "exec_env strings"),
    ("exit_status", pl.UInt32, "exit token status"),
    ("exit_value", pl.UInt32, "exit token return value"),
    ("text", pl.List(pl.String), "every text token, in order"),
    ("attr_mode", pl.UInt32, "first attr token: st_mode"),
    ("attr_uid", pl.UInt32, "first attr token: owner uid"),
    ("attr_gid", pl.UInt32, "first attr token: owner gid"),
    ("attr_fsid", pl.UInt32, "first attr token: file system id"),
    ("attr_nodeid", pl.UInt64, "first attr token: inode number"),
    ("attr_dev", pl.UInt64, "first attr token: device"),
    ("socket_family", pl.String, "inet, inet6, unix (socket_ex domains other than inet/inet6: the BSM number)"),
    ("socket_type", pl.UInt16, "socket_ex / socket type"),
    ("local_address", pl.String, "socket_ex local address; sockinet address of a bind"),
    ("local_port", pl.UInt16, "local port"),
    ("remote_address", pl.String, "socket_ex remote address; sockinet address of other events"),
    ("remote_port", pl.UInt16, "remote port (sockinet128 ports as stored: xnu byte-swaps them)"),
    ("socket_path", pl.String, "sockunix path"),
    ("ip_address", pl.String, "first in_addr / in_addr_ex token"),
    ("identity_signer_type", pl.UInt32, "Apple identity token: 1 platform binary, 0 other"),
    ("signing_id", pl.String, "identity: code-signing id of the caller"),
    ("signing_id_truncated", pl.Boolean, "identity: signing id was cut"),
    ("team_id", pl.String, "identity: team id"),
    ("team_id_truncated", pl.Boolean, "identity: team id was cut"),
    ("cdhash", pl.String, "identity: cdhash of the caller, lowercase hex"),
    ("exec_cdhash", pl.String, "data token of 20 bytes (exec/spawn: cdhash of the NEW image), hex"),
    ("zonename", pl.String, "zonename token"),
    ("sequence", pl.UInt32, "seq token"),
    ("ipc_type", pl.UInt8, "ipc token type (1 msg, 2 sem, 3 shm)"),
    ("ipc_id", pl.UInt32, "ipc token id"),
    ("token_count", pl.UInt16, "tokens decoded, header and trailer included"),
    ("damage", pl.String, "null, or the record's first damage reason: where decoding stopped, an ambiguous exec cut, a bad time, too many tokens, a repaired size (see errors)"),
]

#: Columns added after decoding, shared by both backends: (column, dtype, meaning).
RECORD_DERIVED: list[tuple[str, pl.DataType, str]] = [
    ("source", pl.String, "the trail file (inside an archive: archive!member)"),
    ("event_name", pl.String, "AUE_ name from the event table"),
    ("event_description", pl.String, "description from the event table"),
    ("event_class_mask", pl.UInt32, "class mask from the event table"),
    ("event_classes", pl.List(pl.String), "class short names from the event table"),
]

Columns = list[tuple[str, pl.DataType, str]]


def _schema(columns: Columns) -> pl.Schema:
    return pl.Schema([(name, dtype) for name, dtype, _ in columns])


#: The records frame in its order: (column, dtype, meaning).
RECORD: Columns = RECORD_DERIVED[:1] + RECORD_CORE[:4] + RECORD_DERIVED[1:] + RECORD_CORE[4:]
RECORDS = _schema(RECORD)
CORE = _schema(RECORD_CORE)

TOKENS = pl.Schema([
    ("source", pl.String),
    ("record_offset", pl.UInt64),
    ("index", pl.UInt16),
    ("offset", pl.UInt64),
    ("length", pl.UInt32),
    ("token_id", pl.UInt8),
    ("name", pl.String),
    ("fields", pl.String),      # JSON object of the decoded fields
    ("raw", pl.Binary),         # the token's bytes, id included
])

ERRORS = pl.Schema([
    ("source", pl.String),
    ("offset", pl.UInt64),
    ("length", pl.UInt64),
    ("reason", pl.String),
])

class Result(NamedTuple):
    """What a decoder backend returns for one trail (both backends, the same shape)."""
    records: pl.DataFrame        # CORE columns, one row per record
    errors: list                 # (offset, length, reason): damaged spans, reasons from DAMAGE_REASONS
    records_seen: int            # records framed, including those a window or event set skipped
    file_tokens: int             # bare file tokens


#: Fixed vocabulary of damage reasons (C and Python use the same words).
DAMAGE_REASONS = {
    "garbage": "bytes that are not a record or file token",
    "truncated record": "a header whose size runs past the end of the data",
    "bad record size": "a header whose size is too small to hold a header and trailer",
    "bad trailer": "a header whose size does not land on a trailer of the same size",
    "truncated file token": "a file token that runs past the end of the data",
    "unknown token": "a token id nobody defines; the rest of the record is skipped",
    "bad token": "a token that does not fit its layout; the rest of the record is skipped",
    "repaired record size": "a header whose size is wrong, framed by its intact trailer instead: kept",
    "bad time": "a header time out of range (msec above 999, or after year 9999): kept, time null",
    "ambiguous exec cut": "exec strings cut by the kernel where another clean cut gives another "
                          "subject: kept, the first clean cut taken; the subject may be forged",
    "too many tokens": "a record of more than 65535 tokens: kept, token_count capped at 65535",
}

SOURCES = pl.Schema([
    ("path", pl.String),
    ("kind", pl.String),
    ("name_start", UTC_MS),
    ("name_end", UTC_MS),
    ("first_record", UTC_MS),
    ("last_record", UTC_MS),
    ("read", pl.Boolean),
    ("skip_reason", pl.String),
    ("compression", pl.String),
    ("stored_bytes", pl.UInt64),
    ("bytes", pl.UInt64),
    ("records", pl.UInt64),
    ("damaged_bytes", pl.UInt64),
    ("gap_before", pl.Duration("ms")),   # time not covered since the previous file ended
])

_CREDS = ("auid", "euid", "egid", "ruid", "rgid", "asid")

#: One entry of a life's ``credential_changes``.
CREDENTIAL_CHANGE = pl.Struct({
    "kind": pl.String, "time": UTC_MS, "source": pl.String, "offset": pl.UInt64,
    "via": pl.String, "requested": pl.String, **{c: pl.UInt32 for c in _CREDS},
})

#: The processes frame, one row per lifetime of a pid: (column, dtype, meaning).
LIFETIME: Columns = [
    ("proc_id", pl.String, "<pid>@<trail file>:<offset of the first record that shows this life>"),
    ("pid", pl.UInt32, "process id"),
    ("ppid", pl.UInt32, "parent pid, from the record that announced this life (null: unknown)"),
    ("parent_proc_id", pl.String, "the life that announced this one"),
    ("start", UTC_MS, "when it began (announced lives only; null: unknown)"),
    ("end", UTC_MS, "time of its exit record (null: unknown)"),
    ("start_evidence", pl.String, "fork, vfork, rfork, pdfork, posix_spawn, or first seen"),
    ("end_evidence", pl.String, "exit, pid reused, or last seen"),
    ("exit_status", pl.UInt32, "status of the exit record"),
    ("images", pl.List(pl.String), "every executable it ran, in order (first: inherited or spawned)"),
    ("image_seqs", pl.List(pl.UInt64),
     "seq from which each image is in effect (an exec record already shows its new image)"),
    ("argv", pl.List(pl.String), "arguments of the latest image"),
    ("interpreter", pl.String, "#! interpreter of the latest image"),
    ("cdhash", pl.String, "cdhash of the latest image (data token of its exec/spawn)"),
    ("signing_id", pl.String, "signing id of the last identity token of its own records"),
    *[(c, pl.UInt32, f"{c} of its first kernel record (else of the announcing record)")
      for c in _CREDS],
    ("credential_changes", pl.List(CREDENTIAL_CHANGE),
     ("observed changes of its subjects' credentials (kind observed, via = the call or exec "
      "before it) and set*id requests (kind requested)")),
    ("first_seen", UTC_MS, "earliest time of any record about it"),
    ("last_seen", UTC_MS, "latest time of any record about it"),
    ("records", pl.UInt32, "records whose subject is this life"),
    ("user", pl.UInt32, "uid of the person behind it (null: nobody known)"),
    ("user_kind", pl.String, "direct (its own auid) or inferred"),
    ("user_confidence", pl.String, "high, medium or low"),
    ("user_evidence", pl.String, "the records the user rests on"),
    ("responsible_proc_id", pl.String,
     ("the life that asked for it: the XPC client of a launchd-spawned helper, else inherited "
      "from the parent; itself for lives launchd started and lives with no known parent")),
    ("first_source", pl.String, "trail file of its first record"),
    ("first_offset", pl.UInt64, "offset of its first record"),
    ("first_seq", pl.UInt64, "seq of its first record (global order of the frame built from)"),
    ("last_seq", pl.UInt64, "seq of its last record"),
]
PROCESSES = _schema(LIFETIME)

#: What the events frame adds to every records column: (column, dtype, meaning).
ATTRIBUTION: Columns = [
    ("proc_id", pl.String, "the lifetime the record belongs to (see processes)"),
    ("image", pl.String, ("the program at that moment (an exec record shows the image it loaded; "
                          "its subject and identity token still describe the caller)")),
    ("user", pl.UInt32, ("uid of the person behind the record (null when nobody: a daemon with "
                         "auid unset)")),
    ("user_name", pl.String, ("that uid's name in the evidence's passwd/group/dslocal, never the "
                              "analyst's machine")),
    ("attribution_kind", pl.String, ("direct: read from the subject's own auid (which may say that "
                                     "no person is behind it); inferred: rests on other records")),
    ("confidence", pl.String, "high, medium or low"),
    ("elevated", pl.Boolean, ("done with euid 0, or with another effective or real uid than the "
                              "person's: sudo, su, set-user-id programs, root helpers working for "
                              "someone (null: no person known)")),
    ("responsible_proc_id", pl.String, "the lifetime that asked for this work (see processes)"),
    ("evidence", pl.String, ("short sentences naming every record the conclusion rests on as "
                             "file:offset")),
]
EVENT_COLUMNS = _schema(ATTRIBUTION)
EVENTS = pl.Schema({**RECORDS, **EVENT_COLUMNS})

#: The sessions frame, one row per login, su/sudo, authentication or audit session.
SESSION: Columns = [
    ("how", pl.String, ("ssh, login, loginwindow, rlogin, su, sudo, authentication, authorization, "
                        "logout (one no login matched), audit session, observed")),
    ("user", pl.UInt32, ("uid of the person who logged in, switched, authenticated or was "
                         "authorized (a failed login: the claimed user)")),
    ("user_name", pl.String, "that uid's name in the evidence's user tables"),
    ("target_user", pl.UInt32, ("su/sudo: the uid it (or a child it forked) switched to within a "
                                "minute, or named in \"bad su X to Y\"")),
    ("target_user_name", pl.String, "that uid's name in the evidence's user tables"),
    ("success", pl.Boolean, "the record's return status (null: no status)"),
    ("session_id", pl.UInt32, ("the kernel audit session (asid) it opened or ran in, when known "
                               "(ids start at 100000 on macOS)")),
    ("pid", pl.UInt32, ("the writer of the record: sshd, login, su, sudo, ... (null: audit "
                        "session and observed rows)")),
    ("terminal_host", pl.String, "terminal address of the record"),
    ("terminal_port", pl.UInt64, "terminal port of the record"),
    ("start", UTC_MS, ("time of the record it comes from (audit session: of its start record, "
                       "if any; logout and observed rows: null)")),
    ("end", UTC_MS, "time of the logout or session end that closed it (null: unknown)"),
    ("first_seen", UTC_MS, "earliest kernel record of the session, when the session is known"),
    ("last_seen", UTC_MS, "latest kernel record of the session"),
    ("text", pl.String, "the record's first text token"),
    ("command", pl.List(pl.String), "sudo: the command (its exec_args)"),
    ("source", pl.String, "trail file of the record it comes from"),
    ("offset", pl.UInt64, "offset of that record"),
    ("end_source", pl.String, "trail file of the record that ended it"),
    ("end_offset", pl.UInt64, "offset of that record"),
    ("evidence", pl.String, "short sentences naming the records (file:offset) the row rests on"),
]
SESSIONS = _schema(SESSION)

#: The frames ``markdown`` renders, by name: records, processes, events (the added columns),
#: sessions.
FRAMES: dict[str, Columns] = {
    "records": RECORD,
    "processes": LIFETIME,
    "events": ATTRIBUTION,
    "sessions": SESSION,
}


def empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _dtype_text(dtype: pl.DataType) -> str:
    return str(dtype).replace("String", "str").replace("time_zone='UTC'", "UTC")


def markdown(frame: str = "records") -> str:
    """One frame's columns as a Markdown table (the README embeds each; a test checks). ``frame``
    is a name in ``FRAMES``; for ``events`` only the columns it adds to the records."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for name, dtype, meaning in FRAMES[frame]:
        lines.append(f"| `{name}` | {_dtype_text(dtype)} | {meaning} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the README tables: the frames named in ``argv``, else every one under its name."""
    import sys

    names = sys.argv[1:] if argv is None else argv
    unknown = [n for n in names if n not in FRAMES]
    if unknown:
        print(f"unknown frame {unknown[0]!r}; known: {', '.join(FRAMES)}", file=sys.stderr)
        return 2
    if names:
        print("\n".join(markdown(n) for n in names), end="")
        return 0
    print("\n".join(f"<!-- {n} -->\n{markdown(n)}" for n in FRAMES), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
