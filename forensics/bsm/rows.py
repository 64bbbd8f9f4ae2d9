"""One records-frame row per record: the decoded tokens of a record as ``schema.CORE`` values.

Each token id has a filler (``_FILL``) that writes what the token adds to the row: lists
(paths, args, text) collect every token, the other columns keep the first token of their kind.
``csrc/bsm.c`` (``emit_tokens``) fills the same columns the same way.
"""

from __future__ import annotations


from ..schema import RECORD_CORE
from ..text import decode_bytes
from .addresses import format_ip4, format_ip6
from .framing import Item
from .tokenwalk import Token
from .tokens import (
    ARG32, ARG64, ATTR32, ATTR64, DATA, EXEC_ARGS, EXEC_ENV, EXIT, HEADER_EX_IDS, IDENTITY,
    IN_ADDR, IN_ADDR_EX, IPC, PATH, PROCESS_IDS, RETURN32, RETURN64, SEQ, SOCKET, SOCKET_EX,
    SOCKINET32, SOCKINET128, SOCKUNIX, SUBJECT_IDS, TEXT, TYPED_TERMINAL_IDS, ZONENAME,
)

__all__ = ["COLUMNS", "format_ip4", "format_ip6", "header_time", "record_row", "columns",
           "MAX_TIME_MS", "MAX_TOKEN_COUNT"]


def _addr(atype: int, raw: bytes) -> str | None:
    if atype == 4:
        return format_ip4(raw)
    if atype == 16:
        return format_ip6(raw)
    return None


def _text(raw: bytes) -> str:
    """A length-prefixed string: drop the one terminating NUL, keep everything else."""
    if raw[-1:] == b"\0":
        raw = raw[:-1]
    return decode_bytes(raw)


def _signed32(v: int) -> int:
    return v - 0x100000000 if v & 0x80000000 else v


def _signed64(v: int) -> int:
    return v - 0x10000000000000000 if v & 0x8000000000000000 else v


COLUMNS = [name for name, _, _ in RECORD_CORE]
_I = {name: i for i, name in enumerate(COLUMNS)}
_NCOL = len(COLUMNS)
(_OFFSET, _LENGTH, _TIME, _EVENT, _MODIFIER, _VERSION, _HEADER_TOKEN, _HOST, _SUBJECT_TOKEN, _AUID,
 _PROCESS_AUID, _PROCESS_PID, _RETURN_ERRNO, _RETURN_VALUE, _SUCCESS, _PATHS, _ARGS, _EXEC_ARGV,
 _EXEC_ARGS_COUNT, _EXEC_ENV, _EXIT_STATUS, _EXIT_VALUE, _TEXTS, _ATTR_MODE, _SOCKET_FAMILY,
 _SOCKET_TYPE, _LOCAL_ADDRESS, _LOCAL_PORT, _REMOTE_ADDRESS, _REMOTE_PORT, _IP_ADDRESS,
 _IDENTITY_SIGNER_TYPE, _EXEC_CDHASH, _IPC_TYPE, _TOKEN_COUNT, _DAMAGE) = (_I[name] for name in (
    "offset", "length", "time", "event", "modifier", "version", "header_token", "host",
    "subject_token", "auid", "process_auid", "process_pid", "return_errno", "return_value",
    "success", "paths", "args", "exec_argv", "exec_args_count", "exec_env", "exit_status",
    "exit_value", "text", "attr_mode", "socket_family", "socket_type", "local_address",
    "local_port", "remote_address", "remote_port", "ip_address", "identity_signer_type",
    "exec_cdhash", "ipc_type", "token_count", "damage"))
# fillers write runs of neighbouring columns: the schema must keep these runs together
assert COLUMNS[_AUID:_AUID + 9] == ["auid", "euid", "egid", "ruid", "rgid", "pid", "asid",
                                    "terminal_port", "terminal_host"]
assert COLUMNS[_PROCESS_AUID + 5] == "process_pid" and COLUMNS[_PROCESS_AUID + 8] == \
    "process_terminal_host"
assert COLUMNS[_ATTR_MODE:_ATTR_MODE + 6] == ["attr_mode", "attr_uid", "attr_gid", "attr_fsid",
                                              "attr_nodeid", "attr_dev"]
assert COLUMNS[_IDENTITY_SIGNER_TYPE:_IDENTITY_SIGNER_TYPE + 6] == [
    "identity_signer_type", "signing_id", "signing_id_truncated", "team_id",
    "team_id_truncated", "cdhash"]
assert COLUMNS[_IPC_TYPE + 1] == "ipc_id"

#: 9999-12-31T23:59:59.999Z in epoch ms: the last time a record may carry
MAX_TIME_MS = 253402300799999
MAX_TOKEN_COUNT = 0xFFFF      # token_count is a UInt16
_BIND = 34                    # AUE_BIND: its sockinet token is the local address


def header_time(sec: int, msec: int) -> int | None:
    """A header's time in epoch ms, or None when it is out of range (msec above 999, or after
    year 9999): such a record is kept, with a null time and the reason "bad time"."""
    if msec > 999 or sec > MAX_TIME_MS // 1000:
        return None
    return sec * 1000 + msec


def _put_ids(row: list, first: int, tid: int, v: tuple) -> None:
    """The 7 ids, terminal port and terminal address of a subject or process token."""
    row[first:first + 7] = v[:7]
    row[first + 7] = v[7]
    row[first + 8] = _addr(*v[8]) if tid in TYPED_TERMINAL_IDS else format_ip4(v[8])


def _fill_path(row, tid, v, event):
    row[_PATHS].append(_text(v[0]))


def _fill_arg(row, tid, v, event):
    row[_ARGS].append((v[0], v[1], _text(v[2])))


def _fill_text(row, tid, v, event):
    row[_TEXTS].append(_text(v[0]))


def _fill_subject(row, tid, v, event):
    if row[_SUBJECT_TOKEN] is None:
        row[_SUBJECT_TOKEN] = tid
        _put_ids(row, _AUID, tid, v)


def _fill_process(row, tid, v, event):
    if row[_PROCESS_PID] is None:
        _put_ids(row, _PROCESS_AUID, tid, v)


def _fill_return(row, tid, v, event):
    if row[_SUCCESS] is None:
        row[_RETURN_ERRNO] = v[0]
        row[_RETURN_VALUE] = _signed32(v[1]) if tid == RETURN32 else _signed64(v[1])
        row[_SUCCESS] = v[0] == 0


def _fill_exec_args(row, tid, v, event):
    if row[_EXEC_ARGV] is None:
        count, strings = v[0]
        row[_EXEC_ARGV] = [decode_bytes(s) for s in strings]
        row[_EXEC_ARGS_COUNT] = count


def _fill_exec_env(row, tid, v, event):
    if row[_EXEC_ENV] is None:
        row[_EXEC_ENV] = [decode_bytes(s) for s in v[0][1]]


def _fill_exit(row, tid, v, event):
    if row[_EXIT_STATUS] is None:
        row[_EXIT_STATUS] = v[0]
        row[_EXIT_VALUE] = v[1]


def _fill_attr(row, tid, v, event):
    if row[_ATTR_MODE] is None:
        row[_ATTR_MODE:_ATTR_MODE + 6] = v


def _fill_sockunix(row, tid, v, event):
    if row[_SOCKET_FAMILY] is None:
        row[_SOCKET_FAMILY] = "unix"
        row[_I["socket_path"]] = decode_bytes(v[1])


def _fill_socket_ex(row, tid, v, event):
    if row[_SOCKET_FAMILY] is None:
        domain = v[0]
        atype, lport, laddr, rport, raddr = v[2]
        row[_SOCKET_FAMILY] = "inet" if domain == 2 else "inet6" if domain == 26 else str(domain)
        row[_SOCKET_TYPE] = v[1]
        row[_LOCAL_ADDRESS] = _addr(atype, laddr)
        row[_LOCAL_PORT] = lport
        row[_REMOTE_ADDRESS] = _addr(atype, raddr)
        row[_REMOTE_PORT] = rport


def _fill_socket(row, tid, v, event):
    if row[_SOCKET_FAMILY] is None:
        row[_SOCKET_FAMILY] = "inet"
        row[_SOCKET_TYPE] = v[0]
        row[_LOCAL_PORT] = v[1]
        row[_LOCAL_ADDRESS] = format_ip4(v[2])
        row[_REMOTE_PORT] = v[3]
        row[_REMOTE_ADDRESS] = format_ip4(v[4])


def _fill_sockinet(row, tid, v, event):
    """sockinet32/128: the local address of a bind, the remote one of everything else."""
    if row[_SOCKET_FAMILY] is None:
        row[_SOCKET_FAMILY] = "inet" if tid == SOCKINET32 else "inet6"
        address = format_ip4(v[2]) if tid == SOCKINET32 else format_ip6(v[2])
        if event == _BIND:
            row[_LOCAL_ADDRESS], row[_LOCAL_PORT] = address, v[1]
        else:
            row[_REMOTE_ADDRESS], row[_REMOTE_PORT] = address, v[1]


def _fill_in_addr(row, tid, v, event):
    if row[_IP_ADDRESS] is None:
        row[_IP_ADDRESS] = format_ip4(v[0]) if tid == IN_ADDR else _addr(*v[0])


def _fill_identity(row, tid, v, event):
    if row[_IDENTITY_SIGNER_TYPE] is None:
        row[_IDENTITY_SIGNER_TYPE] = v[0]
        row[_IDENTITY_SIGNER_TYPE + 1:_IDENTITY_SIGNER_TYPE + 6] = (
            _text(v[1]), v[2] != 0, _text(v[3]), v[4] != 0, v[5].hex())


def _fill_data(row, tid, v, event):
    how, unit, count, payload = v[0]
    if unit == 0 and count == 20 and row[_EXEC_CDHASH] is None:
        row[_EXEC_CDHASH] = payload.hex()


def _first(column: str, convert=None):
    """A filler that keeps the first token's value v[0] (converted) in ``column``."""
    index = _I[column]

    def fill(row, tid, v, event):
        if row[index] is None:
            row[index] = v[0] if convert is None else convert(v[0])
    return fill


def _fill_ipc(row, tid, v, event):
    if row[_IPC_TYPE] is None:
        row[_IPC_TYPE], row[_IPC_TYPE + 1] = v[0], v[1]


#: token id -> filler(row, token id, values, event): what each token adds to its record's row
_FILL = {
    PATH: _fill_path, ARG32: _fill_arg, ARG64: _fill_arg, TEXT: _fill_text,
    **dict.fromkeys(SUBJECT_IDS, _fill_subject), **dict.fromkeys(PROCESS_IDS, _fill_process),
    RETURN32: _fill_return, RETURN64: _fill_return, EXEC_ARGS: _fill_exec_args,
    EXEC_ENV: _fill_exec_env, EXIT: _fill_exit, ATTR32: _fill_attr, ATTR64: _fill_attr,
    SOCKUNIX: _fill_sockunix, SOCKET_EX: _fill_socket_ex, SOCKET: _fill_socket,
    SOCKINET32: _fill_sockinet, SOCKINET128: _fill_sockinet, IN_ADDR: _fill_in_addr,
    IN_ADDR_EX: _fill_in_addr, IDENTITY: _fill_identity, DATA: _fill_data,
    ZONENAME: _first("zonename", _text), SEQ: _first("sequence"), IPC: _fill_ipc,
}


def record_row(buf, item: Item, tokens: list[Token], damage: str | None) -> list:
    """The row of one record: ``tokens`` from its header on, ``damage`` the reason or None."""
    row = [None] * _NCOL
    row[_OFFSET] = item.offset
    row[_LENGTH] = item.length
    hdr = tokens[0]
    hv = hdr.values
    row[_HEADER_TOKEN] = hdr.id
    row[_VERSION], row[_EVENT], row[_MODIFIER] = hv[1], hv[2], hv[3]
    if hdr.id in HEADER_EX_IDS:
        row[_HOST] = _addr(*hv[4])
        row[_TIME] = header_time(hv[5], hv[6])
    else:
        row[_TIME] = header_time(hv[4], hv[5])
    row[_PATHS], row[_ARGS], row[_TEXTS] = [], [], []
    event, fillers = hv[2], _FILL
    for tok in tokens[1:]:
        fill = fillers.get(tok.id)
        if fill is not None:
            fill(row, tok.id, tok.values, event)
    row[_TOKEN_COUNT] = min(len(tokens) + 1, MAX_TOKEN_COUNT)
    row[_DAMAGE] = damage
    return row


def columns(rows: list[list]) -> dict:
    """Rows as a dict of column lists (COLUMNS order)."""
    if not rows:
        return {name: [] for name in COLUMNS}
    return {name: list(col) for name, col in zip(COLUMNS, zip(*rows))}
