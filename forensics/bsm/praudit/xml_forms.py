"""praudit's XML forms (``-x``): for each token id, the whole element.

Upstream's element and attribute names and orders are kept (tid's spacing, the socket_ex
attribute order, ``port=""`` in socket-unix); every string is escaped (``escape.xml_escape``)
and the elements upstream gets wrong are well-formed here (see the package docstring).
"""

from __future__ import annotations

from ..tokens import (
    ARG32, ARG64, ARG_UUID, ATTR32, ATTR64, CERT_HASH, DATA, EXEC_ARGS, EXEC_ENV, EXIT, FILE,
    HEADER32, HEADER32_EX, HEADER64, HEADER64_EX, HEADER_EX_IDS, IDENTITY, IN_ADDR, IN_ADDR_EX,
    IP, IPC, IPC_PERM, IPORT, KRB5_PRINCIPAL, NEWGROUPS, OPAQUE, PATH, PRIVSET, PROCESS32,
    PROCESS32_EX, PROCESS64, PROCESS64_EX, PROCESS_IDS, RET_UUID, RETURN32, RETURN64, SEQ, SOCKET,
    SOCKET_EX, SOCKINET32, SOCKINET128, SOCKUNIX, SUBJECT32, SUBJECT32_EX, SUBJECT64,
    SUBJECT64_EX, TEXT, TRAILER, TYPED_TERMINAL_IDS, UPRIV, ZONENAME,
)
from .escape import attrs, xml_escape, xstr
from .text_forms import TEXT_FORMS, ipc_kind
from .values import DATA_HOW, DATA_UNIT, data_items, hashx, ip4, ip6, ip_ex, mem, signed64, uuid

__all__ = ["XML_FORMS"]


def _x_header(r, tid, v):
    if tid in HEADER_EX_IDS:
        size, version, event, mod, (atype, addr), sec, ms = v
        pairs = [(b"version", b"%u" % version), (b"event", r.event(event)),
                 (b"modifier", b"%u" % mod), (b"host", ip_ex(atype, addr)),
                 (b"time", r.sec(sec, tid == HEADER64_EX)), (b"msec", r.msec(ms))]
    else:
        size, version, event, mod, sec, ms = v
        pairs = [(b"version", b"%u" % version), (b"event", r.event(event)),
                 (b"modifier", b"%u" % mod), (b"time", r.sec(sec, tid == HEADER64)),
                 (b"msec", r.msec(ms))]
    return b"<record " + b"".join(k + b'="' + val + b'" ' for k, val in pairs) + b">"


def _x_trailer(r, tid, v):
    return b"</record>"


def _x_file(r, tid, v):
    return (b'<file time="' + r.sec(v[0]) + b'" msec="' + r.msec(v[1]) + b'" >'
            + xstr(v[2], False) + b"</file>")


def _x_data(r, tid, v):
    how, unit, count, payload = v[0]
    word = DATA_HOW[how][0] if how in DATA_HOW else b"%u" % how
    items = xml_escape(data_items(how, unit, count, payload))
    return (b'<arbitrary print="' + word + b'" type="%u" count="%u" >' % (DATA_UNIT[unit][1], count)
            + items + b"</arbitrary>")


def _x_ipc(r, tid, v):
    return attrs(b"IPC", [(b"ipc-type", ipc_kind(r, v[0])), (b"ipc-id", b"%u" % v[1])])


def _content(tag: bytes):
    def element(r, tid, v):
        return b"<" + tag + b">" + xstr(v[0], False) + b"</" + tag + b">"
    return element


def _x_subject(r, tid, v):
    auid, euid, egid, ruid, rgid, pid, sid, port, addr = v
    if tid == SUBJECT32:
        tid_text = b"%u " % port + ip4(addr)
    elif tid in TYPED_TERMINAL_IDS:
        tid_text = b"%u" % port + ip_ex(*addr)
    else:
        tid_text = b"%u" % port + ip4(addr)
    return attrs(b"process" if tid in PROCESS_IDS else b"subject", [
        (b"audit-uid", r.user(auid)), (b"uid", r.user(euid)), (b"gid", r.group(egid)),
        (b"ruid", r.user(ruid)), (b"rgid", r.group(rgid)), (b"pid", b"%u" % pid),
        (b"sid", b"%u" % sid), (b"tid", tid_text)])


def _x_return(r, tid, v):
    errval, value = TEXT_FORMS[tid](r, tid, v)
    return attrs(b"return", [(b"errval", errval), (b"retval", value)])


def _x_opaque(r, tid, v):
    return b"<opaque>" + mem(v[0]) + b"</opaque>"


def _x_in_addr(r, tid, v):
    addr = ip4(v[0]) if tid == IN_ADDR else ip_ex(*v[0])
    return b"<ip_address>" + addr + b"</ip_address>"


def _x_ip(r, tid, v):
    names = (b"version", b"service_type", b"len", b"id", b"offset", b"time_to_live", b"protocol",
             b"cksum", b"src_addr", b"dest_addr")
    return attrs(b"ip", zip(names, TEXT_FORMS[tid](r, tid, v)))


def _x_iport(r, tid, v):
    return b"<ip_port>" + hashx(v[0]) + b"</ip_port>"


def _x_arg(r, tid, v):
    return attrs(b"argument", [(b"arg-num", b"%u" % v[0]), (b"value", b"0x%x" % v[1]),
                               (b"desc", xstr(v[2]))])


def _x_socket(r, tid, v):
    kind, lport, laddr, rport, raddr = v
    return attrs(b"socket", [(b"sock_type", b"%u" % kind), (b"lport", b"%u" % lport),
                             (b"laddr", ip4(laddr)), (b"fport", b"%u" % rport),
                             (b"faddr", ip4(raddr))])


def _x_seq(r, tid, v):
    return attrs(b"sequence", [(b"seq-num", b"%u" % v[0])])


def _x_ipc_perm(r, tid, v):
    uid, gid, puid, pgid, mode, seq, key = v
    return attrs(b"IPC_perm", [
        (b"uid", r.user(uid)), (b"gid", r.group(gid)), (b"creator-uid", r.user(puid)),
        (b"creator-gid", r.group(pgid)), (b"mode", b"%o" % mode), (b"seq", b"%u" % seq),
        (b"key", b"%u" % key)])


def _x_privset(r, tid, v):
    return attrs(b"privilege", [(b"type", xstr(v[0])), (b"priv", xstr(v[1]))])


def _x_upriv(r, tid, v):
    word = b"successful use of priv" if v[0] else b"failed use of priv"
    return attrs(b"use_of_privilege", [(b"status", word), (b"name", xstr(v[1]))])


def _x_groups(r, tid, v):
    return b"<group>" + b"".join(b"<gid>" + r.group(g) + b"</gid>" for g in v[0]) + b"</group>"


_LISTS = {EXEC_ARGS: (b"exec_args", b"arg"), EXEC_ENV: (b"exec_env", b"env"),
          KRB5_PRINCIPAL: (b"krb5_principal", b"principal"), CERT_HASH: (b"cert_hash", b"hash")}


def _x_strings(r, tid, v):
    tag, item = _LISTS[tid]
    inner = b"".join(b"<" + item + b">" + xml_escape(s) + b"</" + item + b">" for s in v[0][1])
    return b"<" + tag + b">" + inner + b"</" + tag + b">"


def _x_attr(r, tid, v):
    mode, uid, gid, fsid, nodeid, dev = v
    return attrs(b"attribute", [
        (b"mode", b"%o" % mode), (b"uid", r.user(uid)), (b"gid", r.group(gid)),
        (b"fsid", b"%u" % fsid), (b"nodeid", b"%d" % signed64(nodeid)), (b"device", b"%u" % dev)])


def _x_exit(r, tid, v):
    return attrs(b"exit", [(b"errval", b"Error %u" % v[0]), (b"retval", b"%u" % v[1])])


def _x_zone(r, tid, v):
    return attrs(b"zone", [(b"name", xstr(v[0]))])


def _x_socket_ex(r, tid, v):
    domain, kind, (atype, lport, laddr, rport, raddr) = v
    return attrs(b"socket", [
        (b"sock_dom", hashx(domain)), (b"sock_type", hashx(kind)), (b"lport", hashx(lport)),
        (b"laddr", ip_ex(atype, laddr)), (b"faddr", ip_ex(atype, raddr)),
        (b"fport", hashx(rport))])


def _x_sockinet(r, tid, v):
    family, port, addr = v
    tag = b"socket-inet" if tid == SOCKINET32 else b"socket-inet6"
    return attrs(tag, [(b"type", b"%u" % family), (b"port", b"%u" % port),
                       (b"addr", ip4(addr) if tid == SOCKINET32 else ip6(addr))])


def _x_sockunix(r, tid, v):
    return attrs(b"socket-unix", [(b"type", b"%u" % v[0]), (b"port", b""),
                                  (b"addr", xml_escape(v[1], True))])


def _x_uuid(r, tid, v):
    tag = b"arg_uuid" if tid == ARG_UUID else b"ret_uuid"
    return attrs(tag, [(tag + b"-num", b"%u" % v[0]), (b"uuid", uuid(v[1])),
                       (b"desc", xstr(v[2]))])


def _x_identity(r, tid, v):
    signer, signing_id, sid_trunc, team_id, tid_trunc, cdhash = v
    return attrs(b"identity", [
        (b"signer-type", b"%u" % signer), (b"signing-id", xstr(signing_id)),
        (b"signing-id-truncated", b"yes" if sid_trunc else b"no"),
        (b"team-id", xstr(team_id)), (b"team-id-truncated", b"yes" if tid_trunc else b"no"),
        (b"cdhash", mem(cdhash))])


XML_FORMS = {
    FILE: _x_file, TRAILER: _x_trailer, HEADER32: _x_header, HEADER32_EX: _x_header,
    HEADER64: _x_header, HEADER64_EX: _x_header, DATA: _x_data, IPC: _x_ipc,
    PATH: _content(b"path"), SUBJECT32: _x_subject, PROCESS32: _x_subject, RETURN32: _x_return,
    TEXT: _content(b"text"), OPAQUE: _x_opaque, IN_ADDR: _x_in_addr, IP: _x_ip, IPORT: _x_iport,
    ARG32: _x_arg, SOCKET: _x_socket, SEQ: _x_seq, IPC_PERM: _x_ipc_perm, PRIVSET: _x_privset,
    UPRIV: _x_upriv, NEWGROUPS: _x_groups, EXEC_ARGS: _x_strings, EXEC_ENV: _x_strings,
    ATTR32: _x_attr, EXIT: _x_exit, ZONENAME: _x_zone, ARG64: _x_arg, RETURN64: _x_return,
    ATTR64: _x_attr, SUBJECT64: _x_subject, PROCESS64: _x_subject, SUBJECT32_EX: _x_subject,
    PROCESS32_EX: _x_subject, SUBJECT64_EX: _x_subject, PROCESS64_EX: _x_subject,
    IN_ADDR_EX: _x_in_addr, SOCKET_EX: _x_socket_ex, SOCKINET32: _x_sockinet,
    SOCKINET128: _x_sockinet, SOCKUNIX: _x_sockunix, ARG_UUID: _x_uuid, RET_UUID: _x_uuid,
    IDENTITY: _x_identity, KRB5_PRINCIPAL: _x_strings, CERT_HASH: _x_strings,
}
