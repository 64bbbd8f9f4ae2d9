"""The BSM token table: one declarative layout per token id.

Every token type known to OpenBSM's libbsm, plus Apple's identity (0xED), krb5_principal (0xEE)
and cert_hash (0xEF), is declared once here as a sequence of typed fields. Parsing (``parse``)
and writing (``encode``) are both derived from the declaration, so the decoder and the trail
writer can never disagree about a layout. All integers are big-endian.

Field kinds:

``u8 u16 u32 u64``   unsigned integers
``str``              u16 length (counting the NUL), then that many bytes; value = raw bytes
``ip4`` / ``ip16``   4 / 16 raw address bytes, in network order
``taddr``            u32 address type (4 or 16) then that many address bytes; value = (type, bytes)
``taddr_lenient``    as ``taddr``, but any other type reads no address bytes (header_ex)
``opaque``           u16 length, then that many bytes
``strings``          u32 count, then count NUL-terminated strings; value = (count, [bytes...])
``gids``             u16 count, then count u32 group ids; value = [int...]
``cstr``             NUL-terminated bytes (sockunix path); value = bytes without the NUL
``uuid``             16 raw bytes
``data``             data token body: how u8, unit u8, count u8, count*unit-size bytes
``sockex``           socket_ex body after domain/type: atype u16, lport, laddr, rport, raddr
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Callable

__all__ = [
    "TokenSpec",
    "TokenError",
    "TOKENS",
    "BY_NAME",
    "HEADER_IDS",
    "HEADER_EX_IDS",
    "SUBJECT_IDS",
    "PROCESS_IDS",
    "TYPED_TERMINAL_IDS",
    "RETURN_IDS",
    "ARG_IDS",
    "ATTR_IDS",
    "EXEC_STRINGS_IDS",
    "FILE_ID",
    "TRAILER_ID",
    "TRAILER_MAGIC",
    "DATA_UNIT_SIZES",
    "parse",
    "encode",
    "STRINGS_TOKEN_IDS",
    "read_strings",
    "FILE", "TRAILER", "HEADER32", "HEADER32_EX", "DATA", "IPC", "PATH", "SUBJECT32", "PROCESS32",
    "RETURN32", "TEXT", "OPAQUE", "IN_ADDR", "IP", "IPORT", "ARG32", "SOCKET", "SEQ", "IPC_PERM",
    "PRIVSET", "UPRIV", "NEWGROUPS", "EXEC_ARGS", "EXEC_ENV", "ATTR32", "EXIT", "ZONENAME",
    "ARG64", "RETURN64", "ATTR64", "HEADER64", "SUBJECT64", "PROCESS64", "HEADER64_EX",
    "SUBJECT32_EX", "PROCESS32_EX", "SUBJECT64_EX", "PROCESS64_EX", "IN_ADDR_EX", "SOCKET_EX",
    "SOCKINET32", "SOCKINET128", "SOCKUNIX", "ARG_UUID", "RET_UUID", "IDENTITY", "KRB5_PRINCIPAL",
    "CERT_HASH",
]

# Token ids by name (the names of the table below, upper-case). Every module that needs an id
# uses these; the table is declared with them, so each id is written once.
FILE = 0x11
TRAILER = 0x13
HEADER32 = 0x14
HEADER32_EX = 0x15
DATA = 0x21
IPC = 0x22
PATH = 0x23
SUBJECT32 = 0x24
PROCESS32 = 0x26
RETURN32 = 0x27
TEXT = 0x28
OPAQUE = 0x29
IN_ADDR = 0x2A
IP = 0x2B
IPORT = 0x2C
ARG32 = 0x2D
SOCKET = 0x2E
SEQ = 0x2F
IPC_PERM = 0x32
PRIVSET = 0x38
UPRIV = 0x39
NEWGROUPS = 0x3B
EXEC_ARGS = 0x3C
EXEC_ENV = 0x3D
ATTR32 = 0x3E
EXIT = 0x52
ZONENAME = 0x60
ARG64 = 0x71
RETURN64 = 0x72
ATTR64 = 0x73
HEADER64 = 0x74
SUBJECT64 = 0x75
PROCESS64 = 0x77
HEADER64_EX = 0x79
SUBJECT32_EX = 0x7A
PROCESS32_EX = 0x7B
SUBJECT64_EX = 0x7C
PROCESS64_EX = 0x7D
IN_ADDR_EX = 0x7E
SOCKET_EX = 0x7F
SOCKINET32 = 0x80
SOCKINET128 = 0x81
SOCKUNIX = 0x82
ARG_UUID = 0x84
RET_UUID = 0x85
IDENTITY = 0xED
KRB5_PRINCIPAL = 0xEE
CERT_HASH = 0xEF

FILE_ID = FILE
TRAILER_ID = TRAILER
TRAILER_MAGIC = 0xB105
HEADER_IDS = frozenset((HEADER32, HEADER32_EX, HEADER64, HEADER64_EX))
#: headers that carry a host address (their times come after it)
HEADER_EX_IDS = frozenset((HEADER32_EX, HEADER64_EX))
SUBJECT_IDS = frozenset((SUBJECT32, SUBJECT64, SUBJECT32_EX, SUBJECT64_EX))
PROCESS_IDS = frozenset((PROCESS32, PROCESS64, PROCESS32_EX, PROCESS64_EX))
#: subject/process forms whose terminal address is typed (4 or 16 bytes)
TYPED_TERMINAL_IDS = frozenset((SUBJECT32_EX, SUBJECT64_EX, PROCESS32_EX, PROCESS64_EX))
RETURN_IDS = frozenset((RETURN32, RETURN64))
ARG_IDS = frozenset((ARG32, ARG64))
ATTR_IDS = frozenset((ATTR32, ATTR64))
#: tokens holding a u32 count then NUL-terminated strings whose count xnu may overstate
EXEC_STRINGS_IDS = frozenset((EXEC_ARGS, EXEC_ENV))
DATA_UNIT_SIZES = {0: 1, 1: 2, 2: 4, 3: 8}

_FIXED = {"u8": ("B", 1), "u16": ("H", 2), "u32": ("I", 4), "u64": ("Q", 8), "ip4": ("4s", 4),
          "ip16": ("16s", 16), "uuid": ("16s", 16)}


class TokenError(ValueError):
    """A token does not fit its layout (runs past the record, bad address type, ...)."""


@dataclass(frozen=True)
class TokenSpec:
    id: int
    name: str                     # our name (snake case), used in the tokens frame
    label: str | None             # praudit's label; None where upstream praudit cannot parse it
    fields: tuple[tuple[str, str], ...]
    parse: Callable = field(default=None, repr=False, compare=False)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)


# ---------------------------------------------------------------------------------------------
# field readers: (buf, pos, end) -> (value, newpos); raise TokenError past `end`

def _need(pos: int, size: int, end: int) -> None:
    if pos + size > end:
        raise TokenError("token runs past the end of the record")


def _read_str(buf, pos, end):
    _need(pos, 2, end)
    (n,) = struct.unpack_from(">H", buf, pos)
    pos += 2
    _need(pos, n, end)
    return bytes(buf[pos:pos + n]), pos + n


def _read_opaque(buf, pos, end):
    return _read_str(buf, pos, end)


def _read_taddr(buf, pos, end, lenient=False):
    _need(pos, 4, end)
    (atype,) = struct.unpack_from(">I", buf, pos)
    pos += 4
    if atype in (4, 16):
        _need(pos, atype, end)
        return (atype, bytes(buf[pos:pos + atype])), pos + atype
    if lenient:
        return (atype, b""), pos
    raise TokenError(f"bad address type {atype}")


def _read_taddr_lenient(buf, pos, end):
    return _read_taddr(buf, pos, end, lenient=True)


def _read_strings(buf, pos, end, nul_end=None):
    """u32 count, then up to count NUL-terminated strings that fit before `end`.

    Returns (count, strings) where len(strings) may be < count: the record walker decides
    whether a short list is a truncated exec_args token (macOS 12+) or damage. ``nul_end`` (one
    past the last NUL before `end`, when the caller knows it) spares a count that runs past
    the strings a search to `end`.
    """
    _need(pos, 4, end)
    (count,) = struct.unpack_from(">I", buf, pos)
    pos += 4
    strings = []
    limit = end if nul_end is None else nul_end
    while len(strings) < count:
        nul = buf.find(b"\0", pos, limit)
        if nul < 0:
            break
        strings.append(bytes(buf[pos:nul]))
        pos = nul + 1
    return (count, strings), pos


def _read_gids(buf, pos, end):
    _need(pos, 2, end)
    (count,) = struct.unpack_from(">H", buf, pos)
    pos += 2
    _need(pos, 4 * count, end)
    return list(struct.unpack_from(f">{count}I", buf, pos)), pos + 4 * count


def _read_cstr(buf, pos, end):
    nul = buf.find(b"\0", pos, end)
    if nul < 0:
        raise TokenError("unterminated string")
    return bytes(buf[pos:nul]), nul + 1


def _read_data(buf, pos, end):
    _need(pos, 3, end)
    how, unit, count = buf[pos], buf[pos + 1], buf[pos + 2]
    size = DATA_UNIT_SIZES.get(unit)
    if size is None:
        raise TokenError(f"bad data unit {unit}")
    pos += 3
    _need(pos, size * count, end)
    return (how, unit, count, bytes(buf[pos:pos + size * count])), pos + size * count


def _read_sockex(buf, pos, end):
    _need(pos, 2, end)
    (atype,) = struct.unpack_from(">H", buf, pos)
    if atype not in (4, 16):
        raise TokenError(f"bad address type {atype}")
    size = 2 + 2 + atype + 2 + atype
    _need(pos, size, end)
    lport, = struct.unpack_from(">H", buf, pos + 2)
    laddr = bytes(buf[pos + 4:pos + 4 + atype])
    rport, = struct.unpack_from(">H", buf, pos + 4 + atype)
    raddr = bytes(buf[pos + 6 + atype:pos + 6 + 2 * atype])
    return (atype, lport, laddr, rport, raddr), pos + size


_VARIABLE = {
    "str": _read_str,
    "opaque": _read_opaque,
    "taddr": _read_taddr,
    "taddr_lenient": _read_taddr_lenient,
    "strings": _read_strings,
    "gids": _read_gids,
    "cstr": _read_cstr,
    "data": _read_data,
    "sockex": _read_sockex,
}


def _compile(fields: tuple[tuple[str, str], ...]) -> Callable:
    """Build a fast parser: runs of fixed-size fields become one struct.unpack_from."""
    steps: list = []
    run_fmt, run_size, run_kinds = "", 0, []

    def flush():
        nonlocal run_fmt, run_size, run_kinds
        if run_fmt:
            steps.append(("fixed", struct.Struct(">" + run_fmt), run_size))
        run_fmt, run_size, run_kinds = "", 0, []

    for _name, kind in fields:
        if kind in _FIXED:
            fmt, size = _FIXED[kind]
            run_fmt += fmt
            run_size += size
        else:
            flush()
            steps.append(("var", _VARIABLE[kind], 0))
    flush()

    if len(steps) == 1 and steps[0][0] == "fixed":
        st, size = steps[0][1], steps[0][2]

        def parse_fixed(buf, pos, end):
            if pos + size > end:
                raise TokenError("token runs past the end of the record")
            return st.unpack_from(buf, pos), pos + size

        return parse_fixed

    def parse_mixed(buf, pos, end):
        values: list = []
        for kind, thing, size in steps:
            if kind == "fixed":
                if pos + size > end:
                    raise TokenError("token runs past the end of the record")
                values.extend(thing.unpack_from(buf, pos))
                pos += size
            else:
                value, pos = thing(buf, pos, end)
                values.append(value)
        return tuple(values), pos

    return parse_mixed


# ---------------------------------------------------------------------------------------------
# the table

_IDS7 = (("auid", "u32"), ("euid", "u32"), ("egid", "u32"), ("ruid", "u32"), ("rgid", "u32"),
         ("pid", "u32"), ("sid", "u32"))
_ATTR = (("mode", "u32"), ("uid", "u32"), ("gid", "u32"), ("fsid", "u32"), ("nodeid", "u64"))

_DECLARED: list[tuple[int, str, str | None, tuple[tuple[str, str], ...]]] = [
    (FILE, "file", "file", (("sec", "u32"), ("msec", "u32"), ("name", "str"))),
    (TRAILER, "trailer", "trailer", (("magic", "u16"), ("size", "u32"))),
    (HEADER32, "header32", "header", (("size", "u32"), ("version", "u8"), ("event", "u16"),
                                      ("modifier", "u16"), ("sec", "u32"), ("msec", "u32"))),
    (HEADER32_EX, "header32_ex", "header_ex", (("size", "u32"), ("version", "u8"),
                                               ("event", "u16"), ("modifier", "u16"),
                                               ("host", "taddr_lenient"),
                                               ("sec", "u32"), ("msec", "u32"))),
    (DATA, "data", "arbitrary", (("data", "data"),)),
    (IPC, "ipc", "IPC", (("type", "u8"), ("id", "u32"))),
    (PATH, "path", "path", (("path", "str"),)),
    (SUBJECT32, "subject32", "subject", _IDS7 + (("port", "u32"), ("addr", "ip4"))),
    (PROCESS32, "process32", "process", _IDS7 + (("port", "u32"), ("addr", "ip4"))),
    (RETURN32, "return32", "return", (("status", "u8"), ("value", "u32"))),
    (TEXT, "text", "text", (("text", "str"),)),
    (OPAQUE, "opaque", "opaque", (("data", "opaque"),)),
    (IN_ADDR, "in_addr", "ip addr", (("addr", "ip4"),)),
    (IP, "ip", "ip", (("version", "u8"), ("tos", "u8"), ("len", "u16"), ("id", "u16"),
                      ("offset", "u16"), ("ttl", "u8"), ("protocol", "u8"), ("chksm", "u16"),
                      ("src", "ip4"), ("dst", "ip4"))),
    (IPORT, "iport", "ip port", (("port", "u16"),)),
    (ARG32, "arg32", "argument", (("argno", "u8"), ("value", "u32"), ("text", "str"))),
    (SOCKET, "socket", "socket", (("type", "u16"), ("lport", "u16"), ("laddr", "ip4"),
                                  ("rport", "u16"), ("raddr", "ip4"))),
    (SEQ, "seq", "sequence", (("seq", "u32"),)),
    (IPC_PERM, "ipc_perm", "IPC perm", (("uid", "u32"), ("gid", "u32"), ("puid", "u32"),
                                        ("pgid", "u32"), ("mode", "u32"), ("seq", "u32"),
                                        ("key", "u32"))),
    (PRIVSET, "privset", "privilege", (("type", "str"), ("privs", "str"))),
    (UPRIV, "upriv", "use of privilege", (("success", "u8"), ("priv", "str"))),
    (NEWGROUPS, "newgroups", "group", (("gids", "gids"),)),
    (EXEC_ARGS, "exec_args", "exec arg", (("args", "strings"),)),
    (EXEC_ENV, "exec_env", "exec env", (("env", "strings"),)),
    (ATTR32, "attr32", "attribute", _ATTR + (("dev", "u32"),)),
    (EXIT, "exit", "exit", (("status", "u32"), ("ret", "u32"))),
    (ZONENAME, "zonename", "zone", (("zone", "str"),)),
    (ARG64, "arg64", "argument", (("argno", "u8"), ("value", "u64"), ("text", "str"))),
    (RETURN64, "return64", "return", (("status", "u8"), ("value", "u64"))),
    (ATTR64, "attr64", "attribute", _ATTR + (("dev", "u64"),)),
    (HEADER64, "header64", "header", (("size", "u32"), ("version", "u8"), ("event", "u16"),
                                      ("modifier", "u16"), ("sec", "u64"), ("msec", "u64"))),
    (SUBJECT64, "subject64", "subject", _IDS7 + (("port", "u64"), ("addr", "ip4"))),
    (PROCESS64, "process64", "process", _IDS7 + (("port", "u64"), ("addr", "ip4"))),
    (HEADER64_EX, "header64_ex", "header_ex", (("size", "u32"), ("version", "u8"),
                                               ("event", "u16"), ("modifier", "u16"),
                                               ("host", "taddr_lenient"),
                                               ("sec", "u64"), ("msec", "u64"))),
    (SUBJECT32_EX, "subject32_ex", "subject_ex", _IDS7 + (("port", "u32"), ("addr", "taddr"))),
    (PROCESS32_EX, "process32_ex", "process_ex", _IDS7 + (("port", "u32"), ("addr", "taddr"))),
    (SUBJECT64_EX, "subject64_ex", "subject_ex", _IDS7 + (("port", "u64"), ("addr", "taddr"))),
    (PROCESS64_EX, "process64_ex", "process_ex", _IDS7 + (("port", "u64"), ("addr", "taddr"))),
    (IN_ADDR_EX, "in_addr_ex", "ip addr ex", (("addr", "taddr"),)),
    (SOCKET_EX, "socket_ex", "socket", (("domain", "u16"), ("type", "u16"), ("sock", "sockex"))),
    (SOCKINET32, "sockinet32", "socket-inet", (("family", "u16"), ("port", "u16"),
                                               ("addr", "ip4"))),
    (SOCKINET128, "sockinet128", "socket-inet6", (("family", "u16"), ("port", "u16"),
                                                  ("addr", "ip16"))),
    (SOCKUNIX, "sockunix", "socket-unix", (("family", "u16"), ("path", "cstr"))),
    (ARG_UUID, "arg_uuid", "arg_uuid", (("argno", "u8"), ("uuid", "uuid"), ("text", "str"))),
    (RET_UUID, "ret_uuid", "ret_uuid", (("argno", "u8"), ("uuid", "uuid"), ("text", "str"))),
    (IDENTITY, "identity", None, (("signer_type", "u32"), ("signing_id", "str"),
                                  ("signing_id_truncated", "u8"), ("team_id", "str"),
                                  ("team_id_truncated", "u8"), ("cdhash", "opaque"))),
    (KRB5_PRINCIPAL, "krb5_principal", None, (("principals", "strings"),)),
    (CERT_HASH, "cert_hash", None, (("hashes", "strings"),)),
]

TOKENS: dict[int, TokenSpec] = {
    tid: TokenSpec(tid, name, label, fields, _compile(fields))
    for tid, name, label, fields in _DECLARED
}
BY_NAME: dict[str, TokenSpec] = {spec.name: spec for spec in TOKENS.values()}
if any(globals()[spec.name.upper()] != tid for tid, spec in TOKENS.items()):
    raise ImportError("a token id constant differs from the token table")


#: ids of the tokens made of one ``strings`` field (exec_args, exec_env, krb5_principal,
#: cert_hash): ``read_strings`` parses them with a known last NUL
STRINGS_TOKEN_IDS = frozenset(tid for tid, spec in TOKENS.items()
                              if tuple(kind for _, kind in spec.fields) == ("strings",))


def read_strings(buf, pos: int, end: int, nul_end: int) -> tuple[tuple, int]:
    """Parse a ``STRINGS_TOKEN_IDS`` token's body at ``pos`` (after its id) knowing that no NUL
    lies in [nul_end, end): (values, end position), as its spec's parse gives them."""
    value, new = _read_strings(buf, pos, end, nul_end)
    return (value,), new


def parse(buf, pos: int, end: int) -> tuple[int, tuple, int]:
    """Parse the token at ``buf[pos]``; returns (token id, values, end position).

    Raises TokenError for an unknown id or a token that does not fit before ``end``.
    """
    spec = TOKENS.get(buf[pos])
    if spec is None:
        raise TokenError(f"unknown token id 0x{buf[pos]:02x}")
    values, new = spec.parse(buf, pos + 1, end)
    return spec.id, values, new


# ---------------------------------------------------------------------------------------------
# writing (used by forensics.writer)

def _encode_field(kind: str, value) -> bytes:
    if kind in _FIXED:
        return struct.pack(">" + _FIXED[kind][0], value)
    if kind in ("str", "opaque"):
        return struct.pack(">H", len(value)) + value
    if kind in ("taddr", "taddr_lenient"):
        atype, addr = value
        return struct.pack(">I", atype) + addr
    if kind == "strings":
        count, strings = value
        return struct.pack(">I", count) + b"".join(s + b"\0" for s in strings)
    if kind == "gids":
        return struct.pack(f">H{len(value)}I", len(value), *value)
    if kind == "cstr":
        return value + b"\0"
    if kind == "data":
        how, unit, count, payload = value
        return bytes((how, unit, count)) + payload
    if kind == "sockex":
        atype, lport, laddr, rport, raddr = value
        return struct.pack(">HH", atype, lport) + laddr + struct.pack(">H", rport) + raddr
    raise ValueError(kind)


def encode(name_or_id: str | int, values) -> bytes:
    """Bytes of one token from its field values (a tuple in field order, or a dict)."""
    spec = BY_NAME[name_or_id] if isinstance(name_or_id, str) else TOKENS[name_or_id]
    if isinstance(values, dict):
        values = tuple(values[name] for name in spec.field_names)
    if len(values) != len(spec.fields):
        raise ValueError(f"{spec.name} takes {len(spec.fields)} values, got {len(values)}")
    return bytes((spec.id,)) + b"".join(
        _encode_field(kind, value) for (_, kind), value in zip(spec.fields, values))
