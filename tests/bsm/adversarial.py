"""Adversarial trails for the decoders, built with the project's own writer.

Each generator returns bytes a hostile machine could leave behind: a run of records whose header
size is wrong (resync and repair), exec records whose exec strings counts send the cut search
through many candidates, a planted subject inside argument bytes, header times out of range, a
record with more tokens than ``token_count`` (UInt16) can hold. Shared with ``tests/hostile``.
"""

from __future__ import annotations

import struct

from forensics.bsm import tokens
from forensics.bsm import writer as w

__all__ = ["T0", "bad_size_run", "cut_search_bomb", "planted_subject", "out_of_range_times",
           "too_many_tokens", "REAL_AUID", "PLANTED_AUID"]

T0 = 1710493198.0
REAL_AUID, PLANTED_AUID = 501, 0


def _record(i: int) -> bytes:
    return w.record(w.AUE_OPEN_R, [w.path(f"/tmp/f{i}"), w.subject(auid=501, pid=100 + i),
                                   w.return32()], time=T0 + i / 1000)


def bad_size_run(total: int, *, size: int | None = None) -> bytes:
    """``total`` bytes of records whose header size is wrong (``size``, default one byte too
    many) while their trailers are intact: every one must be framed by its trailer."""
    parts, length, i = [], 0, 0
    while length < total:
        rec = bytearray(_record(i))
        rec[1:5] = struct.pack(">I", len(rec) + 1 if size is None else size)
        parts.append(bytes(rec))
        length += len(rec)
        i += 1
    return b"".join(parts)


def cut_search_bomb(total: int) -> bytes:
    """One exec record of about ``total`` bytes whose exec_args claims one string more than it
    holds, every string being ``=`` (an exec_env id): each cut candidate starts an exec_env whose
    count is far too large, so a search that re-parses per candidate reads the rest each time."""
    n = max(1, (total - 64) // 2)
    return w.record(w.AUE_EXECVE, [w.exec_args([b"="] * n, count=n + 1), b"\x99"], time=T0)


def planted_subject(*, env_count: int = 0xFFFFFFFF, real_argv=(b"ls", b"-l")) -> bytes:
    """An exec cut by the kernel whose argument bytes carry a well-formed subject token (auid
    ``PLANTED_AUID``) followed by an exec_env id claiming ``env_count`` strings, which swallows
    the real path, attr, subject (auid ``REAL_AUID``) and return when it is taken as a token."""
    planted = w.subject(auid=PLANTED_AUID, pid=1, asid=1) + b"\x3d" + struct.pack(">I", env_count)
    # NUL-terminated pieces: the planted bytes become argv strings as they are
    pieces = planted.split(b"\0")
    argv = list(real_argv) + pieces[:-1]
    tail = pieces[-1]
    if tail:
        argv.append(tail)
    args = w.exec_args(argv, count=len(argv) + 5)            # macOS 12+: the count stays argc
    return w.record(w.AUE_EXECVE, [
        args, w.path("/bin/ls"), w.attr(0o100755), w.subject(auid=REAL_AUID, pid=4242,
                                                             asid=100007),
        w.return32()], time=T0)


def out_of_range_times() -> bytes:
    """header64 records: year 10000, the last ms of 9999, msec 1000, msec 2**32 - 1, and sane."""
    def h64(sec: int, msec: int) -> bytes:
        body = w.return32()
        size = 26 + len(body) + 7
        return (tokens.encode("header64", (size, 11, w.AUE_EXIT, 0, sec, msec)) + body
                + tokens.encode("trailer", (tokens.TRAILER_MAGIC, size)))
    year_10000 = 253402300800                    # 10000-01-01T00:00:00Z
    return b"".join([h64(year_10000, 0), h64(year_10000 - 1, 999), h64(1710493198, 1000),
                     h64(1710493198, 0xFFFFFFFF), h64(1710493198, 5)])


def too_many_tokens(n: int = 70000) -> bytes:
    """One record with ``n`` iport tokens (more than token_count, a UInt16, can count)."""
    return w.record(w.AUE_OPEN_R, [b"\x2c\x00\x50" * n], time=T0)
