"""The trail writer: BSM records built from the token table in ``forensics.tokens``.

Used for the project's own fixtures (``tests/fixtures``), the demo trail and the benchmark
input. Token helpers take Python values (str or bytes for strings, dotted or colon text for
addresses) and return the token's bytes; ``record`` wraps tokens in a header and trailer::

    from forensics.bsm import writer as w
    trail = w.Trail()
    trail.record(w.AUE_EXECVE, [w.exec_args(["ls", "-l"]), w.path("/bin/ls"),
                                w.subject(auid=501, pid=1201, asid=100006), w.return32()],
                 time=1710493199.944)
    trail.write_to("x.trail")
"""

from __future__ import annotations

import ipaddress
import struct
from datetime import datetime
from pathlib import Path

from .tokens import TRAILER_MAGIC, encode
from ..schema import UNSET      # re-exported: scenarios write ``w.UNSET``
from ..window import to_ms

__all__ = [
    "Trail", "record", "file_token",
    "subject", "process", "arg", "path", "text", "attr", "return32", "exit_token", "exec_args",
    "exec_env", "identity", "cdhash_data", "sockinet", "sockunix", "socket_ex", "in_addr",
    "zonename", "seq", "ipc", "header_time",
    "AUE_EXIT", "AUE_FORK", "AUE_OPEN_R", "AUE_OPEN_RW", "AUE_OPEN_WC", "AUE_OPEN_RWTC",
    "AUE_OPEN_WTC", "AUE_CLOSE", "AUE_UNLINK", "AUE_EXECVE", "AUE_VFORK", "AUE_RENAME",
    "AUE_KILL", "AUE_SETUID", "AUE_SETEUID", "AUE_SETAUID", "AUE_SETAUDIT_ADDR",
    "AUE_CONNECT", "AUE_ACCEPT", "AUE_BIND", "AUE_POSIX_SPAWN", "AUE_OPENAT_RWTC",
    "AUE_RENAMEAT", "AUE_UNLINKAT", "AUE_WAIT4", "AUE_CHDIR", "AUE_OPEN_W", "AUE_OPENAT_R",
    "AUE_openssh", "AUE_logout", "AUE_login", "AUE_sudo", "AUE_su", "AUE_ssauthorize",
    "AUE_audit_startup", "AUE_audit_shutdown", "AUE_SESSION_START", "AUE_SESSION_END",
    "UNSET",
]

# event numbers (xnu bsd/bsm/audit_kevents.h and audit_uevents.h)
AUE_EXIT, AUE_FORK, AUE_OPEN_R, AUE_UNLINK, AUE_CHDIR = 1, 2, 72, 6, 8
AUE_OPEN_RW, AUE_OPEN_W, AUE_OPEN_WC, AUE_OPEN_WTC, AUE_OPEN_RWTC = 80, 76, 77, 79, 83
AUE_KILL, AUE_EXECVE, AUE_VFORK, AUE_CONNECT, AUE_ACCEPT, AUE_BIND = 15, 23, 25, 32, 33, 34
AUE_RENAME, AUE_CLOSE, AUE_SETUID, AUE_SETEUID, AUE_SETAUID = 42, 112, 200, 215, 131
AUE_SETAUDIT_ADDR, AUE_OPENAT_R, AUE_OPENAT_RWTC, AUE_RENAMEAT, AUE_UNLINKAT = 266, 270, 281, 282, 286
AUE_WAIT4, AUE_POSIX_SPAWN = 43060, 43190
AUE_SESSION_START, AUE_SESSION_END = 44901, 44903
AUE_audit_startup, AUE_audit_shutdown = 45000, 45001
AUE_ssauthorize, AUE_sudo, AUE_su = 45025, 45028, 6159
AUE_login, AUE_logout, AUE_openssh = 6152, 6153, 32800


def _b(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def _s(value) -> bytes:
    """A length-prefixed string's bytes: the value plus its terminating NUL."""
    return _b(value) + b"\0"


def _addr(value) -> tuple[int, bytes]:
    packed = ipaddress.ip_address(value).packed
    return len(packed), packed


def header_time(time) -> tuple[int, int]:
    """(seconds, milliseconds) from epoch seconds (rounded to the millisecond) or an aware
    datetime (``window.to_ms``: exact, floored to its millisecond)."""
    ms = to_ms(time) if isinstance(time, datetime) else int(round(time * 1000))
    return ms // 1000, ms % 1000


# ---- tokens ---------------------------------------------------------------------------------

def subject(auid=UNSET, euid=None, egid=None, ruid=None, rgid=None, pid=0, asid=0, port=0,
            host="0.0.0.0", *, uid=None, gid=None) -> bytes:
    """subject32 for an IPv4 terminal, subject32_ex for IPv6 (as the macOS kernel does).

    ``uid``/``gid`` fill the effective and real ids not given explicitly.
    """
    uid = auid if uid is None else uid
    gid = 20 if gid is None else gid
    ids = (auid, uid if euid is None else euid, gid if egid is None else egid,
           uid if ruid is None else ruid, gid if rgid is None else rgid, pid, asid)
    atype, raw = _addr(host)
    if atype == 4:
        return encode("subject32", ids + (port, raw))
    return encode("subject32_ex", ids + (port, (atype, raw)))


def process(auid=UNSET, euid=0, egid=0, ruid=0, rgid=0, pid=0, asid=0, port=0,
            host="0.0.0.0") -> bytes:
    """process32_ex: the target of kill, task_for_pid, ... (what xnu writes)."""
    return encode("process32_ex", (auid, euid, egid, ruid, rgid, pid, asid, port, _addr(host)))


def arg(number: int, value: int, text: str, *, wide: bool = False) -> bytes:
    if wide or value > 0xFFFFFFFF:
        return encode("arg64", (number, value, _s(text)))
    return encode("arg32", (number, value & 0xFFFFFFFF, _s(text)))


def path(value) -> bytes:
    return encode("path", (_s(value),))


def text(value) -> bytes:
    return encode("text", (_s(value),))


def zonename(value) -> bytes:
    return encode("zonename", (_s(value),))


def attr(mode=0o100644, uid=0, gid=0, fsid=16777233, nodeid=0, dev=0) -> bytes:
    return encode("attr32", (mode, uid, gid, fsid, nodeid & 0xFFFFFFFFFFFFFFFF, dev))


def return32(errno: int = 0, value: int = 0) -> bytes:
    return encode("return32", (errno, value & 0xFFFFFFFF))


def exit_token(status: int = 0, ret: int = 0) -> bytes:
    return encode("exit", (status, ret))


def exec_args(argv, count: int | None = None) -> bytes:
    argv = [_b(a) for a in argv]
    return encode("exec_args", ((len(argv) if count is None else count, argv),))


def exec_env(env, count: int | None = None) -> bytes:
    env = [_b(e) for e in env]
    return encode("exec_env", ((len(env) if count is None else count, env),))


def identity(signing_id="", team_id="", cdhash: bytes = b"", *, platform: bool = False,
             signing_id_truncated: bool = False, team_id_truncated: bool = False) -> bytes:
    return encode("identity", (int(platform), _s(signing_id), int(signing_id_truncated),
                               _s(team_id), int(team_id_truncated), cdhash))


def cdhash_data(cdhash: bytes) -> bytes:
    """data(AUP_HEX, AUR_BYTE, 20, cdhash): the new image's cdhash on exec and spawn."""
    return encode("data", ((3, 0, len(cdhash), cdhash),))


def sockinet(address: str, port: int) -> bytes:
    """sockinet32 / sockinet128 as xnu writes them (BSM family 2 / 26; IPv6 port byte-swapped)."""
    atype, raw = _addr(address)
    if atype == 4:
        return encode("sockinet32", (2, port, raw))
    swapped = struct.unpack("<H", struct.pack(">H", port))[0]
    return encode("sockinet128", (26, swapped, raw))


def sockunix(sock_path) -> bytes:
    return encode("sockunix", (1, _b(sock_path)))


def socket_ex(local: str, lport: int, remote: str, rport: int, *, type: int = 2) -> bytes:
    atype, laddr = _addr(local)
    _, raddr = _addr(remote)
    return encode("socket_ex", (2 if atype == 4 else 26, type, (atype, lport, laddr, rport, raddr)))


def in_addr(address: str) -> bytes:
    atype, raw = _addr(address)
    return encode("in_addr", (raw,)) if atype == 4 else encode("in_addr_ex", ((atype, raw),))


def seq(number: int) -> bytes:
    return encode("seq", (number,))


def ipc(kind: int, ident: int) -> bytes:
    return encode("ipc", (kind, ident))


# ---- records --------------------------------------------------------------------------------

def record(event: int, tokens, *, time, modifier: int = 0, version: int = 11,
           header: str = "header32", host: str | None = None) -> bytes:
    """A whole record: header, the tokens given (bytes), trailer; sizes filled in."""
    body = b"".join(tokens)
    sec, msec = header_time(time)
    if header == "header32":
        head_len = 18
    elif header == "header64":
        head_len = 26
    elif header in ("header32_ex", "header64_ex"):
        atype = _addr(host or "0.0.0.0")[0]
        head_len = (22 if header == "header32_ex" else 30) + atype
    else:
        raise ValueError(f"unknown header kind {header!r}")
    size = head_len + len(body) + 7
    if header in ("header32", "header64"):
        head = encode(header, (size, version, event, modifier, sec, msec))
    else:
        head = encode(header, (size, version, event, modifier, _addr(host or "0.0.0.0"), sec, msec))
    return head + body + encode("trailer", (TRAILER_MAGIC, size))


def file_token(time, name: str = "") -> bytes:
    sec, msec = header_time(time)
    return encode("file", (sec, msec, _s(name) if name else b""))


class Trail:
    """An in-memory trail: append records, then write it out."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def record(self, event: int, tokens, *, time, **kw) -> bytes:
        data = record(event, tokens, time=time, **kw)
        self._parts.append(data)
        return data

    def raw(self, data: bytes) -> None:
        """Append bytes as they are (file tokens, deliberate damage)."""
        self._parts.append(data)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)

    def write_to(self, dest) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.getvalue())
        return dest
