"""``file:offset`` references in evidence sentences, and the stable ids of the records they name.

Evidence sentences name a trail file by its file name (by its path only when two files of the
collection share a name), the way ``proc_id`` does; :class:`Finder` maps those names back to
the ``source`` column so the report can decode exactly the records a sentence cites.
"""

from __future__ import annotations

import hashlib
import os
import re

from .cells import Refs

__all__ = ["Finder", "record_key"]

_OFFSET = re.compile(r":(\d+)(?!\d)")
_NAME_CHAR = re.compile(r"[\w./-]")


def record_key(source: str, offset: int) -> str:
    """The record's id in the page (``rec-KEY``): stable across runs and renderers."""
    return hashlib.sha1(f"{source}\0{offset}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Finder:
    """Finds references to the given trail files in text."""

    def __init__(self, sources: list[str]):
        names: dict[str, str] = {}
        counts: dict[str, int] = {}
        for path in sources:
            base = os.path.basename(path.split("!")[-1]) or path
            counts[base] = counts.get(base, 0) + 1
        for path in sources:
            base = os.path.basename(path.split("!")[-1]) or path
            if counts[base] == 1:
                names[base] = path
            names[path] = path
        self.names = names
        self.short = {p: n for n, p in names.items() if n != p}
        # Names are evidence (a member name may be megabytes long): never compiled into a
        # pattern. Each ``:digits`` in a text is checked against the names of each length.
        self._lengths = sorted({len(n) for n in names}, reverse=True)

    def _name_before(self, text: str, colon: int) -> str | None:
        """The longest known name ending at ``colon`` and starting at a word boundary."""
        for size in self._lengths:
            start = colon - size
            if start < 0:
                continue
            name = text[start:colon]
            if name in self.names and (start == 0 or not _NAME_CHAR.match(text[start - 1])):
                return name
        return None

    def refs(self, text: str | None) -> Refs:
        """``text`` split into plain parts and references."""
        if not text:
            return Refs(())
        if not self.names:
            return Refs(((text, None),))
        parts: list[tuple[str, tuple[str, int] | None]] = []
        at = 0
        for hit in _OFFSET.finditer(text):
            if hit.start() < at:
                continue
            name = self._name_before(text, hit.start())
            if name is None:
                continue
            start = hit.start() - len(name)
            if start > at:
                parts.append((text[at:start], None))
            parts.append((text[start:hit.end()], (self.names[name], int(hit.group(1)))))
            at = hit.end()
        if at < len(text):
            parts.append((text[at:], None))
        return Refs(tuple(parts))

    def label(self, source: str, offset: int) -> Refs:
        """A single reference to a record, labelled as evidence sentences name it."""
        name = self.short.get(source, source)
        return Refs(((f"{name}:{offset}", (source, int(offset))),))
