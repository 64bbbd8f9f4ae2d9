"""IPv4 and IPv6 addresses as text, the way the frames and praudit write them (pure Python)."""

from __future__ import annotations

import struct

__all__ = ["format_ip4", "format_ip6"]


def format_ip4(raw: bytes) -> str:
    return "%d.%d.%d.%d" % (raw[0], raw[1], raw[2], raw[3])


def format_ip6(raw: bytes) -> str:
    """RFC 5952 text; IPv4-mapped addresses (::ffff:a.b.c.d) keep the dotted tail."""
    groups = struct.unpack(">8H", raw)
    if groups[:6] == (0, 0, 0, 0, 0, 0xFFFF):
        return "::ffff:" + format_ip4(raw[12:])
    best, best_len, i = -1, 1, 0
    while i < 8:
        if groups[i] == 0:
            j = i
            while j < 8 and groups[j] == 0:
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    if best < 0:
        return ":".join("%x" % g for g in groups)
    head = ":".join("%x" % g for g in groups[:best])
    tail = ":".join("%x" % g for g in groups[best + best_len:])
    return head + "::" + tail
