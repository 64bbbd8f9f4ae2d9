"""auditreduce's selection run inside the C walk: the spans of the selected records, no frame.

:class:`Program` compiles a :class:`forensics.collection.selection.Selection` (with the
evidence's event table) into the C core's ``bsm_program`` (``csrc/select.h``); :func:`spans`
frames a buffer with ``bsm_reduce`` and returns the byte spans of the records it selects, the
damage and the counts. The meaning is exactly that of ``Selection.expr()`` over the records
frame, which stays the reference (tests/test_reduce.py runs both on every case).

Path regexes are POSIX extended regexes here, Rust regexes (Polars) on the frame. They agree
on the subset :func:`posix_form` accepts, over the lossless text of paths (valid UTF-8): a
pattern outside it, ``sock=`` and ``-z`` keep a selection on the frame (:func:`supported`).
Imports nothing heavy: ``knox-report reduce`` loads neither Polars nor Arrow on this path.
"""

from __future__ import annotations

import os

from ._cbsm import ffi, lib
from .coptions import MS_MAX as _MS_MAX, MS_MIN as _MS_MIN, options as _options

__all__ = ["posix_form", "posix_bytes", "literal_form", "supported", "Regexes", "Program",
           "Spans", "spans", "resync", "advise"]

_REASONS = [ffi.string(lib.bsm_reason_name(i)).decode() for i in range(lib.BSM_NREASONS)]
#: user options in the order of the subject and process ids in ``bsm_fields``
_USERS = ("auid", "euid", "egid", "ruid", "rgid")


# ---------------------------------------------------------------------------------------------
# regexes: the subset where POSIX and Rust agree


class _Unsupported(Exception):
    pass


_META = set(".[]()*+?{}|^$\\")
_CLASSES = {"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
            "space", "upper", "xdigit"}
_MAX_PATTERN = 1000
# Text is valid UTF-8 (the lossless form), so one character is one byte below 0x80 or a lead
# byte and its continuation bytes; the high bytes are written as surrogate escapes and become
# raw bytes in the pattern (encode("utf-8", "surrogateescape")).
_HIGH = "\udc80-\udcff"
_MULTIBYTE = ("[\udcc0-\udcdf][\udc80-\udcbf]|[\udce0-\udcef][\udc80-\udcbf]{2}|"
              "[\udcf0-\udcf7][\udc80-\udcbf]{3}")
_MAX_REPEAT = 100


class _Posix:
    """Translate one pattern; raises _Unsupported outside the subset."""

    def __init__(self, pattern: str) -> None:
        self.p, self.i, self.counted = pattern, 0, 0

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def alternation(self, depth: int) -> str:
        parts = [self.concat(depth)]
        while self.peek() == "|":
            self.i += 1
            parts.append(self.concat(depth))
        return "|".join(parts)

    def concat(self, depth: int) -> str:
        out, first = [], True
        while self.peek() not in ("", "|", ")"):
            out.append(self.piece(first, depth))
            first = False
        if not out:
            raise _Unsupported("empty alternative")
        return "".join(out)

    def piece(self, first: bool, depth: int) -> str:
        kind, text = self.atom(first, depth)
        q = self.peek()
        if kind == "any":           # (excluded bytes): one character, or a run of bytes
            if q == "*":
                text = "[^" + text + "]"
            else:
                text = "([^" + _HIGH + text + "]|" + _MULTIBYTE + ")"
        if q in ("*", "+", "?", "{"):
            if kind == "anchor":
                raise _Unsupported("quantified anchor")
            if kind == "wide":
                text = "(" + text + ")"
            text += self.quantifier()
            if self.peek() in ("*", "+", "?", "{"):
                raise _Unsupported("double quantifier")
        return text

    def quantifier(self) -> str:
        q = self.peek()
        self.i += 1
        if q != "{":
            return q
        end = self.p.find("}", self.i)
        if end < 0:
            raise _Unsupported("brace")
        body = self.p[self.i:end]
        lo, comma, hi = body.partition(",")
        if not lo.isdigit() or not lo.isascii() or (hi and not (hi.isdigit() and hi.isascii())):
            raise _Unsupported("bounds")
        if int(lo) > _MAX_REPEAT or (hi and (int(hi) > _MAX_REPEAT or int(hi) < int(lo))):
            raise _Unsupported("bounds")
        self.counted += 1
        if self.counted > 8:
            raise _Unsupported("too many counted repetitions")
        self.i = end + 1
        return "{" + body + "}"

    def atom(self, first: bool, depth: int) -> tuple[str, str]:
        c = self.peek()
        self.i += 1
        if c == "(":
            if self.peek() == "?" or depth >= 8:
                raise _Unsupported("group flags")
            inner = self.alternation(depth + 1)
            if self.peek() != ")":
                raise _Unsupported("unclosed group")
            self.i += 1
            return "group", "(" + inner + ")"
        if c == "[":
            return self.bracket()
        if c == ".":
            return "any", "\n"
        if c == "\\":
            e = self.peek()
            self.i += 1
            if e not in _META:
                raise _Unsupported("escape")
            return "lit", "\\" + e
        if c == "^":
            if not first:
                raise _Unsupported("inner ^")
            return "anchor", "^"
        if c == "$":
            if self.peek() not in ("", "|", ")"):
                raise _Unsupported("inner $")
            return "anchor", "$"
        if c in _META or c in "]}":
            raise _Unsupported("metacharacter")
        if c.isascii():
            if not c.isprintable():
                raise _Unsupported("control character")
            return "lit", c
        return "wide", c

    def bracket(self) -> tuple[str, str]:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        items, start = [], True
        while True:
            c = self.peek()
            if c == "":
                raise _Unsupported("unclosed bracket")
            if c == "]" and not start:
                self.i += 1
                break
            if c == "]" or c == "\\" or not c.isascii() or not c.isprintable():
                raise _Unsupported("bracket item")
            if c == "[":
                end = self.p.find(":]", self.i + 2)
                if not self.p.startswith("[:", self.i) or end < 0 \
                        or self.p[self.i + 2:end] not in _CLASSES:
                    raise _Unsupported("bracket class")
                items.append(self.p[self.i:end + 2])
                self.i = end + 2
            elif c in "&~-" and self.peek(1) == c:
                raise _Unsupported("set operation")
            elif c == "-":
                if not start and self.peek(1) != "]":
                    raise _Unsupported("bracket dash")
                items.append("-")
                self.i += 1
            elif self.peek(1) == "-" and self.peek(2) not in ("]", ""):
                hi = self.peek(2)
                if not (c.isalnum() and hi.isascii() and hi.isalnum() and c <= hi):
                    raise _Unsupported("range")
                items.append(c + "-" + hi)
                self.i += 3
            else:
                items.append(c)
                self.i += 1
            start = False
        if negated:     # the excluded characters, a dash last
            dash = "-" in items
            return "any", "".join(i for i in items if i != "-") + ("-" if dash else "")
        return "lit", "[" + "".join(items) + "]"


def posix_form(pattern: str) -> str | None:
    """The POSIX extended regex that matches exactly where the Rust regex ``pattern`` matches
    (unanchored, on valid UTF-8 text), or None when ``pattern`` is outside the subset where
    the two can be made to agree: literals and escaped metacharacters, ASCII brackets with
    ranges and ``[:class:]`` (negated too), ``.``, groups, ``|``, ``^`` and ``$`` at the ends
    of an alternative, and ``* + ? {m,n}``. ``.`` and negated brackets become "one UTF-8
    character" (a byte run under ``*``), so counts are counts of characters as in Rust.
    Every pattern it accepts is a valid Rust regex. High bytes are surrogate escapes."""
    if len(pattern) > _MAX_PATTERN:
        return None
    if pattern == "":
        return "^"
    try:
        pattern.encode("utf-8")       # no lone surrogates in the pattern itself
        t = _Posix(pattern)
        out = t.alternation(0)
        if t.i != len(pattern):
            return None
        return out
    except (_Unsupported, UnicodeEncodeError):
        return None


def literal_form(pattern: str) -> tuple[bytes, int] | None:
    """(text, anchors) when ``pattern`` only matches a fixed text (escaped metacharacters
    included): anchors 1 = at the start (``^``), 2 = at the end (``$``); None otherwise. The C
    side then compares bytes instead of running a regex."""
    anchors, i, n, out = 0, 0, len(pattern), []
    if pattern.startswith("^"):
        anchors, i = 1, 1
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n and pattern[i + 1] in _META:
            out.append(pattern[i + 1])
            i += 2
        elif c == "$" and i == n - 1:
            anchors |= 2
            i += 1
        elif c in _META or (c.isascii() and not c.isprintable()):
            return None
        else:
            out.append(c)
            i += 1
    try:
        return "".join(out).encode("utf-8"), anchors
    except UnicodeEncodeError:
        return None


def posix_bytes(pattern: str) -> bytes:
    """:func:`posix_form` as the bytes regcomp reads (raw high bytes in its brackets)."""
    return posix_form(pattern).encode("utf-8", "surrogateescape")


def _all_in(values, top: int) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= top
               for v in values)


def supported(selection) -> bool:
    """Whether the C walk can run ``selection`` exactly (else the frame path runs it): no
    ``sock=`` or ``-z``, regexes in the shared subset, and values in the ranges the C program
    holds (``from_options`` checks them; a hand-built Selection may not)."""
    s = selection
    if s.sockets is not None or s.zone is not None:
        return False
    if s.events is not None and not _all_in(s.events, 0xFFFF):
        return False
    ids = [*(i for _, group in s.users for i in group), *(s.subject_pids or ()),
           *(s.process_pids or ()), *(i for _, group in s.ipc for i in group)]
    if not _all_in(ids, 0xFFFFFFFF) or not _all_in([k for k, _ in s.ipc], 3):
        return False
    if any(kind not in _USERS for kind, _ in s.users) or 0 in [k for k, _ in s.ipc]:
        return False
    if s.classes is not None and not _all_in(s.classes, 0xFFFFFFFF):
        return False
    times = [t for t in (s.after_ms, s.before_ms) if t is not None]
    if not _all_in([t - _MS_MIN for t in times if isinstance(t, int)], _MS_MAX - _MS_MIN) \
            or not all(isinstance(t, int) for t in times):
        return False
    return all(posix_form(regex) is not None for regex, _ in s.paths or ())


# ---------------------------------------------------------------------------------------------
# the program


def _bitmap(numbers) -> bytearray:
    bitmap = bytearray(8192)
    for n in numbers:
        bitmap[n >> 3] |= 1 << (n & 7)
    return bitmap


class Regexes:
    """``-o file=`` regexes compiled by the C library: (regex, negated) pairs in order."""

    def __init__(self, paths) -> None:
        texts = [ffi.new("char[]", posix_bytes(regex)) for regex, _ in paths]
        literals = [literal_form(regex) for regex, _ in paths]
        fixed = [ffi.new("char[]", lit[0]) if lit else ffi.NULL for lit in literals]
        bad = ffi.new("int *")
        rx = lib.bsm_regexes_new(
            len(texts), ffi.new("char *[]", texts), ffi.new("char *[]", fixed),
            ffi.new("size_t[]", [len(lit[0]) if lit else 0 for lit in literals] or [0]),
            ffi.new("uint8_t[]", [lit[1] if lit else 0 for lit in literals] or [0]),
            ffi.new("uint8_t[]", [1 if neg else 0 for _, neg in paths] or [0]), bad)
        if rx == ffi.NULL:
            raise ValueError(f"the C library refused regex {bad[0]}")
        self.c = ffi.gc(rx, lib.bsm_regexes_free)

    def decide(self, text: bytes) -> bool:
        """Whether a path whose lossless text (UTF-8) is ``text`` is accepted."""
        return bool(lib.bsm_regexes_decide(self.c, text, len(text)))


class Program:
    """A selection compiled for ``bsm_reduce`` (keeps its C memory alive; :meth:`close`)."""

    def __init__(self, selection, tables) -> None:
        self._keep: list = []
        self.c = ffi.new("bsm_program *")
        self.rx = ffi.NULL
        c, s = self.c, selection
        if s.events is not None:
            c.events = self._bytes(_bitmap(s.events))
        if s.classes is not None:
            self._classes(*s.classes, tables.events)
        if s.after_ms is not None:
            c.has_after, c.after_ms = 1, s.after_ms
        if s.before_ms is not None:
            c.has_before, c.before_ms = 1, s.before_ms
        for k in range(5):
            c.nids[k] = -1
        for key, ids in s.users:
            k = _USERS.index(key)
            c.ids[k], c.nids[k] = self._ids(ids), len(ids)
            c.any_user = 1
        c.nsubject_pids = c.nprocess_pids = -1
        if s.subject_pids is not None:
            c.subject_pids, c.nsubject_pids = self._ids(s.subject_pids), len(s.subject_pids)
        if s.process_pids is not None:
            c.process_pids, c.nprocess_pids = self._ids(s.process_pids), len(s.process_pids)
        for k in range(3):
            c.nipc[k] = -1
        for kind, ids in s.ipc:
            c.ipc_ids[kind - 1], c.nipc[kind - 1] = self._ids(ids), len(ids)
        c.invert = 1 if s.invert else 0
        if s.paths is not None:
            self._regexes(s.paths)

    def _bytes(self, data: bytearray):
        buf = ffi.from_buffer("uint8_t[]", data)
        self._keep.append((data, buf))
        return buf

    def _ids(self, ids):
        arr = ffi.new("uint32_t[]", sorted(ids) or [0])
        self._keep.append(arr)
        return arr

    def _classes(self, success: int, failure: int, events) -> None:
        hit_any, hit_s, hit_f = [], [], []
        for number in range(65536):
            if events.name(number) is None:      # not in the table: never matches
                continue
            mask = events.class_mask(number)
            if mask & (success | failure):
                hit_any.append(number)
            if mask & success:
                hit_s.append(number)
            if mask & failure:
                hit_f.append(number)
        self.c.class_any = self._bytes(_bitmap(hit_any))
        self.c.class_success = self._bytes(_bitmap(hit_s))
        self.c.class_failure = self._bytes(_bitmap(hit_f))

    def _regexes(self, paths) -> None:
        self.rx = Regexes(paths)
        self.c.paths = self.rx.c

    def twin(self) -> "Program":
        """The same program with a scratch buffer of its own, to run in another thread at
        the same time (what was compiled is shared and only read)."""
        twin = Program.__new__(Program)
        twin._keep, twin.rx = [self], self.rx
        twin.c = ffi.new("bsm_program *")
        ffi.memmove(twin.c, self.c, ffi.sizeof("bsm_program"))
        twin.c.scratch, twin.c.scratch_cap = ffi.NULL, 0
        return twin

    def close(self) -> None:
        lib.bsm_program_release(self.c)



class Spans:
    """What ``bsm_reduce`` found in one range of a buffer: the counts and damage, and the
    selected byte spans, kept in C memory until :meth:`close` (a whole trail's spans are
    written by :meth:`write` without a Python object per span)."""

    def __init__(self, raw) -> None:
        self._raw = raw
        ne = int(raw.nerrors)
        reasons = bytes(ffi.buffer(raw.err_reason, ne)) if ne else b""
        #: (offset, length, reason) of each damaged span
        self.errors = list(zip(_u64(raw.err_offset, ne), _u64(raw.err_length, ne),
                               [_REASONS[r] for r in reasons]))
        self.records_seen = int(raw.records_seen)
        self.file_tokens = int(raw.file_tokens)
        self.selected = int(raw.selected)
        self.selected_file_tokens = int(raw.selected_file_tokens)
        #: framing stopped here (a record boundary at or after ``stop``)
        self.stopped = int(raw.stopped)

    @property
    def runs(self) -> list:
        """(start, end) byte ranges to copy, ascending, contiguous ones joined."""
        n = int(self._raw.nspans)
        return list(zip(_u64(self._raw.span_start, n), _u64(self._raw.span_end, n)))

    def write(self, fd: int, buf) -> int:
        """Write the spans of ``buf`` (the buffer they were found in) to the descriptor
        ``fd``, in gathered writes; the bytes written. Raises OSError when a write fails."""
        src = ffi.from_buffer("uint8_t[]", buf)
        written = ffi.new("uint64_t *")
        try:
            err = lib.bsm_write_spans(fd, src, self._raw, written)
        finally:
            ffi.release(src)
        if err:
            raise OSError(err, os.strerror(err))
        return int(written[0])

    def close(self) -> None:
        if self._raw is not None:
            lib.bsm_free(self._raw)
            self._raw = None

    __del__ = close


def _u64(ptr, n: int) -> list:
    return list(memoryview(ffi.buffer(ptr, 8 * n)).cast("Q")) if n else []


def spans(buf, program: Program, *, start: int = 0, stop: int | None = None,
          since_ms=None, until_ms=None, events=None, copy_files: bool = False) -> Spans:
    """Frame ``buf`` (any contiguous buffer, an mmap included) from ``start`` to the first
    boundary at or after ``stop`` and select with ``program``; offsets are into ``buf``."""
    src = ffi.from_buffer("uint8_t[]", buf)
    opts, _keep = _options(since_ms, until_ms, events)
    n = len(src)
    raw = lib.bsm_reduce(src, n, start, n if stop is None else stop, opts,
                         lib.bsm_select_record, program.c, 1 if copy_files else 0)
    ffi.release(src)
    if raw == ffi.NULL:
        raise MemoryError("the C selection ran out of memory")
    return Spans(raw)


def resync(buf, pos: int) -> int:
    """The first candidate record or file token start at or after ``pos`` in ``buf`` (the
    decoder's resync rule), or ``len(buf)``: where a range may be cut to be framed apart."""
    src = ffi.from_buffer("uint8_t[]", buf)
    try:
        return int(lib.bsm_resync(src, pos, len(src)))
    finally:
        ffi.release(src)


def advise(buf, start: int, length: int, advice: int) -> int:
    """madvise(2) on ``length`` bytes of ``buf`` (a memory map) from ``start`` (a multiple of
    the page size), without Python's lock: 0, or the errno."""
    src = ffi.from_buffer("uint8_t[]", buf)
    try:
        return int(lib.bsm_advise(src, start, length, advice))
    finally:
        ffi.release(src)
