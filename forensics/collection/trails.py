"""Trail collections: find and open BSM audit trails in whatever the responder hands us.

A *path* given to :func:`collect` may be

* a trail file, plain or compressed (gzip, bzip2, xz, zstd; the compression is recognised
  by its magic bytes, the suffix only helps to name the file);
* a directory laid out like ``/var/audit``;
* an archive (``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``, ``.tar.zst``,
  ``.zip``; recognised by content as well as by name) holding trails, at any depth.

Archives are read in place: tar archives are streamed with :mod:`tarfile`, zip members are
opened with :mod:`zipfile`; nothing is ever extracted to disk.

Rules
-----

Explicit paths
    A file named on the command line is always read, whatever its name or content (an archive
    is opened). A missing path, an unreadable file or an unreadable archive raises
    :class:`CollectionError` with a one-line message.

Directories
    Walked **recursively, at any depth**, in name order: evidence collections nest
    (``case/host/private/var/audit``). Symbolic links to directories are not followed, nor are
    hidden directories (``.git``, ``.Spotlight-V100``) or ``__MACOSX``. Archives found in a
    directory are opened; archives inside archives are not (they are listed as skipped).

Which files found in a directory or archive are read
    1. hidden files (``.DS_Store``, AppleDouble ``._*``) are skipped;
    2. audit configuration files (``audit_control``, ``audit_class``, ...) are skipped;
    3. files with a text/document suffix (``.txt``, ``.xml``, ``.json``, ``.log``, ...) are
       skipped (for instance ``START.END.txt``, a praudit dump of a trail);
    4. files named like trails (see below) are read, whatever their content;
    5. any other file is read only when its (decompressed) content starts like a BSM trail:
       a header token (0x14, 0x15, 0x74, 0x79) with a known record version, or a ``file``
       token (0x11). Everything else is listed in the skipped list with the reason.

Trail names (libauditd)
    ``YYYYMMDDhhmmss.YYYYMMDDhhmmss`` (start.end, kind ``terminated``),
    ``YYYYMMDDhhmmss.not_terminated``, ``YYYYMMDDhhmmss.crash_recovery``, each optionally
    followed by ``.<hostname>`` (auditd's ``host:`` setting) and by a compression suffix. The
    stamps are UTC and must be real dates and times, otherwise the kind is ``other``.

Links
    ``/var/audit/current`` is a symbolic link to the active trail, so it is never read twice:
    a link whose target is also collected is listed as skipped ``"link to <target path>"``; a
    link to nothing is skipped as ``"dangling link"``. macOS writes the link with an absolute
    target (``/var/audit/2024...``); in a copied evidence folder that target means the file of
    the same name *next to the link*, never the analyst's own ``/var/audit``, so an absolute
    target is looked up beside the link first; a found link to an absolute path elsewhere is
    not followed. A link to a file outside the collection is read under the link's path.
    Symbolic and hard links inside tar archives, and symbolic links stored in zip archives,
    follow the same rules within their archive. A small regular file named ``current`` whose
    content is a file name (what a symlink becomes after a copy by a tool that cannot store
    links) is treated as a link too.

Duplicates
    The same file reached twice (same device and inode, the same archive member) is read once
    (skipped ``"same file as ..."``). Two collected files with the same trail name are compared
    byte for byte (decompressed): identical content is read once (``"same content as ..."``),
    and when one is a prefix of the other (a ``not_terminated`` trail copied twice while it
    grew) only the longer one is read (``"earlier copy of ..."``).

Order
    By the start time in the name; files whose name carries no time come last, by name; ties
    are broken by name and then by path. The order is time, not an accident of naming.

Reading
    :meth:`TrailFile.read_bytes` returns the whole decompressed content;
    :meth:`TrailFile.open` a streaming reader. Damaged compressed data or a truncated archive
    member raise :class:`TrailReadError` (a :class:`CollectionError`) whose ``partial``
    attribute holds the bytes recovered before the damage, so the caller can still decode
    them. Reading a tar member re-opens the archive; an idle reader positioned in the archive
    is kept so that reading members in archive order streams the archive only once
    (:func:`read_all` reads a list of files in that order).
"""

from __future__ import annotations

import atexit
import bz2
import io
import lzma
import os
import posixpath
import re
import stat
import tarfile
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Callable, Iterable, Iterator

from ..errors import CollectionError

try:  # zstandard is a declared dependency; only .zst files need it.
    import zstandard as _zstd
except ImportError:  # pragma: no cover - exercised only without the dependency
    _zstd = None

__all__ = [
    "TrailFile",
    "Skipped",
    "CollectionError",
    "TrailReadError",
    "collect",
    "in_window",
    "parse_name",
    "read_all",
    "KINDS",
]

KINDS = ("terminated", "not_terminated", "crash_recovery", "other")

_CHUNK = 1 << 16
_HEAD = 512  # enough for the tar magic at offset 257 and for the BSM sniff

_COMPRESSION_SUFFIXES = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
    ".zst": "zstd",
    ".zstd": "zstd",
}
_TAR_SUFFIXES = (
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz",
    ".tar.zst", ".tar.zstd", ".tzst",
)
_ZIP_SUFFIXES = (".zip",)
_CONFIG_NAMES = frozenset(
    {"audit_control", "audit_class", "audit_event", "audit_user", "audit_warn",
     "audit_control.example", "audit_user.example"}
)
_TEXT_SUFFIXES = frozenset(
    {".txt", ".text", ".md", ".rst", ".log", ".csv", ".tsv", ".json", ".jsonl", ".ndjson",
     ".xml", ".plist", ".html", ".htm", ".pdf", ".rtf", ".yaml", ".yml", ".ini", ".conf",
     ".cfg", ".sh", ".py", ".sha256", ".sha1", ".md5"}
)

_TRAIL_NAME = re.compile(
    r"(?P<start>\d{14})\.(?:(?P<end>\d{14})|(?P<state>not_terminated|crash_recovery))"
    r"(?:\.(?P<host>[A-Za-z0-9][A-Za-z0-9._-]*))?"
)

_HEADER_IDS = frozenset({0x14, 0x15, 0x74, 0x79})
_RECORD_VERSIONS = frozenset({1, 2, 3, 4, 10, 11})


# --------------------------------------------------------------------------- public types


class TrailReadError(CollectionError):
    """A collected trail cannot be read to its end (damaged compression, truncated member).

    ``partial`` holds the decompressed bytes read before the damage (set by
    :meth:`TrailFile.read_bytes`; empty when raised from a streaming reader).
    """

    def __init__(self, message: str, *, path: str = "", partial: bytes = b"") -> None:
        super().__init__(message)
        self.path = path
        self.partial = partial


@dataclass(frozen=True)
class Skipped:
    """Something named or found that is not read, and why."""

    path: str
    reason: str


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
        return io.BufferedReader(self._open_raw(), _CHUNK)

    def read_bytes(self) -> bytearray:
        """The whole decompressed content (a bytearray: read in place, never copied).

        Raises :class:`TrailReadError` with ``partial`` set when the data is damaged.
        """
        buf = bytearray()
        filled = None
        raw = self._open_raw()
        try:
            if self.compression is None and hasattr(raw, "readinto"):
                # the size is known: read into one buffer, no growing and no final copy
                buf, filled = bytearray(self.stored_bytes), 0
                with memoryview(buf) as view:
                    while filled < len(buf):
                        n = raw.readinto(view[filled:])
                        if not n:
                            break
                        filled += n
                del buf[filled:]
            while True:
                chunk = raw.read(_CHUNK * 4)
                if not chunk:
                    break
                buf += chunk
        except TrailReadError as e:
            e.partial = bytes(buf if filled is None else buf[:filled])
            raise
        finally:
            raw.close()
        return buf

    def _open_raw(self) -> io.RawIOBase:
        if self._source is None:
            raise TrailReadError(f"{self.path}: no source to read from", path=self.path)
        raw = self._source.open_raw()
        if self.compression:
            return _Decompressing(raw, self.compression, self.path)
        return raw


def parse_name(name: str) -> tuple[str, datetime | None, datetime | None, str | None]:
    """``(kind, start, end, host)`` from a trail's base name (compression suffix removed)."""
    m = _TRAIL_NAME.fullmatch(name)
    if not m:
        return "other", None, None, None
    start = _stamp(m["start"])
    if start is None:
        return "other", None, None, None
    if m["end"] is not None:
        end = _stamp(m["end"])
        if end is None:
            return "other", None, None, None
        return "terminated", start, end, m["host"]
    return m["state"], start, None, m["host"]


def in_window(
    t: TrailFile,
    since: datetime | None,
    until: datetime | None,
    *,
    slack: timedelta = timedelta(0),
) -> bool:
    """False only when the trail's *name* proves it holds no record in ``[since, until)``.

    Records are committed at or after START (second precision) and, for a ``START.END``
    trail, before END + 1 s. ``not_terminated``, ``crash_recovery`` and ``other`` trails are
    decided by START alone (START >= until). A name whose END is before its START (the clock
    went back while the trail was written) proves nothing. ``slack`` widens both tests (for
    the short race between auditd's name stamp and the kernel switching files).
    """
    for v in (since, until):
        if v is not None and v.tzinfo is None:
            raise ValueError("in_window needs timezone-aware datetimes")
    start = t.name_start
    if start is None:
        return True
    end = t.name_end if t.kind == "terminated" else None
    if end is not None and end < start:
        return True
    if until is not None and start - slack >= until:
        return False
    if end is not None and since is not None and end + timedelta(seconds=1) + slack <= since:
        return False
    return True


def collect(*paths: str | os.PathLike) -> tuple[list[TrailFile], list[Skipped]]:
    """Find the trails in ``paths`` (files, ``/var/audit``-like directories, archives).

    Returns the trails in time order and the things found but not read.
    """
    if not paths:
        raise CollectionError("no trail, directory or archive given")
    c = _Collector()
    for p in paths:
        c.add_path(os.fspath(p))
    return c.finish()


def read_all(
    files: Iterable[TrailFile],
) -> Iterator[tuple[TrailFile, bytes, TrailReadError | None]]:
    """Read many trails in *storage* order (each compressed archive is streamed once).

    Yields ``(trail, content, error)``; on damage ``content`` is what was recovered and
    ``error`` the :class:`TrailReadError`.
    """
    for t in sorted(files, key=_storage_order):
        try:
            yield t, t.read_bytes(), None
        except TrailReadError as e:
            yield t, e.partial, e


# --------------------------------------------------------------------------- names


def _stamp(s: str) -> datetime | None:
    try:
        return datetime(
            int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]), int(s[12:14]),
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None


def _strip_compression_suffix(name: str) -> str:
    root, ext = os.path.splitext(name)
    if root and ext.lower() in _COMPRESSION_SUFFIXES:
        return root
    return name


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _name_skip_reason(name: str) -> str | None:
    """Why a found (not explicitly named) file is obviously not a trail, by name alone."""
    if name.startswith("."):
        return "hidden file"
    if name in _CONFIG_NAMES:
        return "audit configuration file"
    ext = os.path.splitext(_strip_compression_suffix(name))[1].lower()
    if ext in _TEXT_SUFFIXES:
        return f"{ext} file, not a trail"
    return None


def _archive_kind_by_name(name: str) -> str | None:
    low = name.lower()
    if low.endswith(_ZIP_SUFFIXES):
        return "zip"
    if low.endswith(_TAR_SUFFIXES):
        return "tar"
    return None


# --------------------------------------------------------------------------- content


def _magic_compression(b: bytes) -> str | None:
    if b[:2] == b"\x1f\x8b":
        return "gzip"
    if len(b) >= 4 and b[:3] == b"BZh" and 0x31 <= b[3] <= 0x39:
        return "bz2"
    if b[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if b[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


def _looks_like_bsm(head: bytes) -> bool:
    """Does the content start like a BSM trail (a header token or a bare file token)?"""
    if not head:
        return False
    tid = head[0]
    if tid in _HEADER_IDS:
        if len(head) < 6:
            return False
        size = int.from_bytes(head[1:5], "big")
        return size >= 18 and head[5] in _RECORD_VERSIONS
    if tid == 0x11:
        if len(head) < 11:
            return False
        msec = int.from_bytes(head[5:9], "big")
        n = int.from_bytes(head[9:11], "big")
        if msec >= 1000:
            return False
        return n == 0 or len(head) < 11 + n or head[10 + n] == 0
    return False


def _archive_kind_by_content(compression: str | None, head: bytes) -> str | None:
    if compression is None and head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    return None


def _text_link_target(name: str, size: int, head: bytes) -> str | None:
    """The target named by a regular file called ``current`` (a symlink flattened by a copy)."""
    if name != "current" or size == 0 or size > _HEAD or len(head) != size:
        return None
    text = head.rstrip(b"\n\r\0")
    if not text or any(c < 0x20 or c == 0x7F for c in text):
        return None
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass
class _Probe:
    compression: str | None
    head: bytes
    error: str | None = None


def _probe(raw: BinaryIO, display: str) -> _Probe:
    """Compression by magic bytes and the first bytes of the decompressed content."""
    magic = raw.read(8)
    comp = _magic_compression(magic)
    if comp is None:
        return _Probe(None, magic + raw.read(_HEAD - len(magic)))
    try:
        dec = _Decompressing(_Prefixed(magic, raw), comp, display)
        head = bytearray()
        while len(head) < _HEAD:
            chunk = dec.read(_HEAD - len(head))
            if not chunk:
                break
            head += chunk
        return _Probe(comp, bytes(head))
    except TrailReadError as e:
        return _Probe(comp, b"", str(e))


# --------------------------------------------------------------------------- readers


class _Prefixed(io.RawIOBase):
    """Bytes already read, then the rest of a stream."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._rest.close()
            finally:
                super().close()


class _Codec:
    """One compressed stream's decoder behind a uniform interface."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "gzip":
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif kind == "bz2":
            self._d = bz2.BZ2Decompressor()
        elif kind == "xz":
            self._d = lzma.LZMADecompressor()
        elif kind == "zstd":
            if _zstd is None:
                raise TrailReadError("reading .zst files needs the zstandard package")
            self._d = _zstd.ZstdDecompressor().decompressobj()
        else:  # pragma: no cover - internal misuse
            raise ValueError(kind)

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    @property
    def needs_input(self) -> bool:
        if self.kind == "gzip":
            return not self._d.unconsumed_tail
        if self.kind == "zstd":
            return True
        return self._d.needs_input

    def decompress(self, data: bytes, limit: int) -> bytes:
        if self.kind == "gzip":
            return self._d.decompress(self._d.unconsumed_tail + data, limit)
        if self.kind == "zstd":
            return self._d.decompress(data) if data else b""
        return self._d.decompress(data, max_length=limit)


_DECODE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, lzma.LZMAError, EOFError, ValueError)
if _zstd is not None:
    _DECODE_ERRORS += (_zstd.ZstdError,)


class _Decompressing(io.RawIOBase):
    """Decompresses a raw stream; concatenated streams and zero padding are allowed,
    truncation and trailing garbage raise :class:`TrailReadError`."""

    def __init__(self, raw: BinaryIO, kind: str, display: str) -> None:
        self._raw = raw
        self._kind = kind
        self._display = display
        self._codec = _Codec(kind)
        self._buf = b""
        self._off = 0
        self._eof = False
        self._produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while self._off >= len(self._buf) and not self._eof:
            try:
                self._step()
            except TrailReadError:
                raise
            except OSError as e:
                raise TrailReadError(
                    f"{self._display}: read error after {self._produced} bytes ({e})",
                    path=self._display,
                ) from e
            except _DECODE_ERRORS as e:
                raise TrailReadError(
                    f"{self._display}: damaged {self._kind} data after {self._produced} "
                    f"decompressed bytes ({e or type(e).__name__})",
                    path=self._display,
                ) from e
        n = min(len(b), len(self._buf) - self._off)
        b[:n] = self._buf[self._off:self._off + n]
        self._off += n
        self._produced += n
        return n

    def _step(self) -> None:
        c = self._codec
        if c.eof:
            data = c.unused_data
            while True:
                data = data.lstrip(b"\0")
                if len(data) >= 8:
                    break
                more = self._raw.read(_CHUNK)
                if not more:
                    break
                data += more
            if not data:
                self._eof = True
                return
            if _magic_compression(data) != self._kind:
                raise TrailReadError(
                    f"{self._display}: unexpected data after the end of the {self._kind} "
                    f"stream (after {self._produced} decompressed bytes)",
                    path=self._display,
                )
            self._codec = c = _Codec(self._kind)
            out = c.decompress(data, _CHUNK * 4)
        elif c.needs_input:
            data = self._raw.read(_CHUNK)
            if not data:
                raise EOFError(f"{self._kind} data ends early (truncated)")
            out = c.decompress(data, _CHUNK * 4)
        else:
            out = c.decompress(b"", _CHUNK * 4)
        self._buf = out
        self._off = 0

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()


class _Member(io.RawIOBase):
    """Exactly ``size`` bytes of an archive member; a short member is an error."""

    def __init__(
        self,
        inner: BinaryIO,
        size: int,
        display: str,
        on_close: Callable[[bool], None] | None = None,
    ) -> None:
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
        want = min(len(b), self._left)
        try:
            data = self._inner.read(want)
        except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error,
                lzma.LZMAError) as e:
            self._ok = False
            raise TrailReadError(
                f"{self._display}: damaged archive member after "
                f"{self._size - self._left} bytes ({e})",
                path=self._display,
            ) from e
        if not data:
            self._ok = False
            raise TrailReadError(
                f"{self._display}: archive member truncated: "
                f"{self._size - self._left} of {self._size} bytes",
                path=self._display,
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


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class _FsSource:
    path: str

    def open_raw(self) -> BinaryIO:
        return open(self.path, "rb", buffering=0)

    def order(self) -> tuple:
        return (self.path, 0)


@dataclass(frozen=True)
class _TarSource:
    archive: str  # filesystem path of the archive
    outer: str | None  # the archive file's own compression
    index: int  # position in the archive's member sequence
    member: str  # member name as stored
    size: int
    offset_data: int  # where the data starts in an uncompressed archive, -1 if unusable
    display: str

    def open_raw(self) -> BinaryIO:
        if self.outer is None and self.offset_data >= 0:
            f = open(self.archive, "rb")
            f.seek(self.offset_data)
            return _Member(f, self.size, self.display)
        cursor = _CURSORS.take(self.archive, self.index)
        try:
            if cursor is None:
                cursor = _TarCursor(self.archive, self.outer)
            ti = cursor.advance_to(self.index, self.member, self.display)
            fobj = cursor.tf.extractfile(ti)
            if fobj is None:
                raise TrailReadError(f"{self.display}: member is no longer a regular file")
        except BaseException:
            if cursor is not None:
                cursor.close()
            raise

        def done(ok: bool, cursor=cursor) -> None:
            if ok:
                _CURSORS.give_back(cursor)
            else:
                cursor.close()

        return _Member(fobj, self.size, self.display, on_close=done)

    def order(self) -> tuple:
        return (self.archive, self.index)


@dataclass(frozen=True)
class _ZipSource:
    archive: str
    member: str
    header_offset: int
    size: int
    display: str

    def open_raw(self) -> BinaryIO:
        zf = zipfile.ZipFile(self.archive)
        try:
            info = next(
                (i for i in zf.infolist() if i.header_offset == self.header_offset), None
            )
            if info is None or info.filename != self.member:
                raise TrailReadError(f"{self.display}: member is no longer in the archive")
            f = zf.open(info)
        except BaseException:
            zf.close()
            raise
        return _Member(f, self.size, self.display, on_close=lambda ok: zf.close())

    def order(self) -> tuple:
        return (self.archive, self.header_offset)


def _storage_order(t: TrailFile) -> tuple:
    src = t._source
    return src.order() if src is not None else (t.path, 0)


class _TarCursor:
    """An open tar stream positioned at a member, reusable for later members."""

    def __init__(self, archive: str, outer: str | None) -> None:
        self.archive = archive
        self._f = open(archive, "rb")
        try:
            if outer is None:
                self._stream: BinaryIO = self._f
            else:
                self._stream = io.BufferedReader(_Decompressing(self._f, outer, archive), _CHUNK)
            self.tf = tarfile.open(fileobj=self._stream, mode="r|")
        except BaseException:
            self._f.close()
            raise
        self.next_index = 0

    def advance_to(self, index: int, member: str, display: str) -> tarfile.TarInfo:
        if index < self.next_index:  # pragma: no cover - the cache never hands these out
            raise TrailReadError(f"{display}: archive cursor already past the member")
        try:
            while True:
                ti = self.tf.next()
                if ti is None:
                    raise TrailReadError(f"{display}: member is no longer in the archive")
                i = self.next_index
                self.next_index += 1
                if i == index:
                    if ti.name != member:
                        raise TrailReadError(f"{display}: the archive changed since it was listed")
                    return ti
        except (tarfile.TarError, OSError, EOFError) as e:
            raise TrailReadError(f"{display}: cannot reach the member ({e})") from e

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


_CURSORS = _CursorCache()
atexit.register(_CURSORS.clear)


# --------------------------------------------------------------------------- collecting


@dataclass
class _Cand:
    display: str
    key: tuple
    name: str  # base name the trail is named by (a link's target name)
    compression: str | None
    stored: int
    source: object


@dataclass
class _PendingLink:
    display: str
    key: tuple | None  # the target's identity, when known
    follow: Callable[[], None] | None  # read the target when it is not collected otherwise
    reason: str  # why it is skipped when neither applies


class _Collector:
    def __init__(self) -> None:
        self.cands: list[_Cand] = []
        self.by_key: dict[tuple, _Cand] = {}
        self.skipped: list[Skipped] = []
        self.skip_reason_by_key: dict[tuple, str] = {}
        self.links: list[_PendingLink] = []
        self.archives: dict[tuple, str] = {}
        self.dirs_seen: set[tuple] = set()
        self._pending_member_links: list[tuple[str, str, str, list[str]]] = []

    # ----- bookkeeping

    def skip(self, path: str, reason: str, key: tuple | None = None) -> None:
        self.skipped.append(Skipped(path, reason))
        if key is not None:
            self.skip_reason_by_key.setdefault(key, reason)

    def add(self, cand: _Cand, *, via_link: bool = False) -> None:
        prior = self.by_key.get(cand.key)
        if prior is not None:
            what = "link to" if via_link else "same file as"
            self.skip(cand.display, f"{what} {prior.display}")
            return
        self.by_key[cand.key] = cand
        self.cands.append(cand)

    # ----- entry points

    def add_path(self, p: str) -> None:
        if p == "":
            raise CollectionError("empty path given")
        try:
            lst = os.lstat(p)
        except FileNotFoundError:
            raise CollectionError(f"{p}: no such file or directory") from None
        except OSError as e:
            raise CollectionError(f"{p}: cannot access ({e.strerror or e})") from None
        if stat.S_ISLNK(lst.st_mode):
            self._fs_link(p, p, explicit=True)
        elif stat.S_ISDIR(lst.st_mode):
            self._walk(p, lst, explicit=True)
        elif stat.S_ISREG(lst.st_mode):
            self._fs_file(p, p, lst, explicit=True)
        else:
            raise CollectionError(f"{p}: not a regular file or directory")

    def finish(self) -> tuple[list[TrailFile], list[Skipped]]:
        i = 0
        while i < len(self.links):  # following a link may find more links (archives)
            ln = self.links[i]
            i += 1
            if ln.key is not None and ln.key in self.by_key:
                self.skip(ln.display, f"link to {self.by_key[ln.key].display}")
            elif ln.follow is not None:
                ln.follow()
            else:
                self.skip(ln.display, ln.reason)
        self._dedupe_by_content()
        files = [self._trail(c) for c in self.cands]
        far = datetime.max.replace(tzinfo=timezone.utc)
        files.sort(key=lambda t: (t.name_start is None, t.name_start or far, t.name, t.path))
        return files, self.skipped

    # ----- filesystem

    def _walk(self, top: str, st: os.stat_result, explicit: bool) -> None:
        dkey = (st.st_dev, st.st_ino)
        if dkey in self.dirs_seen:
            return
        self.dirs_seen.add(dkey)
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            msg = f"cannot list directory ({e.strerror or e})"
            if explicit:
                raise CollectionError(f"{top}: {msg}") from None
            self.skip(top, msg)
            return
        for e in entries:
            disp = os.path.join(top, e.name)
            try:
                if e.is_symlink():
                    if _is_hidden(e.name):
                        self.skip(disp, "hidden file")
                    else:
                        self._fs_link(disp, e.path, explicit=False)
                elif e.is_dir(follow_symlinks=False):
                    if _is_hidden(e.name):
                        self.skip(disp, "hidden directory")
                    else:
                        self._walk(disp, e.stat(follow_symlinks=False), explicit=False)
                elif e.is_file(follow_symlinks=False):
                    self._fs_file(disp, e.path, e.stat(follow_symlinks=False), explicit=False)
                else:
                    self.skip(disp, "not a regular file")
            except OSError as err:
                self.skip(disp, f"unreadable ({err.strerror or err})")

    def _fs_file(
        self,
        disp: str,
        path: str,
        st: os.stat_result,
        *,
        explicit: bool,
        via_link: bool = False,
        link_disp: str | None = None,
    ) -> None:
        name = os.path.basename(path)
        key = ("fs", st.st_dev, st.st_ino)
        shown = link_disp or disp
        if via_link and key in self.by_key:
            self.skip(shown, f"link to {self.by_key[key].display}")
            return
        if not explicit:
            reason = _name_skip_reason(name)
            if reason:
                self._skip_fs(shown, reason, key, via_link, path)
                return
        try:
            with open(path, "rb") as f:
                probe = _probe(f, disp)
        except OSError as e:
            if explicit:
                raise CollectionError(f"{disp}: cannot read ({e.strerror or e})") from None
            self._skip_fs(shown, f"unreadable ({e.strerror or e})", key, via_link, path)
            return
        kind, *_ = parse_name(_strip_compression_suffix(name))
        if kind == "other":
            akind = _archive_kind_by_content(probe.compression, probe.head)
            if akind is None and not _looks_like_bsm(probe.head):
                akind = _archive_kind_by_name(name)
            if akind is not None:
                self._archive(shown, path, st, akind, probe.compression, explicit=explicit)
                return
            target = _text_link_target(name, st.st_size, probe.head)
            if target is not None and not via_link:
                self._fs_link(disp, path, explicit=explicit, text_target=target)
                return
            if not explicit:
                reason = self._content_skip_reason(st.st_size, probe)
                if reason:
                    self._skip_fs(shown, reason, key, via_link, path)
                    return
        self.add(
            _Cand(shown, key, name, probe.compression, st.st_size, _FsSource(path)),
            via_link=via_link,
        )

    def _skip_fs(self, shown: str, reason: str, key: tuple, via_link: bool, path: str) -> None:
        if via_link:
            self.skip(shown, f"link to {path} ({reason})", key)
        else:
            self.skip(shown, reason, key)

    @staticmethod
    def _content_skip_reason(size: int, probe: _Probe) -> str | None:
        if size == 0:
            return "empty file without a trail name"
        if probe.error:
            return f"not a trail name, and {probe.error.split(': ', 1)[-1]}"
        if not _looks_like_bsm(probe.head):
            return "not a trail name, and the content does not start like a BSM record"
        return None

    def _fs_link(
        self, disp: str, path: str, *, explicit: bool, text_target: str | None = None
    ) -> None:
        """A symbolic link (or a flattened ``current`` text link) found at ``path``."""
        if text_target is None:
            try:
                target = os.readlink(path)
            except OSError as e:
                self.skip(disp, f"unreadable link ({e.strerror or e})")
                return
        else:
            target = text_target
        here = os.path.dirname(path)
        if os.path.isabs(target):
            beside = os.path.join(here, os.path.basename(target))
            if (
                os.path.basename(target)
                and os.path.lexists(beside)
                and os.path.abspath(beside) != os.path.abspath(path)
            ):
                resolved = beside
            elif explicit:
                resolved = target
            else:
                self.skip(disp, f"link to {target}, outside the collection (not followed)")
                return
        else:
            resolved = os.path.join(here, target)
        real = os.path.realpath(resolved)
        try:
            st = os.stat(real)
        except FileNotFoundError:
            if explicit:
                raise CollectionError(f"{disp}: dangling link to {target}") from None
            self.skip(disp, "dangling link")
            return
        except OSError as e:
            if explicit:
                raise CollectionError(f"{disp}: cannot follow link ({e.strerror or e})") from None
            self.skip(disp, f"link to {target}, unreadable ({e.strerror or e})")
            return
        if stat.S_ISDIR(st.st_mode):
            if explicit and text_target is None:
                self._walk(disp, st, explicit=True)
            else:
                self.skip(disp, f"link to directory {target} (not followed)")
            return
        if not stat.S_ISREG(st.st_mode):
            if explicit:
                raise CollectionError(f"{disp}: link to something that is not a regular file")
            self.skip(disp, "link to something that is not a regular file")
            return
        key = ("fs", st.st_dev, st.st_ino)

        def follow() -> None:
            self._fs_file(real, real, st, explicit=explicit, via_link=True, link_disp=disp)

        self.links.append(_PendingLink(disp, key, follow, ""))

    # ----- archives

    def _archive(
        self,
        disp: str,
        path: str,
        st: os.stat_result,
        akind: str,
        outer: str | None,
        *,
        explicit: bool,
    ) -> None:
        akey = ("fs", st.st_dev, st.st_ino)
        if akey in self.archives:
            self.skip(disp, f"same file as {self.archives[akey]}")
            return
        self.archives[akey] = disp
        try:
            if akind == "zip":
                if outer is not None:
                    raise CollectionError(
                        f"{disp}: a {outer}-compressed zip archive cannot be read in place; "
                        "decompress it first"
                    )
                self._list_zip(disp, path, akey)
            else:
                self._list_tar(disp, path, akey, outer)
        except CollectionError as e:
            if explicit:
                raise
            self.skip(disp, str(e).split(": ", 1)[-1])
        except (tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
                ValueError, NotImplementedError) as e:
            msg = f"not a readable {akind} archive ({e})"
            if explicit:
                raise CollectionError(f"{disp}: {msg}") from None
            self.skip(disp, msg)

    def _member(
        self,
        adisp: str,
        mname: str,
        key: tuple,
        size: int,
        open_member: Callable[[], BinaryIO],
        make_source: Callable[[], object],
    ) -> None:
        """Classify one regular archive member and add it or skip it."""
        disp = f"{adisp}!{mname}"
        base = posixpath.basename(mname)
        parts = mname.split("/")
        if any(_is_hidden(p) for p in parts[:-1]) or _is_hidden(base):
            self.skip(disp, "hidden file", key)
            return
        reason = _name_skip_reason(base)
        if reason:
            self.skip(disp, reason, key)
            return
        kind, *_ = parse_name(_strip_compression_suffix(base))
        try:
            f = open_member()
            try:
                probe = _probe(f, disp)
            finally:
                f.close()
        except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error,
                lzma.LZMAError, NotImplementedError, RuntimeError) as e:
            if kind == "other":
                self.skip(disp, f"unreadable member ({e})", key)
                return
            probe = _Probe(_COMPRESSION_SUFFIXES.get(os.path.splitext(base)[1].lower()), b"")
        if kind == "other":
            if _archive_kind_by_content(probe.compression, probe.head) or _archive_kind_by_name(base):
                self.skip(
                    disp,
                    "archive inside an archive (not opened; extract it and name it directly)",
                    key,
                )
                return
            target = _text_link_target(base, size, probe.head)
            if target is not None:
                self._pending_member_links.append(
                    (disp, mname, target, _link_candidates(mname, target, False))
                )
                return
            reason = self._content_skip_reason(size, probe)
            if reason:
                self.skip(disp, reason, key)
                return
        self.add(_Cand(disp, key, base, probe.compression, size, make_source()))

    def _resolve_member_links(self, adisp: str, members: dict[str, tuple]) -> None:
        """Turn the archive's links into pending links now that all members are known."""
        for disp, mname, target, targets in self._pending_member_links:
            found = None
            for cand in targets:
                hop, seen = cand, {mname}
                while hop in members and members[hop][0] == "link" and hop not in seen:
                    seen.add(hop)
                    nxt = [t for t in members[hop][1] if t in members]
                    if not nxt:
                        break
                    hop = nxt[0]
                if hop in members and members[hop][0] == "file":
                    found = hop
                    break
            if found is None:
                if target.startswith("/"):
                    reason = f"link to {target}, outside the archive (not followed)"
                else:
                    reason = "dangling link"
                self.links.append(_PendingLink(disp, None, None, reason))
                continue
            tkey = members[found][1]
            treason = self.skip_reason_by_key.get(tkey)
            why = f"link to {adisp}!{found}" + (f" ({treason})" if treason else " (not read)")
            self.links.append(_PendingLink(disp, tkey, None, why))

    def _list_tar(self, disp: str, path: str, akey: tuple, outer: str | None) -> None:
        self._pending_member_links = []
        members: dict[str, tuple] = {}
        with open(path, "rb") as f:
            if outer is None:
                stream: BinaryIO = f
                tf = tarfile.open(fileobj=f, mode="r:")
            else:
                stream = io.BufferedReader(_Decompressing(f, outer, disp), _CHUNK)
                tf = tarfile.open(fileobj=stream, mode="r|")
            index = -1
            try:
                while True:
                    try:
                        ti = tf.next()
                    except (tarfile.TarError, OSError, EOFError) as e:
                        if index < 0:
                            raise
                        self.skip(
                            disp,
                            f"archive damaged after member {index + 1} ({e}); "
                            "the members before the damage are read",
                        )
                        break
                    if ti is None:
                        break
                    index += 1
                    mname = _norm_member(ti.name)
                    key = ("tar", akey, index)
                    mdisp = f"{disp}!{mname}"
                    if ti.isdir():
                        continue
                    if ti.issym() or ti.islnk():
                        targets = _link_candidates(mname, ti.linkname, ti.islnk())
                        members[mname] = ("link", targets)
                        if any(_is_hidden(p) for p in mname.split("/")):
                            self.skip(mdisp, "hidden file")
                        else:
                            self._pending_member_links.append((mdisp, mname, ti.linkname, targets))
                        continue
                    if not ti.isreg():
                        self.skip(mdisp, "not a regular file", key)
                        continue
                    members[mname] = ("file", key)
                    offset_data = ti.offset_data if (outer is None and not ti.sparse) else -1

                    def open_member(tf=tf, ti=ti) -> BinaryIO:
                        fobj = tf.extractfile(ti)
                        if fobj is None:  # pragma: no cover - isreg() members always have data
                            raise OSError("no data")
                        return fobj

                    def make_source(ti=ti, index=index, mdisp=mdisp, od=offset_data):
                        return _TarSource(path, outer, index, ti.name, ti.size, od, mdisp)

                    self._member(disp, mname, key, ti.size, open_member, make_source)
            finally:
                tf.close()
                if stream is not f:
                    stream.close()
        self._resolve_member_links(disp, members)

    def _list_zip(self, disp: str, path: str, akey: tuple) -> None:
        self._pending_member_links = []
        members: dict[str, tuple] = {}
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                mname = _norm_member(info.filename)
                key = ("zip", akey, info.header_offset)
                mdisp = f"{disp}!{mname}"
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    try:
                        target = zf.read(info).decode("utf-8", "surrogateescape")
                    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as e:
                        self.skip(mdisp, f"unreadable link ({e})")
                        continue
                    targets = _link_candidates(mname, target, False)
                    members[mname] = ("link", targets)
                    if any(_is_hidden(p) for p in mname.split("/")):
                        self.skip(mdisp, "hidden file")
                    else:
                        self._pending_member_links.append((mdisp, mname, target, targets))
                    continue
                if info.flag_bits & 0x1:
                    self.skip(mdisp, "encrypted zip member (not read)", key)
                    continue
                members[mname] = ("file", key)

                def open_member(zf=zf, info=info) -> BinaryIO:
                    return zf.open(info)

                def make_source(info=info, mdisp=mdisp):
                    return _ZipSource(path, info.filename, info.header_offset, info.file_size, mdisp)

                self._member(disp, mname, key, info.file_size, open_member, make_source)
        self._resolve_member_links(disp, members)

    # ----- duplicates and output

    def _dedupe_by_content(self) -> None:
        groups: dict[str, list[_Cand]] = {}
        for c in self.cands:
            groups.setdefault(_strip_compression_suffix(c.name), []).append(c)
        drop: set[int] = set()
        for same in groups.values():
            if len(same) < 2:
                continue
            kept: list[_Cand] = []
            for c in same:
                for i, k in enumerate(kept):
                    rel = _compare(self._trail(k), self._trail(c))
                    if rel == "equal":
                        self.skip(c.display, f"same content as {k.display}")
                        drop.add(id(c))
                        break
                    if rel == "first_is_prefix":
                        self.skip(k.display, f"earlier copy of {c.display} (its bytes are a prefix)")
                        drop.add(id(k))
                        kept[i] = c
                        break
                    if rel == "second_is_prefix":
                        self.skip(c.display, f"earlier copy of {k.display} (its bytes are a prefix)")
                        drop.add(id(c))
                        break
                else:
                    kept.append(c)
        if drop:
            self.cands = [c for c in self.cands if id(c) not in drop]

    @staticmethod
    def _trail(c: _Cand) -> TrailFile:
        kind, start, end, host = parse_name(_strip_compression_suffix(c.name))
        return TrailFile(
            path=c.display,
            name=_strip_compression_suffix(c.name),
            kind=kind,
            name_start=start,
            name_end=end,
            compression=c.compression,
            stored_bytes=c.stored,
            host=host,
            _source=c.source,
        )


def _link_candidates(mname: str, linkname: str, hard: bool) -> list[str]:
    """Member paths a link member may point to, most likely first.

    Hard links name a member from the archive root. A symbolic link is relative to its own
    folder; an absolute one (macOS writes ``current`` -> ``/var/audit/START...``) means the
    member of that name beside the link, or else the member at that path from the root.
    """
    if hard:
        return [_norm_member(linkname)]
    here = posixpath.dirname(mname)
    if linkname.startswith("/"):
        return [posixpath.join(here, posixpath.basename(linkname)), _norm_member(linkname)]
    return [posixpath.normpath(posixpath.join(here, linkname))]


def _norm_member(name: str) -> str:
    n = posixpath.normpath(name.lstrip("/"))
    return "" if n == "." else n


def _compare(a: TrailFile, b: TrailFile) -> str:
    """``equal``, ``first_is_prefix``, ``second_is_prefix`` or ``different`` (streaming)."""
    try:
        with a.open() as fa, b.open() as fb:
            while True:
                # BufferedReader.read(n) returns fewer than n bytes only at the end.
                ca = fa.read(_CHUNK)
                cb = fb.read(_CHUNK)
                if ca == cb:
                    if not ca:
                        return "equal"
                    continue
                n = min(len(ca), len(cb))
                if ca[:n] != cb[:n]:
                    return "different"
                return "first_is_prefix" if len(ca) < len(cb) else "second_is_prefix"
    except (CollectionError, OSError):
        return "different"
