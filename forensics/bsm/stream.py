"""A trail read from a pipe, handed on in pieces that end where records end.

``praudit -`` and ``reduce -`` read standard input, which may be a live ``auditpipe`` or a slow
copy that has not ended: each piece is handed on as soon as it holds whole records, so output
follows input instead of waiting for its end. Pieces are cut only between records (and bare
file tokens); a damaged span is cut at the next valid record the framer would resync to, so
framing a piece gives what framing the whole input would. Memory is bounded: a span with no
valid record after it is handed on once ``MAX_PENDING`` bytes are waiting.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Iterator

from .framing import _resync, _trailer_frame
from .tokens import FILE, HEADER_IDS, TRAILER, TRAILER_MAGIC

__all__ = ["pieces", "MAX_PENDING"]

#: Bytes held back at most while waiting for the rest of a damaged span (the framer looks up
#: to 1 MiB ahead for a repairing trailer).
MAX_PENDING = 16 << 20
_READ = 1 << 20
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def _whole(buf, p: int, n: int) -> tuple[int, bool]:
    """(end of the whole records and file tokens from p, whether what follows is damage)."""
    while p < n:
        b = buf[p]
        if b in HEADER_IDS:
            if n - p < 5:
                return p, False
            size = _U32.unpack_from(buf, p + 1)[0]
            if size < 25:
                return p, True
            if p + size > n:
                return p, False
            t = p + size - 7
            if (buf[t] != TRAILER or _U16.unpack_from(buf, t + 1)[0] != TRAILER_MAGIC
                    or _U32.unpack_from(buf, t + 3)[0] != size):
                return p, True
            p += size
        elif b == FILE:
            if n - p < 11:
                return p, False
            size = 11 + _U16.unpack_from(buf, p + 9)[0]
            if p + size > n:
                return p, False
            p += size
        else:
            return p, True
    return p, False


def _repaired(buf, p: int, n: int) -> int:
    """The end of the record at p framed by its trailer (its header size is wrong), when no
    record that bytes not read yet could complete starts before that end; else 0."""
    size = _trailer_frame(buf, p, n)
    if not size:
        return 0
    end = p + size
    for v in range(p + 1, end):
        if buf[v] in HEADER_IDS:
            if n - v < 5:
                return 0
            size = _U32.unpack_from(buf, v + 1)[0]
            if 25 <= size <= MAX_PENDING and v + size > n:   # no record is larger
                return 0
    return end


def _cut(buf, n: int) -> int:
    """How much of ``buf`` can be handed on: whole records, and damaged spans whose end is
    known (the next valid record, or a trailer framing a record whose size is wrong)."""
    p = 0
    none_from = n + 1                   # no valid record starts in [none_from, n): scan once
    while p < n:
        p, damaged = _whole(buf, p, n)
        if not damaged:
            break
        q = n if p + 1 >= none_from else _resync(buf, p + 1, n)
        if q == n:
            none_from = min(none_from, p + 1)
        if q < n:
            p = q
            continue
        end = _repaired(buf, p, n)
        if end:
            p = end
            continue
        if n - p >= MAX_PENDING:        # no end in sight: hand it on, memory stays bounded
            p = n
        break
    return p


def _read_some(stream) -> bytes:
    """What the stream has now (at least one byte, or b"" at its end)."""
    read1 = getattr(stream, "read1", None)
    if read1 is not None:
        return read1(_READ)
    try:
        return os.read(stream.fileno(), _READ)
    except (AttributeError, OSError, ValueError):
        return stream.read(_READ)


def pieces(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(offset in the input, bytes) pieces of ``stream``, each ending where a record ends
    (the last piece: wherever the input ends)."""
    pending = bytearray()
    base = 0
    while True:
        data = _read_some(stream)
        if not data:
            break
        pending += data
        cut = _cut(pending, len(pending))
        if cut:
            yield base, bytes(pending[:cut])
            del pending[:cut]
            base += cut
    if pending:
        yield base, bytes(pending)
