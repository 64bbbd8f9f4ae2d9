"""praudit's text forms: for each token id, the fields printed after the token's label.

Each form takes the renderer (for names, times and the return text), the token id and the
token's decoded values, and returns the list of fields; the renderer joins them with the
delimiter.
"""

from __future__ import annotations

from ..tokens import (
    ARG32, ARG64, ARG_UUID, ATTR32, ATTR64, CERT_HASH, DATA, EXEC_ARGS, EXEC_ENV, EXIT, FILE,
    HEADER32, HEADER32_EX, HEADER64, HEADER64_EX, HEADER_EX_IDS, IDENTITY, IN_ADDR, IN_ADDR_EX,
    IP, IPC, IPC_PERM, IPORT, KRB5_PRINCIPAL, NEWGROUPS, OPAQUE, PATH, PRIVSET, PROCESS32,
    PROCESS32_EX, PROCESS64, PROCESS64_EX, RET_UUID, RETURN32, RETURN64, SEQ, SOCKET, SOCKET_EX,
    SOCKINET32, SOCKINET128, SOCKUNIX, SUBJECT32, SUBJECT32_EX, SUBJECT64, SUBJECT64_EX, TEXT,
    TRAILER, TYPED_TERMINAL_IDS, UPRIV, ZONENAME,
)
from .values import (DATA_HOW, DATA_UNIT, IPC_TYPES, data_items, hashx, ip4, ip6, ip_ex, mem,
                     nonul, signed64, uuid)

__all__ = ["TEXT_FORMS", "ipc_kind"]


def _t_header(r, tid, v):
    if tid in HEADER_EX_IDS:
        size, version, event, mod, (atype, addr), sec, ms = v
        return [b"%u" % size, b"%u" % version, r.event(event), b"%u" % mod, ip_ex(atype, addr),
                r.sec(sec, tid == HEADER64_EX), r.msec(ms)]
    size, version, event, mod, sec, ms = v
    return [b"%u" % size, b"%u" % version, r.event(event), b"%u" % mod,
            r.sec(sec, tid == HEADER64), r.msec(ms)]


def _t_trailer(r, tid, v):
    return [b"%u" % v[1]]


def _t_file(r, tid, v):
    return [r.sec(v[0]), r.msec(v[1]), nonul(v[2])]


def _t_data(r, tid, v):
    how, unit, count, payload = v[0]
    word = DATA_HOW[how][0] if how in DATA_HOW else b"%u" % how
    return [word, DATA_UNIT[unit][0], b"%u" % count, data_items(how, unit, count, payload)]


def ipc_kind(r, kind: int) -> bytes:
    return b"%u" % kind if r.raw else IPC_TYPES.get(kind, b"%u" % kind)


def _t_ipc(r, tid, v):
    return [ipc_kind(r, v[0]), b"%u" % v[1]]


def _t_string(r, tid, v):
    return [nonul(v[0])]


def _t_subject(r, tid, v):
    auid, euid, egid, ruid, rgid, pid, sid, port, addr = v
    host = ip_ex(*addr) if tid in TYPED_TERMINAL_IDS else ip4(addr)
    return [r.user(auid), r.user(euid), r.group(egid), r.user(ruid), r.group(rgid), b"%u" % pid,
            b"%u" % sid, b"%u" % port, host]


def _t_return(r, tid, v):
    value = b"%u" % v[1] if tid == RETURN32 else b"%d" % signed64(v[1])
    return [r.retval(v[0]), value]


def _t_opaque(r, tid, v):
    return [b"%u" % len(v[0]), mem(v[0])]


def _t_in_addr(r, tid, v):
    return [ip4(v[0])]


def _t_in_addr_ex(r, tid, v):
    return [ip_ex(*v[0])]


def _t_ip(r, tid, v):
    version, tos, length, ident, offset, ttl, proto, chksm, src, dst = v
    return [b"0x%02x" % version, b"0x%02x" % tos, b"%u" % length, b"%u" % ident, b"%u" % offset,
            b"0x%02x" % ttl, b"0x%02x" % proto, b"%u" % chksm, ip4(src), ip4(dst)]


def _t_iport(r, tid, v):
    return [hashx(v[0])]


def _t_arg(r, tid, v):
    return [b"%u" % v[0], b"0x%x" % v[1], nonul(v[2])]


def _t_socket(r, tid, v):
    kind, lport, laddr, rport, raddr = v
    return [b"%u" % kind, b"%u" % lport, ip4(laddr), b"%u" % rport, ip4(raddr)]


def _t_seq(r, tid, v):
    return [b"%u" % v[0]]


def _t_ipc_perm(r, tid, v):
    uid, gid, puid, pgid, mode, seq, key = v
    return [r.user(uid), r.group(gid), r.user(puid), r.group(pgid), b"%o" % mode, b"%u" % seq,
            b"%u" % key]


def _t_privset(r, tid, v):
    return [nonul(v[0]), nonul(v[1])]


def _t_upriv(r, tid, v):
    word = b"successful use of priv" if v[0] else b"failed use of priv"
    return [word, nonul(v[1])]


def _t_groups(r, tid, v):
    return [r.group(g) for g in v[0]]


def _t_strings(r, tid, v):
    return list(v[0][1])


def _t_attr(r, tid, v):
    mode, uid, gid, fsid, nodeid, dev = v
    return [b"%o" % mode, r.user(uid), r.group(gid), b"%u" % fsid, b"%d" % signed64(nodeid),
            b"%u" % dev]


def _t_exit(r, tid, v):
    return [b"Error %u" % v[0], b"%u" % v[1]]


def _t_socket_ex(r, tid, v):
    domain, kind, (atype, lport, laddr, rport, raddr) = v
    return [hashx(domain), hashx(kind), hashx(lport), ip_ex(atype, laddr), hashx(rport),
            ip_ex(atype, raddr)]


def _t_sockinet(r, tid, v):
    family, port, addr = v
    return [b"%u" % family, b"%u" % port, ip4(addr) if tid == SOCKINET32 else ip6(addr)]


def _t_sockunix(r, tid, v):
    return [b"%u" % v[0], v[1]]


def _t_uuid(r, tid, v):
    return [b"%u" % v[0], uuid(v[1]), nonul(v[2])]


def _t_identity(r, tid, v):
    signer, signing_id, sid_trunc, team_id, tid_trunc, cdhash = v
    return [b"%u" % signer, nonul(signing_id), b"truncated" if sid_trunc else b"complete",
            nonul(team_id), b"truncated" if tid_trunc else b"complete", mem(cdhash)]


TEXT_FORMS = {
    FILE: _t_file, TRAILER: _t_trailer, HEADER32: _t_header, HEADER32_EX: _t_header,
    HEADER64: _t_header, HEADER64_EX: _t_header, DATA: _t_data, IPC: _t_ipc, PATH: _t_string,
    SUBJECT32: _t_subject, PROCESS32: _t_subject, RETURN32: _t_return, TEXT: _t_string,
    OPAQUE: _t_opaque, IN_ADDR: _t_in_addr, IP: _t_ip, IPORT: _t_iport, ARG32: _t_arg,
    SOCKET: _t_socket, SEQ: _t_seq, IPC_PERM: _t_ipc_perm, PRIVSET: _t_privset, UPRIV: _t_upriv,
    NEWGROUPS: _t_groups, EXEC_ARGS: _t_strings, EXEC_ENV: _t_strings, ATTR32: _t_attr,
    EXIT: _t_exit, ZONENAME: _t_string, ARG64: _t_arg, RETURN64: _t_return, ATTR64: _t_attr,
    SUBJECT64: _t_subject, PROCESS64: _t_subject, SUBJECT32_EX: _t_subject,
    PROCESS32_EX: _t_subject, SUBJECT64_EX: _t_subject, PROCESS64_EX: _t_subject,
    IN_ADDR_EX: _t_in_addr_ex, SOCKET_EX: _t_socket_ex, SOCKINET32: _t_sockinet,
    SOCKINET128: _t_sockinet, SOCKUNIX: _t_sockunix, ARG_UUID: _t_uuid, RET_UUID: _t_uuid,
    IDENTITY: _t_identity, KRB5_PRINCIPAL: _t_strings, CERT_HASH: _t_strings,
}
