"""Hostile evidence: small, deterministic inputs built the way an attacker would build them.

Each generator makes one shape from issue 10 with the project's own trail writer and the
standard archive modules: bytes for a trail, or files written under a folder the caller gives
(big ones are written in chunks, never held whole). The ``tests/hostile`` suite runs
``knox-report`` and ``load`` over them under a time and a memory limit.

Nothing here is random or reads the clock: the same call gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import zstandard

from ..bsm import writer as w
from .scenarios import build
from .scenes import DSHELPER, FINDER, XPCPROXY, ZSH
from .story import ALICE, BOB, STAFF, Story, epoch, launchd, person

__all__ = ["NASTY", "CONTROL", "TRAIL_NAME", "OUTSIDER", "good_trail", "scenario",
           "helper_join", "planted_subject", "far_future", "msec_overflow", "wrong_sizes",
           "big_exec_args", "truncated_tar_gz", "crc_damaged_gz", "corrupt_tar_zst",
           "same_named_zip", "tar_claiming", "gz_bomb", "zip_bomb", "long_member_name",
           "many_small_files", "control_evidence", "current_outside", "fifo_dslocal"]

#: The rotated-trail name most generators give their files (2024-03-15, 08:00 to 10:00 UTC).
TRAIL_NAME = "20240315080000.20240315100000"
#: Clear-screen, an OSC 52 clipboard write and a right-to-left override: what must never reach
#: the analyst's terminal raw.
NASTY = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\u202e"
#: Characters that must not appear in output (C0 but newline and tab, DEL, C1, bidi controls).
CONTROL = frozenset([chr(c) for c in range(0x20) if chr(c) not in "\n\t"] + ["\x7f"]
                    + [chr(c) for c in range(0x80, 0xA0)]
                    + [chr(c) for c in (0x200E, 0x200F, *range(0x202A, 0x202F),
                                        *range(0x2066, 0x206A))])

_MB = 1 << 20
_START = "2024-03-15T08:00:00"


def good_trail(start: str = _START, *, auid: int = ALICE, count: int = 3) -> bytes:
    """A few well-formed records of one person's shell (chdir, one directory each)."""
    st = Story(start)
    shell = person(5000 + auid, ZSH, uid=auid)
    for n in range(count):
        st.chdir(shell, f"/Users/u{auid}/dir{n}")
    return st.trail.getvalue()


# ---- model: the helper join -------------------------------------------------------------------

def helper_join(n: int, *, doc: str = "/Users/alice/Documents/report.pdf") -> bytes:
    """A client (Finder) and the launchd helper it asked for each open one path ``n`` times:
    a many-to-many join on the path gives n² rows unless the window bounds it first."""
    st = Story(_START, step=1)
    finder = person(412, FINDER)
    for _ in range(n):
        st.open(finder, doc, "r", fd=21, owner=ALICE)
    st.ssauthorize(finder, "com.apple.desktopservices", "/System/Library/CoreServices/Finder.app")
    proxy = st.spawn(launchd(), 905, XPCPROXY, ["xpcproxy", "com.apple.DesktopServicesHelper"])
    helper = st.exec_in_place(proxy, DSHELPER, ["DesktopServicesHelper"])
    for _ in range(n):
        st.open(helper, doc, "r", fd=3, owner=ALICE)
    st.exit(helper, 0)
    return st.trail.getvalue()


# ---- bsm: records that lie ----------------------------------------------------------------------

def planted_subject(*, victim: int = BOB, claimed: int = 4096) -> bytes:
    """alice execs a program whose argv bytes hold bob's subject token, a return token and an
    ``exec_env`` claiming 0xFFFFFFFF strings; ``exec_args`` claims more strings than there
    are (the macOS 12+ cut), so a cut search that takes the first cut after which the rest
    parses gives the exec to bob and swallows alice's path, attr and subject.

    The record sits between two good records of alice."""
    st = Story(_START)
    shell = person(6000, ZSH)
    st.chdir(shell, "/Users/alice")
    planted = (w.subject(victim, victim, STAFF, victim, STAFF, 6001, 100099, 0, "0.0.0.0")
               + w.return32(0, 0) + b"\x3d" + b"\xff\xff\xff\xff")
    argv = [b"/tmp/evil", *planted.split(b"\0")]
    kid = replace(shell, pid=6001)
    toks = [w.exec_args(argv, count=claimed), w.path("/tmp/evil"),
            w.attr(0o100755, ALICE, STAFF, nodeid=77)]
    st.kernel(kid, w.AUE_EXECVE, toks, identity=False)      # ends in the return: a NUL
    st.chdir(shell, "/Users/alice/after")
    return st.trail.getvalue()


def far_future(*, year_seconds: int = 253402300800 + 86400) -> bytes:
    """A ``header64`` record dated after the year 9999, between good records."""
    good = good_trail()
    shell = person(5001, ZSH)
    bad = w.record(w.AUE_CHDIR, [w.path("/far"), shell.subject(), w.return32()],
                   time=year_seconds, header="header64")
    return good + bad + good_trail("2024-03-15T08:10:00")


def msec_overflow(msec: int = 0xFFFFFFF0) -> bytes:
    """A ``header32`` record whose msec field is above 999 (2**32 ms is 49 days)."""
    shell = person(5001, ZSH)
    rec = bytearray(w.record(w.AUE_CHDIR, [w.path("/msec"), shell.subject(), w.return32()],
                             time=epoch("2024-03-15T08:05:00") / 1000))
    rec[14:18] = struct.pack(">I", msec)
    return good_trail() + bytes(rec) + good_trail("2024-03-15T08:10:00")


def wrong_sizes(count: int) -> bytes:
    """``count`` records whose header size field is one byte short (the trailer disagrees),
    between good records: the resync after each must not rescan what it already passed."""
    shell = person(5001, ZSH)
    base = epoch("2024-03-15T08:05:00") / 1000
    parts = [good_trail()]
    for n in range(count):
        rec = bytearray(w.record(w.AUE_CHDIR, [w.path(f"/d{n}"), shell.subject(), w.return32()],
                                 time=base + n / 1000))
        rec[1:5] = struct.pack(">I", len(rec) - 1)
        parts.append(bytes(rec))
    parts.append(good_trail("2024-03-15T08:10:00"))
    return b"".join(parts)


def big_exec_args(size: int = 160_000) -> bytes:
    """One exec whose ``exec_args`` claims more strings than the record holds, with ``size``
    bytes of one-character strings that each look like the start of an ``exec_env`` token
    (whose count is too big to search cuts in, so it swallows strings to the last NUL), and a
    damaged end: every cut is a candidate, each costs a parse of the rest, none is clean."""
    shell = person(6000, ZSH)
    argv = [b"="] * (size // 2)
    toks = [w.exec_args(argv, count=len(argv) + 1000), w.path("/bin/ls"), shell.subject(),
            w.return32(), b"\xee" * 9]
    rec = w.record(w.AUE_EXECVE, toks, time=epoch("2024-03-15T08:05:00") / 1000)
    return good_trail() + rec + good_trail("2024-03-15T08:10:00")


# ---- collection: damaged compressed files and archives -----------------------------------------

def _tar_bytes(members: list[tuple[str, bytes]], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1710489600, 0o644
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _hours(count: int, *, records: int = 40) -> list[tuple[str, bytes]]:
    """``count`` hourly trail files named as auditd names them, each with good records."""
    out = []
    for h in range(count):
        name = f"20240315{h:02d}0000.20240315{h + 1:02d}0000"
        out.append((f"audit/{name}", good_trail(f"2024-03-15T{h:02d}:00:00", count=records)))
    return out


def _last_member_offset(tar: bytes) -> int:
    """Where the last member's header starts in a tar's bytes."""
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        return tf.getmembers()[-1].offset


def truncated_tar_gz(dest, *, members: int = 4) -> Path:
    """A ``.tar.gz`` of ``members`` trails cut in the middle of its last member (the
    compressor is flushed before that member, so every byte of the others is in the file)."""
    tar = _tar_bytes(_hours(members))
    cut = _last_member_offset(tar)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = comp.compress(tar[:cut]) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.compress(tar[cut:]) + comp.flush()
    dest = Path(dest)
    dest.write_bytes(head + tail[:len(tail) // 2])
    return dest


def crc_damaged_gz(folder) -> Path:
    """A ``/var/audit`` folder: one plain trail and one ``.gz`` trail whose CRC is wrong."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "20240315080000.20240315090000").write_bytes(good_trail("2024-03-15T08:00:00"))
    data = bytearray(gzip.compress(good_trail("2024-03-15T09:00:00", count=40), mtime=0))
    data[-8] ^= 0xFF                                          # the CRC32 in the trailer
    (folder / "20240315090000.20240315100000.gz").write_bytes(bytes(data))
    return folder


def corrupt_tar_zst(dest, *, members: int = 4) -> Path:
    """A ``.tar.zst``: one frame with every member but the last, then a frame for the last
    member overwritten in the middle."""
    tar = _tar_bytes(_hours(members))
    cut = _last_member_offset(tar)
    cctx = zstandard.ZstdCompressor(level=3, write_checksum=True)
    tail = bytearray(cctx.compress(tar[cut:]))
    middle = len(tail) // 2
    tail[middle:middle + 16] = b"\xa5" * 16
    dest = Path(dest)
    dest.write_bytes(cctx.compress(tar[:cut]) + bytes(tail))
    return dest


def same_named_zip(dest, count: int = 300) -> Path:
    """A zip of ``count`` members that all have one name and each a different trail."""
    dest = Path(dest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                      # zipfile: "Duplicate name"
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
            for n in range(count):
                info = zipfile.ZipInfo(f"audit/{TRAIL_NAME}", (2024, 3, 15, 8, 0, 0))
                zf.writestr(info, good_trail(f"2024-03-15T08:{n // 60:02d}:{n % 60:02d}",
                                             count=2))
    return dest


def _tar_entry(name: str, data: bytes, size: int | None = None) -> bytes:
    """One tar member: its header (claiming ``size``, by default the data's length) and the
    data padded to 512 bytes."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data) if size is None else size, 1710489600, 0o644
    return info.tobuf(format=tarfile.GNU_FORMAT) + data + b"\0" * (-len(data) % 512)


def tar_claiming(dest, size: int = 8 << 30) -> Path:
    """A tar with a good member, then a member whose header claims ``size`` bytes (only a
    trail's worth follows, then the end of the archive)."""
    dest = Path(dest)
    dest.write_bytes(_tar_entry("audit/20240315070000.20240315080000",
                                good_trail("2024-03-15T07:00:00"))
                     + _tar_entry(f"audit/{TRAIL_NAME}", good_trail(), size) + b"\0" * 1024)
    return dest


def _zeros_member(chunk: int = 64 * _MB) -> bytes:
    """One gzip member holding ``chunk`` zero bytes (about a thousandth of that, compressed)."""
    return gzip.compress(bytes(chunk), compresslevel=9, mtime=0)


def gz_bomb(dest, inflated: int = 2 << 30) -> Path:
    """A ``.gz`` trail: good records, then ``inflated`` bytes of zeros (multi-member gzip,
    about 2 MB on disk for 2 GiB), written member by member."""
    dest = Path(dest)
    chunk = 64 * _MB
    zeros = _zeros_member(chunk)
    with open(dest, "wb") as fh:
        fh.write(gzip.compress(good_trail(count=40), mtime=0))
        for _ in range(max(1, inflated // chunk)):
            fh.write(zeros)
    return dest


def _deflate_zeros(prefix: bytes, inflated: int, block: int = 16 * _MB):
    """Raw deflate of ``prefix`` then ``inflated`` zero bytes, as (chunks, crc32, size): a full
    flush resets the compressor, so one compressed block of zeros stands for all of them."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(block)
    packed = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    count = max(1, inflated // block)
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    tail = comp.flush(zlib.Z_FINISH)
    return [head, *([packed] * count), tail], crc, len(prefix) + count * block


def zip_bomb(dest, inflated: int = 1 << 30) -> Path:
    """A zip whose one member is a trail followed by ``inflated`` bytes of zeros, deflated
    (about a thousandth of that on disk); the deflate stream is one block repeated."""
    chunks, crc, size = _deflate_zeros(good_trail(count=40), inflated)
    csize = sum(map(len, chunks))
    name = f"audit/{TRAIL_NAME}".encode()
    when = (0x4000 | (0 << 5) | 0, (44 << 9) | (3 << 5) | 15)        # 08:00:00, 2024-03-15
    common = struct.pack("<HHHHHIIIHH", 20, 0, 8, when[0], when[1], crc, csize, size,
                         len(name), 0)
    local = b"PK\x03\x04" + common + name
    central = (b"PK\x01\x02" + struct.pack("<H", 20) + common
               + struct.pack("<HHHII", 0, 0, 0, 0o100644 << 16, 0) + name)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central),
                                       len(local) + csize, 0)
    dest = Path(dest)
    with open(dest, "wb") as fh:
        fh.write(local)
        for chunk in chunks:
            fh.write(chunk)
        fh.write(central + end)
    return dest


def long_member_name(dest, length: int = 5 * _MB) -> Path:
    """A few-KB ``.tar.gz`` whose one trail member has a ``length``-character name (a pax
    header), next to a member with a short name."""
    members = [(f"audit/{'A' * length}/{TRAIL_NAME}", good_trail()),
               ("audit/20240315100000.20240315110000", good_trail("2024-03-15T10:00:00"))]
    dest = Path(dest)
    dest.write_bytes(gzip.compress(_tar_bytes(members), compresslevel=9, mtime=0))
    return dest


def many_small_files(folder, count: int) -> Path:
    """A folder of ``count`` one-record trail files (what costs is the overhead per file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        start = f"2024-03-15T{8 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
        stamp = start.replace("-", "").replace("T", "").replace(":", "")
        (folder / f"{stamp}.{n:06d}").write_bytes(good_trail(start, count=1))
    return folder


# ---- names that reach the terminal --------------------------------------------------------------

def control_evidence(root) -> dict[str, Path]:
    """Evidence whose names carry :data:`NASTY`: trail files, a zip member, a ``current`` link
    (its target shows in the skip reason), and passwd, group and audit_event tables with such names.

    Returns the paths by role: ``audit`` (the folder), ``passwd``, ``group``, ``audit_event``.
    """
    root = Path(root)
    audit = root / "audit"
    audit.mkdir(parents=True, exist_ok=True)
    (audit / f"x{NASTY}y.trail").write_bytes(good_trail("2024-03-15T08:00:00"))
    with zipfile.ZipFile(audit / "old.zip", "w") as zf:
        zf.writestr(f"audit/20240315090000{NASTY}.20240315100000",
                    good_trail("2024-03-15T09:00:00"))
    (audit / f"20240315{NASTY}.not_terminated").write_bytes(good_trail("2024-03-15T10:00:00"))
    os.symlink(f"20240315{NASTY}.not_terminated", audit / "current")
    passwd = root / "passwd"
    passwd.write_text(f"root:*:0:0:System Administrator:/var/root:/bin/sh\n"
                      f"al{NASTY}ice:*:{ALICE}:{STAFF}:Alice{NASTY}:/Users/alice:/bin/zsh\n")
    group = root / "group"
    group.write_text(f"wheel:*:0:root\nst{NASTY}aff:*:{STAFF}:root\n")
    events = root / "audit_event"
    events.write_text(f"{w.AUE_CHDIR}:AUE_\x1b[2J\u202e:chdir{NASTY}(2):pc\n"   # names < 30 bytes
                      f"{w.AUE_EXECVE}:AUE_EXECVE:execve(2):pc,ex\n")
    return {"audit": audit, "passwd": passwd, "group": group, "audit_event": events}


# ---- outside the evidence --------------------------------------------------------------------

OUTSIDER = 666


def current_outside(root, how: str) -> Path:
    """An evidence folder ``root/case/audit`` next to ``root/secret/<trail>`` (records of uid
    666): ``how`` is ``text`` (a plain ``current`` holding ``../../secret/<trail>``),
    ``link`` (a relative symlink to it) or ``copy`` (``current`` a regular-file copy of the
    folder's last trail). Returns the evidence folder."""
    root = Path(root)
    audit, secret = root / "case" / "audit", root / "secret"
    audit.mkdir(parents=True, exist_ok=True)
    secret.mkdir(parents=True, exist_ok=True)
    (secret / TRAIL_NAME).write_bytes(good_trail(auid=OUTSIDER))
    last = "20240315100000.not_terminated"
    (audit / TRAIL_NAME).write_bytes(good_trail())
    (audit / last).write_bytes(good_trail("2024-03-15T10:00:00"))
    target = f"../../secret/{TRAIL_NAME}"
    if how == "text":
        (audit / "current").write_text(target)
    elif how == "link":
        os.symlink(target, audit / "current")
    elif how == "copy":
        (audit / "current").write_bytes((audit / last).read_bytes())
    else:
        raise ValueError(f"unknown way {how!r}")
    return audit


def fifo_dslocal(root) -> Path:
    """A dslocal folder (``users/``, ``groups/``) whose ``users/evil.plist`` is a FIFO."""
    root = Path(root)
    users = root / "dslocal" / "users"
    users.mkdir(parents=True, exist_ok=True)
    (root / "dslocal" / "groups").mkdir(exist_ok=True)
    os.mkfifo(users / "evil.plist")
    return root / "dslocal"


def scenario(name: str = "shell_pipeline") -> bytes:
    """A named scenario's bytes (good evidence to mix with the hostile shapes)."""
    return build(name)
