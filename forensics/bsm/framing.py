"""Framing: a trail split into records, bare file tokens and damaged spans.

At each position: a header id (0x14 0x15 0x74 0x79) starts a record when its u32 size is at
least 25, fits in the data, and lands on a trailer (0x13, magic 0xb105, the same size). A 0x11
starts a bare file token when it fits. Anything else is damage: the decoder scans forward for
the next valid record (or a valid file token that ends the data or is followed by a valid
record) and reports the skipped span with one reason from ``schema.DAMAGE_REASONS``, named for
what was wrong at the span's first byte. ``csrc/bsm.c`` mirrors this step for step.
"""

from __future__ import annotations

import re
import struct
from typing import Iterator, NamedTuple

from .tokens import FILE, HEADER_IDS, TRAILER, TRAILER_MAGIC

__all__ = ["Item", "frame", "MIN_RECORD_SIZE", "REPAIR_WINDOW"]

MIN_RECORD_SIZE = 25          # header32 (18) + trailer (7)
REPAIR_WINDOW = 1 << 20       # how far a trailer is looked for behind a header with a bad size
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_HEADER_RE = re.compile(b"[" + re.escape(bytes(sorted({FILE, *HEADER_IDS}))) + b"]")
_TRAILER_START = bytes((TRAILER,)) + struct.pack(">H", TRAILER_MAGIC)


class Item(NamedTuple):
    kind: str          # "record", "file" or "damage"
    offset: int
    length: int
    reason: str | None = None


def _record_problem(buf, p: int, n: int) -> str | None:
    if n - p < 5:
        return "truncated record"
    size = _U32.unpack_from(buf, p + 1)[0]
    if size < MIN_RECORD_SIZE:
        return "bad record size"
    if size > n - p:
        return "truncated record"
    t = p + size - 7
    if (buf[t] != TRAILER or _U16.unpack_from(buf, t + 1)[0] != TRAILER_MAGIC
            or _U32.unpack_from(buf, t + 3)[0] != size):
        return "bad trailer"
    return None


def _file_size(buf, p: int, n: int) -> int | None:
    """Length of the bare file token at p, or None when it does not fit."""
    if n - p < 11:
        return None
    size = 11 + _U16.unpack_from(buf, p + 9)[0]
    return size if size <= n - p else None


def _resync(buf, p: int, n: int) -> int:
    """First position >= p where a valid record (or a trustworthy file token) starts, else n."""
    for m in _HEADER_RE.finditer(buf, p):
        q = m.start()
        if buf[q] == FILE:
            size = _file_size(buf, q, n)
            if size is None or _U32.unpack_from(buf, q + 5)[0] >= 1000:
                continue
            after = q + size
            if after == n or (buf[after] in HEADER_IDS and _record_problem(buf, after, n) is None):
                return q
        elif _record_problem(buf, q, n) is None:
            return q
    return n


def _trailer_frame(buf, p: int, limit: int) -> int:
    """Length of the record at p as framed by the first trailer before ``limit`` whose size
    equals its distance from p (the header's own size field is wrong), or 0."""
    stop = min(limit, p + REPAIR_WINDOW)
    t = buf.find(_TRAILER_START, p + MIN_RECORD_SIZE - 7, stop)
    while t >= 0 and t + 7 <= stop:
        if _U32.unpack_from(buf, t + 3)[0] == t + 7 - p:
            return t + 7 - p
        t = buf.find(_TRAILER_START, t + 1, stop)
    return 0


def frame(buf, start: int = 0, end: int | None = None) -> Iterator[Item]:
    """Split a trail into records, bare file tokens and damaged spans.

    A record whose header size is wrong but whose trailer is intact (the trailer's size equals
    its distance from the header, before the next valid item) is kept, as a "record" item with
    the reason "repaired record size".

    Resync never rescans: the next valid start found from p is also the next one from every
    position between p and it, so a run of damaged records costs one scan, not one each.
    """
    n = len(buf) if end is None else end
    pos = start
    scanned_from = next_valid = -1     # no valid start in [scanned_from, next_valid)

    def resync(p: int) -> int:
        nonlocal scanned_from, next_valid
        if not scanned_from <= p <= next_valid:
            scanned_from, next_valid = p, _resync(buf, p, n)
        return next_valid

    while pos < n:
        b = buf[pos]
        if b in HEADER_IDS:
            reason = _record_problem(buf, pos, n)
            if reason is None:
                size = _U32.unpack_from(buf, pos + 1)[0]
                yield Item("record", pos, size)
                pos += size
                continue
            q = resync(pos + 1)
            size = _trailer_frame(buf, pos, q)
            if size:
                yield Item("record", pos, size, "repaired record size")
                pos += size
            else:
                yield Item("damage", pos, q - pos, reason)
                pos = q
            continue
        elif b == FILE:
            size = _file_size(buf, pos, n)
            if size is not None:
                yield Item("file", pos, size)
                pos += size
                continue
            reason = "truncated file token"
        else:
            reason = "garbage"
        q = resync(pos + 1)
        yield Item("damage", pos, q - pos, reason)
        pos = q
