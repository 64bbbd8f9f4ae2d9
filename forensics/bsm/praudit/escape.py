"""praudit's XML escaping: entities for ``& < > " '``, then vis(3) with VIS_CSTYLE for the rest.

praudit escapes only exec_args/exec_env this way; knox-report escapes every string with it, so
the XML stays well-formed (see the package docstring). In attribute values tab and newline are
escaped too, since XML parsers would fold them into spaces.
"""

from __future__ import annotations

import re

__all__ = ["xml_escape", "xstr", "attrs"]

def _vis_byte(c: int, nextc: int, attr: bool) -> bytes:
    if 0x21 <= c <= 0x7E or c == 0x20 or (not attr and c in (0x09, 0x0A)):
        return b"\\\\" if c == 0x5C else bytes((c,))
    cstyle = {0x0A: b"\\n", 0x0D: b"\\r", 0x08: b"\\b", 0x07: b"\\a", 0x0B: b"\\v",
              0x09: b"\\t", 0x0C: b"\\f"}
    if c in cstyle:
        return cstyle[c]
    if c == 0:
        return b"\\000" if 0x30 <= nextc <= 0x37 else b"\\0"
    if (c & 0x7F) == 0x20:
        return b"\\%03o" % c
    out = b"\\"
    if c & 0x80:
        c &= 0x7F
        out += b"M"
    if c < 0x20 or c == 0x7F:
        return out + b"^" + (b"?" if c == 0x7F else bytes((c + 0x40,)))
    return out + b"-" + bytes((c,))


_ENTITIES = {0x26: b"&amp;", 0x3C: b"&lt;", 0x3E: b"&gt;", 0x22: b"&quot;", 0x27: b"&apos;"}


def _entity(b: bytes) -> bytes:
    for ch, ent in ((b"&", b"&amp;"), (b"<", b"&lt;"), (b">", b"&gt;"), (b'"', b"&quot;"),
                    (b"'", b"&apos;")):
        b = b.replace(ch, ent)
    return b


def _build_table(attr: bool) -> list[bytes]:
    return [_ENTITIES.get(c) or _entity(_vis_byte(c, 0, attr)) for c in range(256)]


_XML_CONTENT = _build_table(False)
_XML_ATTR = _build_table(True)
_XML_UNSAFE = re.compile(rb"[^\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\x5b\x5d-\x7e]")


def xml_escape(s: bytes, attr: bool = False) -> bytes:
    """Escape trail bytes for praudit's XML (see the module docstring)."""
    if _XML_UNSAFE.search(s) is None:
        return s
    table = _XML_ATTR if attr else _XML_CONTENT

    def one(m: re.Match) -> bytes:
        c = s[m.start()]
        if c == 0 and m.end() < len(s) and 0x30 <= s[m.end()] <= 0x37:
            return b"\\000"
        return table[c]

    return _XML_UNSAFE.sub(one, s)


def xstr(s: bytes, attr: bool = True) -> bytes:
    """A length-prefixed string for XML: its one terminating NUL dropped, the rest escaped."""
    if s[-1:] == b"\0":
        s = s[:-1]
    return xml_escape(s, attr)


def attrs(tag: bytes, pairs) -> bytes:
    """``<tag a="v" b="w" />``, upstream's open_attr/close_attr/close_tag shape."""
    return b"<" + tag + b" " + b"".join(k + b'="' + v + b'" ' for k, v in pairs) + b"/>"
