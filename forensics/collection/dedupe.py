"""Duplicates by content: the same trail copied twice is read once, in one pass per file.

Two found trails with the same name (compression suffix aside) are compared by content, and so
is a regular file named ``current`` (a link dereferenced by ``cp -rL``, zip or a FAT copy) with
the trails beside it. Identical content is read once (``"same content as ..."``, the first found
is kept); when one is a prefix of the other (a ``not_terminated`` trail copied twice while it
grew) only the longer is read (``"earlier copy of ... (its bytes are a prefix)"``).

Comparing is linear: the first bytes already read while sniffing rule out almost every pair;
the rest are hashed (BLAKE2b) once each, in storage order, and only a file that may extend a
shorter one is read a second time, hashing at the shorter ones' lengths.
"""

from __future__ import annotations

import bisect
from typing import Callable

from ..errors import CollectionError
from . import files
from .members import Found
from .names import parse_name, strip_compression_suffix

__all__ = ["drop_duplicates"]

_READ = 1 << 18


def drop_duplicates(found: list[Found], skip: Callable[[str, str], None],
                    trail_of: Callable) -> list[Found]:
    """``found`` without its duplicates (each dropped one is passed to ``skip`` with why)."""
    drop: set[int] = set()
    groups: dict[str, list[Found]] = {}
    for f in found:
        groups.setdefault(strip_compression_suffix(f.name), []).append(f)
    for group in groups.values():
        if len(group) > 1:
            _resolve(group, drop, skip, trail_of)
    by_folder: dict[object, list[Found]] = {}
    for f in found:
        if id(f) not in drop:
            by_folder.setdefault(f.folder, []).append(f)
    for f in found:
        if id(f) not in drop and _is_copied_current(f):
            siblings = [s for s in by_folder.get(f.folder, ()) if s is not f]
            if siblings:
                _resolve(siblings + [f], drop, skip, trail_of)
    return [f for f in found if id(f) not in drop] if drop else found


def _is_copied_current(f: Found) -> bool:
    return f.name == "current" and parse_name(f.name)[0] == "other"


def _suspects(group: list[Found]) -> list[Found]:
    """The members whose head is equal to, a prefix of, or extended by another's head: the
    only ones that can be duplicates. Sorted heads put a prefix before everything that
    extends it, so one pass with a stack of open prefixes finds them (n log n)."""
    ordered = sorted(group, key=lambda f: f.head)
    hit: set[int] = set()
    stack: list[Found] = []
    for f in ordered:
        while stack and not f.head.startswith(stack[-1].head):
            stack.pop()
        if stack:
            hit.add(id(f))
            hit.add(id(stack[-1]))
        stack.append(f)
    return [f for f in group if id(f) in hit]


def _resolve(group: list[Found], drop: set[int], skip, trail_of) -> None:
    group = [f for f in group if id(f) not in drop]
    suspects = _suspects(group)
    if len(suspects) < 2:
        return
    sums = _hash_all(suspects, trail_of)
    first: dict[tuple, Found] = {}
    distinct: list[Found] = []
    for f in suspects:  # collection order: the first of equal copies is kept
        s = sums.get(id(f))
        if s is None:
            continue
        kept = first.setdefault(s, f)
        if kept is f:
            distinct.append(f)
        else:
            drop.add(id(f))
            skip(f.display, f"same content as {kept.display}")
    _drop_prefixes(distinct, sums, drop, skip, trail_of)


def _drop_prefixes(distinct: list[Found], sums: dict, drop: set[int], skip, trail_of) -> None:
    """Drop each trail whose bytes begin a longer one (that one is read a second time, hashed
    at every shorter length found: the work follows the bytes, not the pairs)."""
    lengths = sorted({sums[id(f)][0] for f in distinct})
    if len(lengths) < 2:
        return
    longer = sorted((f for f in distinct if sums[id(f)][0] > lengths[0]),
                    key=lambda f: sums[id(f)][0], reverse=True)
    extends: dict[tuple[int, bytes], Found] = {}
    for b in longer:  # longest first: the copy that grew the most is named
        lb = sums[id(b)][0]
        _, at = _hash(trail_of(b), lengths[:bisect.bisect_left(lengths, lb)])
        for n, digest in (at or {}).items():
            extends.setdefault((n, digest), b)
    for a in distinct:
        b = extends.get(sums[id(a)])
        if b is not None:
            drop.add(id(a))
            skip(a.display, f"earlier copy of {b.display} (its bytes are a prefix)")


def _hash_all(found: list[Found], trail_of) -> dict[int, tuple[int, bytes]]:
    """``(length, digest)`` of each readable trail, read in storage order."""
    order = sorted(found, key=lambda f: f.source.order() if f.source is not None else ())
    out = {}
    for f in order:
        whole, _ = _hash(trail_of(f), ())
        if whole is not None:
            out[id(f)] = whole
    return out


def _hash(trail, at) -> tuple[tuple[int, bytes] | None, dict[int, bytes] | None]:
    """``((length, digest), {n: digest of the first n bytes for n in at})``; Nones if unreadable."""
    import hashlib

    marks = sorted(set(at), reverse=True)
    h, n, got = hashlib.blake2b(digest_size=20), 0, {}
    if marks and marks[-1] == 0:
        got[marks.pop()] = h.digest()
    try:
        with trail.open() as fh:
            while n < files.MAX_TRAIL_BYTES:
                chunk = fh.read(min(_READ, files.MAX_TRAIL_BYTES - n))
                if not chunk:
                    break
                view, pos = memoryview(chunk), 0
                while marks and marks[-1] <= n + len(chunk):
                    cut = marks.pop() - n
                    h.update(view[pos:cut])
                    got[n + cut], pos = h.digest(), cut
                h.update(view[pos:])
                n += len(chunk)
    except (CollectionError, OSError):
        return None, None
    return (n, h.digest()), got
