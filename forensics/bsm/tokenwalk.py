"""The token walk: the tokens of one record, from its header to its trailer.

Tokens are parsed from the header to the trailer. An unknown id or a token that does not fit
stops the walk: the tokens before it are kept and the rest (up to the trailer) is a damaged
span. ``csrc/bsm.c`` mirrors this step for step.

``exec_args``/``exec_env`` counts are not trusted: macOS 12+ keeps exec strings only while the
token fits in 16 KiB (``EXEC_CUT_LIMIT``) but writes the original count. When fewer strings than
the count fit, or the rest of the record does not parse (and the count is a plausible argc, at
most 2**20), the walk looks for the cut xnu can produce: after k strings (k below the strings
found) holding at most ``EXEC_CUT_LIMIT`` bytes, where the next byte is a token xnu writes after
exec strings (``EXEC_FOLLOWERS``) and the rest parses cleanly to the trailer.

* The first clean cut is taken (the longest clean tail): a stray byte pattern near the end (a
  return token's zeros) cannot pass for the cut.
* Argument bytes are the user's: they can hold well-formed tokens, a subject among them. When
  a later clean cut leaves a subject token that lies past the chosen cut's subject (one the
  chosen cut takes as argument bytes), or the chosen cut leaves none, the decoding depends on a
  guess and the record says so: ``walk_record`` returns the token's offset as ``guessed``
  (reason "ambiguous exec cut"). Later cuts inside the kernel's own tokens after the real cut
  lead to the same subject (or none) and are not a guess.
* No clean cut: the greedy parse stands and the record reports its damage.

The search is linear in the record: a record whose greedy walk is clean (every exec strings
token complete) is walked once; otherwise the status of every position from the first exec
strings token to the trailer is computed once, from the end backwards, with the NULs indexed so
that a token's strings and its best cut are found without re-reading the bytes.
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from typing import NamedTuple

from .tokens import (ATTR32, ATTR64, DATA, DATA_UNIT_SIZES, EXEC_ENV, EXEC_STRINGS_IDS, PATH,
                     RETURN32, RETURN64, SUBJECT32, SUBJECT32_EX, SUBJECT64, SUBJECT64_EX,
                     STRINGS_TOKEN_IDS, SUBJECT_IDS, TOKENS, TokenError, read_strings)

__all__ = ["Token", "walk", "walk_record", "EXEC_FOLLOWERS", "MAX_EXEC_COUNT", "EXEC_CUT_LIMIT"]

#: Tokens xnu writes after exec_args/exec_env: exec_env, path, attr32/64, data (cdhash),
#: subject32/64/_ex, return32/64. A cut is only taken where one of them follows.
EXEC_FOLLOWERS = frozenset((EXEC_ENV, PATH, ATTR32, ATTR64, DATA, SUBJECT32, SUBJECT64,
                            SUBJECT32_EX, SUBJECT64_EX, RETURN32, RETURN64))
#: A count above this is not a real argc (ARG_MAX is 1 MiB): no cut is searched for.
MAX_EXEC_COUNT = 1 << 20
#: xnu (macOS 12+) keeps exec strings while the token fits KALLOC_SAFE_ALLOC_SIZE (16 KiB): a cut
#: keeping more string bytes than this is not one the kernel wrote.
EXEC_CUT_LIMIT = 16 * 1024
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class Token(NamedTuple):
    id: int
    offset: int
    length: int
    values: tuple


def _skipper(fields):
    """A function (buf, pos, end, nuls) -> the position after a token's fields, or -1 when they
    do not fit: the token's length without copying its bytes (``nuls``: the sorted positions
    of the NULs before ``end``, for NUL-terminated fields)."""
    steps: list = []
    for _name, kind in fields:
        size = _FIXED_SIZE.get(kind)
        if size is not None and steps and isinstance(steps[-1], int):
            steps[-1] += size
        else:
            steps.append(size if size is not None else kind)

    def skip(buf, pos, end, nuls):
        for step in steps:
            if step.__class__ is int:
                pos += step
            elif step in ("str", "opaque"):
                if pos + 2 > end:
                    return -1
                pos += 2 + _U16.unpack_from(buf, pos)[0]
            elif step in ("taddr", "taddr_lenient"):
                if pos + 4 > end:
                    return -1
                atype = _U32.unpack_from(buf, pos)[0]
                if atype in (4, 16):
                    pos += 4 + atype
                elif step == "taddr":
                    return -1
                else:
                    pos += 4
            elif step == "strings":
                if pos + 4 > end:
                    return -1
                pos = _strings_end(nuls, pos + 4, _U32.unpack_from(buf, pos)[0])[1]
            elif step == "cstr":
                r = bisect_left(nuls, pos)
                if r == len(nuls):
                    return -1
                pos = nuls[r] + 1
            elif step == "gids":
                if pos + 2 > end:
                    return -1
                pos += 2 + 4 * _U16.unpack_from(buf, pos)[0]
            elif step == "data":
                if pos + 3 > end or buf[pos + 1] not in DATA_UNIT_SIZES:
                    return -1
                pos += 3 + DATA_UNIT_SIZES[buf[pos + 1]] * buf[pos + 2]
            else:  # sockex
                if pos + 2 > end:
                    return -1
                atype = _U16.unpack_from(buf, pos)[0]
                if atype not in (4, 16):
                    return -1
                pos += 6 + 2 * atype
            if pos > end:
                return -1
        return pos
    return skip


_FIXED_SIZE = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "ip4": 4, "ip16": 16, "uuid": 16}
_SKIP = {tid: _skipper(spec.fields) for tid, spec in TOKENS.items()}


def _strings_end(nuls: list, first: int, count: int) -> tuple[int, int]:
    """(strings found, position after them) for up to ``count`` strings starting at ``first``."""
    r = bisect_left(nuls, first)
    found = min(count, len(nuls) - r)
    return found, (nuls[r + found - 1] + 1 if found else first)


class _Search:
    """The walk status of every position from ``start`` to ``end``, computed from the end.

    ``status[i]`` (position start + i) is None when the rest parses cleanly to the trailer,
    else (offset, reason) of the token where it stops; ``subject[i]`` is the offset of the first
    subject token of that rest (-1: none). For each exec strings token the chosen cut is in
    ``cut`` (strings kept, -1 for the greedy parse) and ``guessed`` holds those where another
    clean cut would give another subject. Per NUL (index j; the cut after it is at nuls[j] + 1),
    ``_next_clean[j]`` is the first clean follower cut at or after it and ``_subject_cuts[j]``
    counts the clean follower cuts from it on whose rest holds a subject.
    """

    def __init__(self, buf, start: int, end: int):
        self.buf, self.start, self.end = buf, start, end
        nuls, i = [], buf.find(b"\0", start, end)
        while i >= 0:
            nuls.append(i)
            i = buf.find(b"\0", i + 1, end)
        self.nuls = nuls
        self.status: list = [None] * (end - start + 1)
        self.subject = [-1] * (end - start + 1)
        self.cut: dict[int, int] = {}
        self.guessed: set[int] = set()
        self._next_clean = [len(nuls)] * (len(nuls) + 1)
        self._subject_cuts = [0] * (len(nuls) + 1)
        self._run()

    def _run(self) -> None:
        buf, start, nuls = self.buf, self.start, self.nuls
        status, subject = self.status, self.subject
        j = len(nuls) - 1
        if j >= 0 and nuls[j] == self.end - 1:
            j -= 1                          # the cut after it would be the trailer: never taken
        for x in range(self.end - 1, start - 1, -1):
            tid = buf[x]
            if tid in EXEC_STRINGS_IDS:
                self._strings(x)
            elif tid not in _SKIP:
                status[x - start] = (x, "unknown token")
            else:
                nx = _SKIP[tid](buf, x + 1, self.end, nuls)
                if nx < 0:
                    status[x - start] = (x, "bad token")
                else:
                    status[x - start] = status[nx - start]
                    subject[x - start] = x if tid in SUBJECT_IDS else subject[nx - start]
            if j >= 0 and nuls[j] == x - 1:
                self._index_cut(j, x)
                j -= 1

    def _index_cut(self, j: int, x: int) -> None:
        """Record the cut at x (just after the NUL with index j)."""
        i = x - self.start
        good = self.buf[x] in EXEC_FOLLOWERS and self.status[i] is None
        self._next_clean[j] = j if good else self._next_clean[j + 1]
        self._subject_cuts[j] = self._subject_cuts[j + 1] + (good and self.subject[i] >= 0)

    def _strings(self, x: int) -> None:
        """Decide the exec strings token at x (see the module docstring)."""
        buf, start, end = self.buf, self.start, self.end
        if x + 5 > end:
            self.status[x - start] = (x, "bad token")
            return
        count = _U32.unpack_from(buf, x + 1)[0]
        found, greedy = _strings_end(self.nuls, x + 5, count)
        if not (found < count <= MAX_EXEC_COUNT):
            if self.status[greedy - start] is None or count > MAX_EXEC_COUNT:
                self._take(x, -1, greedy)
                return
        k, y = self._first_cut(x, found)
        self._take(x, k, y if k >= 0 else greedy)

    def _first_cut(self, x: int, found: int) -> tuple[int, int]:
        """(strings kept, cut position) of the first clean cut at x, or (-1, -1) when none is
        clean; notes x in ``guessed`` when another clean cut leaves another subject."""
        if not found:
            return -1, -1
        start, nuls, first = self.start, self.nuls, x + 5
        first_ok = self.buf[first] in EXEC_FOLLOWERS and self.status[first - start] is None
        r0 = bisect_left(nuls, first)          # cut k >= 1 follows the NUL with index r0 + k - 1
        hi = min(r0 + found - 2, bisect_left(nuls, min(first + EXEC_CUT_LIMIT, self.end)) - 1)
        if first_ok:
            k, y = 0, first
        elif hi >= r0 and self._next_clean[r0] <= hi:
            j = self._next_clean[r0]
            k, y = j - r0 + 1, nuls[j] + 1
        else:
            return -1, -1
        # a later clean cut with a subject, past the chosen one's subject (which that cut would
        # take as argument bytes): another subject, so the choice is a guess
        subject = self.subject[y - start]
        lo = max(r0, bisect_left(nuls, subject)) if subject >= 0 else r0
        if hi >= lo and self._subject_cuts[lo] > self._subject_cuts[hi + 1]:
            self.guessed.add(x)
        return k, y

    def _take(self, x: int, k: int, y: int) -> None:
        self.cut[x] = k
        self.status[x - self.start] = self.status[y - self.start]
        self.subject[x - self.start] = self.subject[y - self.start]

    def strings(self, x: int, k: int) -> tuple[tuple, int]:
        """The values and end of the exec strings token at x keeping k strings (-1: greedy)."""
        buf, nuls = self.buf, self.nuls
        count = _U32.unpack_from(buf, x + 1)[0]
        found, greedy = _strings_end(nuls, x + 5, count)
        kept = found if k < 0 else k
        r0, pos, strings = bisect_left(nuls, x + 5), x + 5, []
        for j in range(r0, r0 + kept):
            strings.append(bytes(buf[pos:nuls[j]]))
            pos = nuls[j] + 1
        return ((count, strings),), pos


def _greedy_walk(buf, pos: int, end: int, tokens: list):
    """Walk taking every token as it parses. Returns (damage, first exec strings token or -1,
    whether a search is needed): a search is needed when an exec strings token holds fewer
    strings than a plausible count, or the walk stops after passing an exec strings token."""
    first, nul_end = -1, None
    while pos < end:
        tid = buf[pos]
        spec = TOKENS.get(tid)
        if spec is None:
            return (pos, "unknown token"), first, first >= 0
        if tid in EXEC_STRINGS_IDS and first < 0:
            first = pos
        try:
            if tid in STRINGS_TOKEN_IDS:
                if nul_end is None:         # counts past the strings: never search past it
                    nul_end = buf.rfind(b"\0", pos, end) + 1
                values, new = read_strings(buf, pos + 1, end, nul_end)
            else:
                values, new = spec.parse(buf, pos + 1, end)
        except TokenError:
            return (pos, "bad token"), first, first >= 0
        if tid in EXEC_STRINGS_IDS:
            count, strings = values[0]
            if len(strings) < count <= MAX_EXEC_COUNT:
                return None, first, True
        tokens.append(Token(tid, pos, new - pos, values))
        pos = new
    return None, first, False


def walk_record(buf, pos: int, end: int):
    """Tokens from pos up to end (the trailer's offset), damage ((offset, reason) or None) and
    ``guessed``: the offset of an exec strings token whose cut was a guess between several that
    each leave a subject, else None."""
    tokens: list[Token] = []
    damage, first, search = _greedy_walk(buf, pos, end, tokens)
    if not search:
        return tokens, damage, None
    tokens = [t for t in tokens if t.offset < first]
    found = _Search(buf, first, end)
    pos, guessed = first, None
    while pos < end:
        tid = buf[pos]
        spec = TOKENS.get(tid)
        if spec is None:
            return tokens, (pos, "unknown token"), guessed
        if tid in EXEC_STRINGS_IDS and pos in found.cut:
            values, new = found.strings(pos, found.cut[pos])
            if guessed is None and pos in found.guessed:
                guessed = pos
        else:
            try:
                if tid in STRINGS_TOKEN_IDS:
                    nul_end = found.nuls[-1] + 1 if found.nuls else first
                    values, new = read_strings(buf, pos + 1, end, nul_end)
                else:
                    values, new = spec.parse(buf, pos + 1, end)
            except TokenError:
                return tokens, (pos, "bad token"), guessed
        tokens.append(Token(tid, pos, new - pos, values))
        pos = new
    return tokens, None, guessed


def walk(buf, pos: int, end: int) -> tuple[list[Token], tuple[int, str] | None]:
    """Tokens from pos up to end (the trailer's offset); damage is (offset, reason) or None."""
    tokens, damage, _guessed = walk_record(buf, pos, end)
    return tokens, damage
