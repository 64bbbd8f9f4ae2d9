"""Small formatting helpers, each mirroring one printf of libbsm's ``bsm_io.c``.

They turn decoded token values into the bytes praudit prints: numbers in praudit's formats,
addresses, uuids, the items of a data token and the text of a return token's status byte.
"""

from __future__ import annotations

import struct

from ..addresses import format_ip6
from ...tables import bsm_errno

__all__ = ["signed32", "signed64", "hashx", "mem", "nonul", "ip4", "ip6", "ip_ex", "uuid",
           "data_items", "return_text", "DATA_HOW", "DATA_UNIT", "IPC_TYPES", "NO_MACOS_ERRNO"]

IPC_TYPES = {1: b"Message IPC", 2: b"Semaphore IPC", 3: b"Shared Memory IPC"}
DATA_HOW = {0: (b"binary", "c"), 1: (b"octal", "o"), 2: (b"decimal", "d"), 3: (b"hex", "x"),
            4: (b"string", "s")}
DATA_UNIT = {0: (b"byte", 1), 1: (b"short", 2), 2: (b"int", 4), 3: (b"int64", 8)}


def signed32(v: int) -> int:
    return v - 0x100000000 if v & 0x80000000 else v


def signed64(v: int) -> int:
    return v - 0x10000000000000000 if v & 0x8000000000000000 else v


def hashx(v: int) -> bytes:
    """printf("%#x"): 0 prints as "0", everything else with a 0x prefix."""
    return b"%#x" % v if v else b"0"


def mem(data: bytes) -> bytes:
    """print_mem(): "0x" and two hex digits per byte; nothing at all for no bytes."""
    return b"0x" + data.hex().encode() if data else b""


def nonul(s: bytes) -> bytes:
    """print_string(): every byte of a length-prefixed string except NULs."""
    return s.replace(b"\0", b"") if b"\0" in s else s


def ip4(raw: bytes) -> bytes:
    return b"%d.%d.%d.%d" % (raw[0], raw[1], raw[2], raw[3])


def ip6(raw: bytes) -> bytes:
    """glibc inet_ntop(AF_INET6): decode.format_ip6, plus the IPv4-compatible ::a.b.c.d form."""
    words = struct.unpack(">8H", raw)
    if words[:6] == (0, 0, 0, 0, 0, 0) and words[6] != 0:
        return b"::" + ip4(raw[12:])
    return format_ip6(raw).encode("ascii")


def ip_ex(atype: int, raw: bytes) -> bytes:
    if atype == 4:
        return ip4(raw)
    if atype == 16:
        return ip6(raw)
    return b"invalid"


def uuid(raw: bytes) -> bytes:
    h = raw.hex().encode()
    return b"-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


def data_items(how: int, unit: int, count: int, payload: bytes) -> bytes:
    """praudit's data printing: items are read in x86 (little-endian) host order, 64-bit items
    go through an int-sized conversion, so only their low 32 bits print."""
    size = DATA_UNIT[unit][1]
    conv = DATA_HOW.get(how, (None, "x"))[1]
    out = []
    for i in range(count):
        item = int.from_bytes(payload[i * size:(i + 1) * size], "little")
        if size == 8:
            item &= 0xFFFFFFFF
        if conv == "s":
            out.append(bytes((item & 0xFF,)))
        elif conv == "c":
            out.append(b" " + bytes((item & 0xFF,)))
        elif conv == "d":
            out.append(b" %d" % (signed32(item) if size >= 4 else item))
        elif conv == "o":
            out.append(b" %o" % item)
        else:
            out.append(b" %x" % item)
    return b"".join(out)


# --------------------------------------------------------------------------------------------
# a return token's status byte

#: BSM errnos with no local errno on macOS. libbsm's table (bsm_errno.c) maps each of these
#: only ``#ifdef`` its name, and macOS's <sys/errno.h> defines none of them for user space
#: (ERESTART and EJUSTRETURN are kernel-only there; EPOLICY is ENOPOLICY on macOS). For them
#: ``au_bsm_to_errno`` fails and praudit prints ``failure: Unknown error: N``, as it does for a
#: number libbsm does not know at all.
NOT_ON_MACOS = frozenset("""
    ECHRNG EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO EBADRQC
    EBADSLT EDEADLOCK EBFONT ENONET ENOPKG EADV ESRMNT ECOMM ELOCKUNMAPPED ENOTACTIVE ENOTUNIQ
    EBADFD EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC ERESTART ESTRPIPE EDOOFUS EJUSTRETURN
    ENOIOCTL EDIRIOCTL EPOLICY EDOTDOT EUCLEAN ENOTNAM ENAVAIL EISNAM EREMOTEIO ENOMEDIUM
    EMEDIUMTYPE ENOKEY EKEYEXPIRED EKEYREVOKED EKEYREJECTED ENOTCAPABLE ECAPMODE EINTEGRITY
""".split())
NO_MACOS_ERRNO = frozenset(number for number in range(256)
                           if (bsm_errno(number) or ("",))[0] in NOT_ON_MACOS)


def return_text(status: int) -> bytes:
    """print_retval() on macOS: ``success``, ``failure : <BSD/macOS text>`` when the BSM errno
    has a local errno, else ``failure: Unknown error: N`` (no space before the colon)."""
    if status == 0:
        return b"success"
    known = None if status in NO_MACOS_ERRNO else bsm_errno(status)
    if known is None:
        return b"failure: Unknown error: %d" % status
    return b"failure : " + known[1].encode("utf-8", "surrogateescape")
