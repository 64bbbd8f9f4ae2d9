"""Lossless conversion between the bytes found in trails and Python/Polars strings.

Paths, argv and text in a trail are whatever bytes the kernel or a user-space writer stored:
mostly UTF-8, sometimes not. Polars strings must be valid UTF-8, so bytes that are not part of
valid UTF-8 are mapped into a private-use block: byte ``0xNN`` (0x80-0xFF) becomes the code point
``U+EF00 + 0xNN``. A genuine UTF-8 sequence that encodes U+EF80..U+EFFF is escaped the same way,
byte by byte, so the mapping is a bijection: ``encode_text(decode_bytes(b)) == b`` always.
"""

from __future__ import annotations

import re

__all__ = ["decode_bytes", "encode_text"]

_ESCAPE_BASE = 0xEF00
# U+EF80..U+EFFF encode in UTF-8 as EE BE 80..EE BF BF.
_RESERVED = re.compile("[\uef80-\uefff]")
_SURROGATE = re.compile("[\udc80-\udcff]")


def _escape_reserved(match: re.Match) -> str:
    return "".join(chr(_ESCAPE_BASE + b) for b in match.group().encode("utf-8"))


def _surrogate_to_private(match: re.Match) -> str:
    return chr(_ESCAPE_BASE + (ord(match.group()) - 0xDC00))


def decode_bytes(data: bytes) -> str:
    """Bytes from a trail -> str, keeping every byte (see module docstring)."""
    if data.isascii():
        return data.decode("ascii")
    text = data.decode("utf-8", "surrogateescape")
    if _RESERVED.search(text):
        text = _RESERVED.sub(_escape_reserved, text)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(_surrogate_to_private, text)
    return text


def encode_text(text: str) -> bytes:
    """The inverse of :func:`decode_bytes`."""
    out = bytearray()
    for part in re.split("([\uef80-\uefff]+)", text):
        if part and "\uef80" <= part[0] <= "\uefff":
            out.extend(ord(c) - _ESCAPE_BASE for c in part)
        else:
            out.extend(part.encode("utf-8"))
    return bytes(out)
