"""Schemas of the frames, declared once.

``RECORD_CORE`` lists the columns a decoder backend produces, in order: the C core and the
pure-Python decoder fill exactly these, and tests compare them column by column. ``RECORDS``
adds the columns derived afterwards from the evidence's tables (source, event names, classes),
which both backends share.
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "ARG",
    "RECORD_CORE",
    "RECORDS",
    "TOKENS",
    "ERRORS",
    "SOURCES",
    "DAMAGE_REASONS",
    "empty",
    "markdown",
    "UNSET",
]

#: A uid, gid, auid or asid that is not set: BSM's (uint32)-1 (AU_DEFAUDITID for auid).
UNSET = 0xFFFFFFFF

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
    ("damage", pl.String, "null, or why decoding stopped inside this record (see errors)"),
]

#: Columns added after decoding, shared by both backends: (column, dtype, meaning).
RECORD_DERIVED: list[tuple[str, pl.DataType, str]] = [
    ("source", pl.String, "the trail file (inside an archive: archive!member)"),
    ("event_name", pl.String, "AUE_ name from the event table"),
    ("event_description", pl.String, "description from the event table"),
    ("event_class_mask", pl.UInt32, "class mask from the event table"),
    ("event_classes", pl.List(pl.String), "class short names from the event table"),
]

RECORDS = pl.Schema([(n, t) for n, t, _ in
                     RECORD_DERIVED[:1] + RECORD_CORE[:4] + RECORD_DERIVED[1:] + RECORD_CORE[4:]])
CORE = pl.Schema([(n, t) for n, t, _ in RECORD_CORE])

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


def empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _dtype_text(dtype: pl.DataType) -> str:
    return str(dtype).replace("String", "str").replace("time_zone='UTC'", "UTC")


def markdown() -> str:
    """The records frame's columns as a Markdown table (the README embeds it; a test checks)."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for name, dtype, meaning in RECORD_DERIVED[:1] + RECORD_CORE[:4] + RECORD_DERIVED[1:] + RECORD_CORE[4:]:
        lines.append(f"| `{name}` | {_dtype_text(dtype)} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
