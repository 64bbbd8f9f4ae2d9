"""Tar and zip members read in place: nothing is ever extracted to disk.

A member is named by its archive and its position (tar) or header offset (zip). Reading a
member of an uncompressed tar seeks to its data; a member of a compressed tar is reached by
streaming the archive, and an idle reader positioned in the archive is kept so that reading
members in archive order streams the archive only once (:data:`CURSORS`).
"""

from __future__ import annotations

import atexit
import io
import os
import posixpath
import lzma
import tarfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Callable

from .files import open_regular
from .streams import CHUNK, Decompressing, TrailReadError, _check_ratio

__all__ = ["Member", "TarSource", "ZipSource", "CURSORS", "link_candidates", "norm_member"]


_MEMBER_ERRORS = (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error,
                  lzma.LZMAError, NotImplementedError, RuntimeError, ValueError)


class Member(io.RawIOBase):
    """Exactly ``size`` bytes of an archive member; a short member is an error.

    ``packed``: the member's compressed size when the archive compresses it (zip), so that a
    member inflating like a bomb is cut as a decompressing stream is. ``cause``: where to ask
    why the bytes under the member ended early (the archive's own decompression).
    """

    def __init__(
        self,
        inner: BinaryIO,
        size: int,
        display: str,
        on_close: Callable[[bool], None] | None = None,
        packed: int | None = None,
        cause: Callable[[], TrailReadError | None] | None = None,
    ) -> None:
        self._packed = packed
        self._cause = cause  # why the bytes under the member stopped (a soft stream's error)
        self._inner = inner
        self._left = size
        self._size = size
        self._display = display
        self._on_close = on_close
        self._ok = True

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._left <= 0:
            return 0
        want = min(len(b), self._left, CHUNK * 4)
        done = self._size - self._left
        if self._packed is not None:
            _check_ratio(done, self._packed, self._display)
        try:
            data = self._inner.read(want)
        except _MEMBER_ERRORS as e:
            self._ok = False
            raise TrailReadError(
                f"{self._display}: damaged archive member after {done} bytes ({e})",
                path=self._display, reason="damaged archive member", offset=done,
            ) from e
        if not data:
            self._ok = False
            cause = self._cause() if self._cause is not None else None
            if cause is not None:
                raise TrailReadError(f"{self._display}: archive damaged after {done} bytes of "
                                     f"the member ({cause})", path=self._display,
                                     reason=cause.reason, offset=done)
            raise TrailReadError(
                f"{self._display}: archive member truncated: {done} of {self._size} bytes",
                path=self._display, reason="truncated archive member", offset=done,
            )
        n = len(data)
        b[:n] = data
        self._left -= n
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.close()
                if self._on_close is not None:
                    self._on_close(self._ok)
            finally:
                super().close()


@dataclass(frozen=True)
class TarSource:
    archive: str  # filesystem path of the archive
    outer: str | None  # the archive file's own compression
    index: int  # position in the archive's member sequence
    member: str  # member name as stored
    size: int
    offset_data: int  # where the data starts in an uncompressed archive, -1 if unusable
    display: str

    def open_raw(self) -> BinaryIO:
        if self.outer is None and self.offset_data >= 0:
            f = open_regular(self.archive)
            f.seek(self.offset_data)
            return Member(f, self.size, self.display)
        cursor = CURSORS.take(self.archive, self.index)
        try:
            if cursor is None:
                cursor = _TarCursor(self.archive, self.outer)
            ti = cursor.advance_to(self.index, self.member, self.display)
            if ti.sparse is None and ti.isreg():
                fobj = _Borrowed(cursor.tf.fileobj)  # the data as it is: a short read at a cut
            else:
                fobj = cursor.tf.extractfile(ti)
            if fobj is None:
                raise TrailReadError(f"{self.display}: member is no longer a regular file")
        except BaseException:
            if cursor is not None:
                cursor.close()
            raise

        def done(ok: bool, cursor=cursor) -> None:
            if ok:
                CURSORS.give_back(cursor)
            else:
                cursor.close()

        return Member(fobj, self.size, self.display, on_close=done,
                      cause=lambda: cursor.error)

    def size_hint(self) -> int | None:
        """The member's size as far as the archive file really holds it (never the claim)."""
        if self.outer is not None or self.offset_data < 0:
            return None
        try:
            return max(0, min(self.size, os.stat(self.archive).st_size - self.offset_data))
        except OSError:
            return None

    def order(self) -> tuple:
        return (self.archive, self.index)


@dataclass(frozen=True)
class ZipSource:
    archive: str
    member: str
    header_offset: int
    size: int
    display: str

    def open_raw(self) -> BinaryIO:
        fp = open_regular(self.archive)

        def done(ok: bool = True) -> None:
            try:
                zf.close()
            finally:
                fp.close()

        try:
            zf = zipfile.ZipFile(fp)
        except BaseException as e:
            fp.close()
            raise _unreadable(self.display, e)
        try:
            info = next(
                (i for i in zf.infolist() if i.header_offset == self.header_offset), None
            )
            if info is None or info.filename != self.member:
                raise TrailReadError(f"{self.display}: member is no longer in the archive")
            f = zf.open(info)
        except BaseException as e:
            done()
            raise _unreadable(self.display, e)
        packed = info.compress_size if info.compress_type != zipfile.ZIP_STORED else None
        return Member(f, self.size, self.display, on_close=done, packed=packed)

    def order(self) -> tuple:
        return (self.archive, self.header_offset)


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
               ValueError, EOFError)


def _unreadable(display: str, e: BaseException) -> BaseException:
    """A zip that no longer opens as listed: a damage of the member, not a crash."""
    if isinstance(e, _ZIP_ERRORS):
        return TrailReadError(f"{display}: cannot open the member ({e})", path=display,
                              reason="damaged archive member", offset=0)
    return e


class _Borrowed(io.RawIOBase):
    """A tar stream's bytes read in place, left open when the member is done."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n)

    def close(self) -> None:
        super().close()


class _TarCursor:
    """An open tar stream positioned at a member, reusable for later members."""

    def __init__(self, archive: str, outer: str | None) -> None:
        self.archive = archive
        self._f = open_regular(archive)
        self._dec: Decompressing | None = None
        try:
            if outer is None:
                self._stream: BinaryIO = self._f
            else:
                self._dec = Decompressing(self._f, outer, archive, soft=True)
                self._stream = io.BufferedReader(self._dec, CHUNK)
            self.tf = tarfile.open(fileobj=self._stream, mode="r|")
        except BaseException:
            self._f.close()
            raise
        self.next_index = 0

    @property
    def error(self) -> TrailReadError | None:
        """Why the archive's decompressed bytes ended early, if they did."""
        return self._dec.error if self._dec is not None else None

    def advance_to(self, index: int, member: str, display: str) -> tarfile.TarInfo:
        if index < self.next_index:  # pragma: no cover - the cache never hands these out
            raise TrailReadError(f"{display}: archive cursor already past the member")
        try:
            while True:
                ti = self.tf.next()
                if ti is None and self.error is not None:
                    raise self._damaged(display)
                if ti is None:
                    raise TrailReadError(f"{display}: member is no longer in the archive")
                i = self.next_index
                self.next_index += 1
                if i == index:
                    if ti.name != member:
                        raise TrailReadError(f"{display}: the archive changed since it was listed")
                    return ti
        except TrailReadError:
            raise
        except (tarfile.TarError, OSError, EOFError) as e:
            if self.error is not None:
                raise self._damaged(display) from e
            raise TrailReadError(f"{display}: cannot reach the member ({e})",
                                 reason="damaged archive member", offset=0) from e

    def _damaged(self, display: str) -> TrailReadError:
        return TrailReadError(f"{display}: the archive is damaged before the member "
                              f"({self.error})", path=display, reason=self.error.reason,
                              offset=0)

    def close(self) -> None:
        try:
            self.tf.close()
        except Exception:  # pragma: no cover - best effort
            pass
        try:
            self._stream.close()
        finally:
            self._f.close()


class _CursorCache:
    """A few idle tar cursors, so members read in archive order stream the archive once."""

    def __init__(self, limit: int = 4) -> None:
        self._lock = threading.Lock()
        self._idle: list[_TarCursor] = []
        self._limit = limit

    def take(self, archive: str, index: int) -> _TarCursor | None:
        with self._lock:
            best = None
            for c in self._idle:
                if c.archive == archive and c.next_index <= index:
                    if best is None or c.next_index > best.next_index:
                        best = c
            if best is not None:
                self._idle.remove(best)
            return best

    def give_back(self, cursor: _TarCursor) -> None:
        with self._lock:
            self._idle.append(cursor)
            extra = self._idle[: -self._limit] if len(self._idle) > self._limit else []
            del self._idle[: len(extra)]
        for c in extra:
            c.close()

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()


CURSORS = _CursorCache()
atexit.register(CURSORS.clear)


def link_candidates(mname: str, linkname: str, hard: bool) -> list[str]:
    """Member paths a link member may point to, most likely first.

    Hard links name a member from the archive root. A symbolic link is relative to its own
    folder; an absolute one (macOS writes ``current`` -> ``/var/audit/START...``) means the
    member of that name beside the link, or else the member at that path from the root.
    """
    if hard:
        return [norm_member(linkname)]
    here = posixpath.dirname(mname)
    if linkname.startswith("/"):
        return [posixpath.join(here, posixpath.basename(linkname)), norm_member(linkname)]
    return [posixpath.normpath(posixpath.join(here, linkname))]


def norm_member(name: str) -> str:
    n = posixpath.normpath(name.lstrip("/"))
    return "" if n == "." else n
