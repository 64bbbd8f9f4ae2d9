"""Readers: decompression (gzip, bzip2, xz, zstd) and archive members, streamed in chunks.

Every reader here produces its output in bounded pieces: no call inflates more than a few MiB,
whatever the compressed data claims, and an archive member is never trusted for its size (a
member shorter than its header says is an error at the first missing byte). A read that cannot
go on raises :class:`TrailReadError`, whose ``reason`` is one of :data:`READ_DAMAGE_REASONS`
and whose ``offset`` is the number of good bytes produced before the damage.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Callable

from ..errors import CollectionError
from .sniff import HEAD, magic_compression


__all__ = ["TrailReadError", "READ_DAMAGE_REASONS", "CHUNK", "Decompressing",
           "Prefixed", "Probe", "probe"]

CHUNK = 1 << 16
_OUT = CHUNK * 4      # most bytes one decompression call may produce (gzip, bz2, xz)
_SALVAGE = 256        # gzip input per call when redoing a failed call byte-exactly
_ZSTD_FEED = 256      # zstd has no output limit per call: feed it so little that an RLE block
                      # run (4 input bytes -> 128 KiB) still stays under 8 MiB per call

#: A decompression bomb: past RATIO_FLOOR bytes of output, a stream may not inflate more than
#: MAX_RATIO-fold (gzip's own limit is about 1032-fold; BSM trails compress 10- to 50-fold).
#: What was produced before is kept, and the read ends with a "size limit" damage row.
RATIO_FLOOR = 64 << 20
MAX_RATIO = 200

#: Why a trail's content ends before its end (the ``reason`` of a read-damage row).
READ_DAMAGE_REASONS = {
    "truncated compressed data": "the compressed stream ends before its end marker",
    "damaged compressed data": "the compressed stream does not decode (bad block, bad CRC)",
    "data after the compressed stream": "bytes after the end that are not another stream",
    "truncated archive member": "the archive ends before the member's last byte",
    "damaged archive member": "the archive's own compression or structure fails inside the member",
    "damaged archive": "the archive's structure fails between members (those before are read)",
    "size limit": "the content is larger than a trail may be, or inflates like a "
                  "decompression bomb (not read further)",
    "read error": "the operating system could not read the stored bytes",
}


class TrailReadError(CollectionError):
    """A collected trail cannot be read to its end (damaged compression, truncated member).

    ``partial`` holds the decompressed bytes read before the damage (set by
    :meth:`TrailFile.read_bytes`; empty when raised from a streaming reader); ``reason`` is
    one of :data:`READ_DAMAGE_REASONS`; ``offset`` the count of good bytes before the damage
    (when the reader knows it).
    """

    def __init__(self, message: str, *, path: str = "", partial: bytes = b"",
                 reason: str = "read error", offset: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.partial = partial
        self.reason = reason
        self.offset = offset


class Prefixed(io.RawIOBase):
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
    """One compressed stream's decoder behind a uniform, output-bounded interface."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._pending = b""  # zstd input not fed yet
        self._failed: Exception | None = None  # gzip: the error after the salvaged bytes
        self._own_errors: tuple = ()  # errors of a codec imported when needed (xz, zstd)
        if kind == "gzip":
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif kind == "bz2":      # bz2 and lzma are imported when such a file is read
            import bz2

            self._d = bz2.BZ2Decompressor()
        elif kind == "xz":
            import lzma

            self._d = lzma.LZMADecompressor()
            self._own_errors = (lzma.LZMAError,)
        elif kind == "zstd":
            try:  # a declared dependency, imported when a .zst file is read
                import zstandard
            except ImportError:  # pragma: no cover - exercised only without the dependency
                raise TrailReadError("reading .zst files needs the zstandard package") from None
            self._d = zstandard.ZstdDecompressor().decompressobj()
            self._own_errors = (zstandard.ZstdError,)
        else:  # pragma: no cover - internal misuse
            raise ValueError(kind)

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def failed(self) -> Exception | None:
        """The error met after the bytes already delivered (gzip salvage), if any."""
        return self._failed

    @property
    def unused_data(self) -> bytes:
        if self.kind == "zstd":
            return self._d.unused_data + self._pending
        return self._d.unused_data

    @property
    def needs_input(self) -> bool:
        if self.kind == "gzip":
            return not self._d.unconsumed_tail
        if self.kind == "zstd":
            return not self._pending
        return self._d.needs_input

    def decompress(self, data: bytes, limit: int) -> bytes:
        try:
            if self.kind == "gzip":
                return self._gzip(self._d.unconsumed_tail + data, limit)
            if self.kind == "zstd":
                return self._zstd(data, limit)
            return self._d.decompress(data, max_length=limit)
        except self._own_errors as e:   # lzma's, zstandard's: one of _DECODE_ERRORS, as zlib's
            raise ValueError(str(e) or type(e).__name__) from e

    def _gzip(self, data: bytes, limit: int) -> bytes:
        """zlib drops a whole call's output when it fails (a bad CRC at the end, a bad block):
        on failure the call is redone from a saved state in small slices, so every byte
        before the damage is delivered and the error comes on the next call."""
        if self._failed is not None:
            raise self._failed
        saved = self._d.copy()
        try:
            return self._d.decompress(data, limit)
        except zlib.error:
            self._d = saved
        out = self._salvage(data, _SALVAGE)
        if not any(out):
            raise self._failed
        return b"".join(out)

    def _salvage(self, data: bytes, step: int) -> list[bytes]:
        out = []
        for i in range(0, len(data), step):
            saved = self._d.copy()
            try:
                out.append(self._d.decompress(data[i:i + step]))
            except zlib.error as e:
                if step == 1:
                    self._failed = e
                    break
                self._d = saved
                out.extend(self._salvage(data[i:i + step], 1))
                break
        return out

    def _zstd(self, data: bytes, limit: int) -> bytes:
        pending = memoryview(self._pending + data if self._pending else data)
        out, made, pos = [], 0, 0
        while pos < len(pending) and not self._d.eof and made < limit:
            out.append(self._d.decompress(pending[pos:pos + _ZSTD_FEED]))
            made += len(out[-1])
            pos += _ZSTD_FEED
        self._pending = bytes(pending[pos:])
        return b"".join(out)


_DECODE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, EOFError, ValueError, OSError)


class _Truncated(Exception):
    """The compressed input ends before the stream's end marker."""


class Decompressing(io.RawIOBase):
    """Decompresses a raw stream; concatenated streams and zero padding are allowed,
    truncation and trailing garbage raise :class:`TrailReadError`.

    ``soft``: the stream ends at the damage instead (and ``error`` holds why), for readers
    such as :mod:`tarfile` that gather several reads into one and would drop the good bytes
    gathered so far if one of them raised.
    """

    def __init__(self, raw: BinaryIO, kind: str, display: str, *, soft: bool = False) -> None:
        self.soft = soft
        self.error: TrailReadError | None = None
        self._raw = raw
        self._kind = kind
        self._display = display
        self._codec = _Codec(kind)
        self._buf = b""
        self._off = 0
        self._eof = False
        self._produced = 0
        self._consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            return self._readinto(b)
        except TrailReadError as e:
            if not self.soft:
                raise
            self.error, self._eof, self._buf, self._off = e, True, b"", 0
            return 0

    def _readinto(self, b) -> int:
        while self._off >= len(self._buf) and not self._eof:
            try:
                self._step()
            except TrailReadError:
                raise
            except _Truncated as e:
                raise self._error("truncated compressed data", f"{self._kind} data ends early "
                                  "(truncated)") from e
            except _DECODE_ERRORS as e:
                if isinstance(e, OSError) and not isinstance(e, EOFError) and e.errno:
                    raise self._error("read error", f"read error after {self._produced} bytes "
                                      f"({e})", plain=True) from e
                raise self._error("damaged compressed data", str(e) or type(e).__name__) from e
        n = min(len(b), len(self._buf) - self._off)
        b[:n] = self._buf[self._off:self._off + n]
        self._off += n
        self._produced += n
        return n

    def _error(self, reason: str, detail: str, *, plain: bool = False) -> TrailReadError:
        if plain:
            message = f"{self._display}: {detail}"
        else:
            message = (f"{self._display}: damaged {self._kind} data after {self._produced} "
                       f"decompressed bytes ({detail})")
        return TrailReadError(message, path=self._display, reason=reason, offset=self._produced)

    def _step(self) -> None:
        _check_ratio(self._produced, self._consumed, self._display)
        c = self._codec
        if c.failed is not None:
            raise c.failed
        if c.eof:
            self._next_stream(c.unused_data)
            return
        if c.needs_input:
            data = self._raw.read(CHUNK)
            if not data:
                raise _Truncated()
            self._consumed += len(data)
            out = c.decompress(data, _OUT)
        else:
            out = c.decompress(b"", _OUT)
        self._buf = out
        self._off = 0

    def _next_stream(self, data: bytes) -> None:
        """After a stream's end: zero padding, another stream of the same kind, or an error."""
        while True:
            data = data.lstrip(b"\0")
            if len(data) >= 8:
                break
            more = self._raw.read(CHUNK)
            if not more:
                break
            self._consumed += len(more)
            data += more
        if not data:
            self._eof = True
            return
        if magic_compression(data) != self._kind:
            raise TrailReadError(
                f"{self._display}: unexpected data after the end of the {self._kind} "
                f"stream (after {self._produced} decompressed bytes)",
                path=self._display, reason="data after the compressed stream",
                offset=self._produced,
            )
        self._codec = _Codec(self._kind)
        self._buf = self._codec.decompress(data, _OUT)
        self._off = 0

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()


def _check_ratio(produced: int, consumed: int, display: str) -> None:
    if produced > RATIO_FLOOR and produced > MAX_RATIO * max(consumed, 1):
        raise TrailReadError(
            f"{display}: inflates more than {MAX_RATIO}-fold (a decompression bomb?); "
            f"the first {produced} bytes are read", path=display, reason="size limit",
            offset=produced)


@dataclass
class Probe:
    compression: str | None
    head: bytes
    error: str | None = None


def probe(raw: BinaryIO, display: str) -> Probe:
    """Compression by magic bytes and the first :data:`HEAD` bytes of the decompressed content."""
    magic = raw.read(8)
    comp = magic_compression(magic)
    if comp is None:
        return Probe(None, magic + raw.read(HEAD - len(magic)))
    try:
        dec = Decompressing(Prefixed(magic, raw), comp, display)
        head = bytearray()
        while len(head) < HEAD:
            chunk = dec.read(HEAD - len(head))
            if not chunk:
                break
            head += chunk
        return Probe(comp, bytes(head))
    except TrailReadError as e:
        return Probe(comp, b"", str(e))
