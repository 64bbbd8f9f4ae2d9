"""What a file's first bytes say: compression by magic, archives by content, BSM by its header.

Everything here looks at bytes already read (at most :data:`HEAD` of them); nothing opens a file.
"""

from __future__ import annotations

__all__ = ["HEAD", "magic_compression", "looks_like_bsm", "archive_kind_by_content",
           "text_link_target"]

HEAD = 512  # enough for the tar magic at offset 257 and for the BSM sniff

_HEADER_IDS = frozenset({0x14, 0x15, 0x74, 0x79})
_RECORD_VERSIONS = frozenset({1, 2, 3, 4, 10, 11})


def magic_compression(b: bytes) -> str | None:
    """``gzip``, ``bz2``, ``xz``, ``zstd`` or None, by the stream's magic bytes."""
    if b[:2] == b"\x1f\x8b":
        return "gzip"
    if len(b) >= 4 and b[:3] == b"BZh" and 0x31 <= b[3] <= 0x39:
        return "bz2"
    if b[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if b[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


def looks_like_bsm(head: bytes) -> bool:
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


def archive_kind_by_content(compression: str | None, head: bytes) -> str | None:
    """``zip`` or ``tar`` when the (decompressed) head is one, else None."""
    if compression is None and head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    return None


def text_link_target(name: str, size: int, head: bytes) -> str | None:
    """The target named by a regular file called ``current`` (a symlink flattened by a copy)."""
    if name != "current" or size == 0 or size > HEAD or len(head) != size:
        return None
    text = head.rstrip(b"\n\r\0")
    if not text or any(c < 0x20 or c == 0x7F for c in text):
        return None
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return None
