"""What a collection hands out: :class:`TrailFile` (one trail to read) and :class:`Skipped`.

A trail's content is read with :meth:`TrailFile.read`: the decompressed bytes up to the first
damage, and the damage as data (:class:`ReadDamage`: offset, length, reason), so a truncated
``.gz`` or a cut archive member gives every good byte and one row saying where and why it ends.
:meth:`TrailFile.read_bytes` is the strict form: it raises :class:`TrailReadError` (with the
good bytes in ``partial``) instead.

No trail is held beyond :data:`MAX_TRAIL_BYTES` decompressed bytes: what lies past the ceiling
is not read and the read ends with a ``"size limit"`` damage row (a 2 MB ``.gz`` that inflates
to 2 GiB costs the ceiling, not 2 GiB).
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, NamedTuple

from .streams import CHUNK, Decompressing, TrailReadError

__all__ = ["TrailFile", "Skipped", "ReadDamage", "TrailReadError", "MAX_TRAIL_BYTES",
           "open_regular"]

#: The most decompressed bytes one trail may give (1 GiB; macOS rotates trails at 2 MB by
#: default). Content past it is not read: the read ends with a "size limit" damage row.
MAX_TRAIL_BYTES = 1 << 30

_READ = CHUNK * 4


class ReadDamage(NamedTuple):
    """Where a trail's readable content ends early, as an ``errors`` row wants it.

    ``offset`` is the count of good (decompressed) bytes before the damage, ``length`` the
    damaged bytes inside the content returned (always 0: the content stops at the damage),
    ``reason`` one of :data:`forensics.collection.streams.READ_DAMAGE_REASONS`.
    """

    offset: int
    length: int
    reason: str


@dataclass(frozen=True)
class Skipped:
    """Something named or found that is not read, and why.

    ``damage`` is set when an archive itself is damaged between members (the members before
    are read): where, in the archive's decompressed bytes, and why, as an ``errors`` row wants.
    """

    path: str
    reason: str
    damage: ReadDamage | None = None


@dataclass(frozen=True)
class TrailFile:
    """One trail to read, wherever it is stored."""

    path: str  # display path; inside an archive "archive.tgz!member/name"
    name: str  # base name without compression suffix
    kind: str  # "terminated", "not_terminated", "crash_recovery" or "other"
    name_start: datetime | None  # aware UTC, from the name
    name_end: datetime | None  # aware UTC, only for START.END
    compression: str | None  # "gzip", "bz2", "xz", "zstd" or None
    stored_bytes: int  # size as stored: file size on disk, or the member's size
    host: str | None = None  # the ".<hostname>" suffix of the name, if any
    _source: object = field(default=None, repr=False, compare=False)

    def open(self) -> BinaryIO:
        """A streaming reader of the decompressed content (close it when done)."""
        return io.BufferedReader(self._open_raw(), CHUNK)

    def read(self) -> tuple[bytes | bytearray, list[ReadDamage]]:
        """The decompressed content up to the first damage, and that damage (empty: whole).

        Never raises for damaged or oversized content; a trail that cannot be opened at all
        gives no bytes and one damage row at offset 0.
        """
        buf, error = self._read()
        if error is None:
            return buf, []
        return buf, [ReadDamage(len(buf), 0, error.reason)]

    def read_bytes(self) -> bytes | bytearray:
        """The whole decompressed content (a plain file's read in one call, never copied).

        Raises :class:`TrailReadError` with ``partial`` set when the data is damaged.
        """
        buf, error = self._read()
        if error is not None:
            error.partial = bytes(buf)
            raise error
        return buf

    def _read(self) -> tuple[bytes | bytearray, TrailReadError | None]:
        limit = MAX_TRAIL_BYTES
        try:
            raw = self._open_raw()
        except TrailReadError as e:
            return bytearray(), e
        except OSError as e:
            return bytearray(), TrailReadError(f"{self.path}: cannot read ({e.strerror or e})",
                                               path=self.path, reason="read error", offset=0)
        hint = None
        if self.compression is None and hasattr(self._source, "size_hint"):
            hint = self._source.size_hint()
        try:
            buf = _fill(raw, limit, hint, self.path)
            if len(buf) >= limit and raw.read(1):
                return buf, TrailReadError(
                    f"{self.path}: larger than the {limit}-byte ceiling of a trail; "
                    f"the first {limit} bytes are read", path=self.path, reason="size limit",
                    offset=limit)
            return buf, None
        except _Partial as p:
            return p.buf, p.error
        finally:
            raw.close()

    def _open_raw(self) -> io.RawIOBase:
        if self._source is None:
            raise TrailReadError(f"{self.path}: no source to read from", path=self.path)
        raw = self._source.open_raw()
        if self.compression:
            return Decompressing(raw, self.compression, self.path)
        return raw


#: A plain file at least this large is read into fresh memory (bytes). Below it, a bytearray
#: the decoder empties at once keeps memory lower: measured on 40 files of 25 MB, reading them
#: as bytes cost 40% more time and 75% more memory (the C allocator keeps blocks below 32 MiB
#: in its heaps instead of returning them), while a 200 MB trail reads 10% faster as bytes.
_FRESH = 32 << 20


class _Partial(Exception):
    def __init__(self, buf: bytearray, error: TrailReadError) -> None:
        self.buf, self.error = buf, error


def _fill(raw: io.RawIOBase, limit: int, hint: int | None, path: str) -> bytes | bytearray:
    """At most ``limit`` bytes of ``raw``; a trusted size ``hint`` (a plain file) is read in
    place. A large one is read in one call into fresh memory, which the kernel fills as it
    copies (a bytearray of that size is zeroed first); a smaller one into a bytearray, which
    the decoder empties as soon as it is done (see ``_FRESH``). What follows is appended."""
    buf: bytes | bytearray = bytearray()
    try:
        if hint and min(hint, limit) >= _FRESH:
            buf = raw.read(min(hint, limit)) or bytearray()
        elif hint:
            buf = bytearray(min(hint, limit))
            filled = 0
            with memoryview(buf) as view:
                while filled < len(buf):
                    n = raw.readinto(view[filled:])
                    if not n:
                        break
                    filled += n
            del buf[filled:]
        while len(buf) < limit:
            chunk = raw.read(min(_READ, limit - len(buf)))
            if not chunk:
                break
            if not isinstance(buf, bytearray):
                buf = bytearray(buf)
            buf += chunk
    except TrailReadError as e:
        raise _Partial(buf, e) from None
    except OSError as e:
        raise _Partial(buf, TrailReadError(f"{path}: read error after {len(buf)} bytes ({e})",
                                           path=path, reason="read error",
                                           offset=len(buf))) from None
    return buf


def open_regular(path: str) -> io.FileIO:
    """Open ``path`` for reading only if it is a regular file (a FIFO would block forever)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True)
class FsSource:
    """A trail that is a file of its own."""

    path: str

    def open_raw(self) -> BinaryIO:
        return open_regular(self.path)

    def size_hint(self) -> int | None:
        try:
            return os.stat(self.path).st_size
        except OSError:
            return None

    def order(self) -> tuple:
        return (self.path, 0)
