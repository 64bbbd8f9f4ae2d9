"""``knox-report reduce``: auditreduce's selection, written back as a trail.

:func:`reduce` selects the records of each input with a :class:`forensics.filters.Selection`
(plus an optional ``--since/--until`` window) and writes their **raw bytes** to ``out``, in
input order: inputs are concatenated in the order given and never sorted or merged, as
auditreduce does. Bare ``file`` tokens are copied only when no option is given (or,
inverted, with ``-v`` and some other option), as auditreduce does.

Two paths give the same bytes. With the C core, the selection runs inside the C walk
(:mod:`forensics.bsm.cselect`): a plain trail file is memory-mapped and framed in
record-aligned ranges, two at once on two cores, whose pages are mapped ahead and dropped once
written; stdin in the pieces :mod:`forensics.bsm.stream` cuts. Only the byte spans of the
selected records come back, and C writes them (no frame, no Polars). Otherwise (the Python backend, ``sock=``, ``-z``, or a regex outside the
subset where POSIX and Rust regexes agree) each input is decoded into the records frame and
filtered with ``Selection.expr()``, the reference.

Unlike auditreduce, every record is examined (header32_ex/header64 records, subject32_ex /
subject64 subjects, process*_ex targets, return64 tokens) and reading goes on after damage:
the decoder resyncs to the next valid record, and the skipped bytes are reported through
``warn``. Compressed trails, ``/var/audit`` folders and archives are read as
:func:`forensics.trails.collect` finds them (a folder's trails in time order).
"""

from __future__ import annotations

import mmap
import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Callable, Iterable

from .bsm.choice import choose
from .collection import files as trail_files, trails
from .collection.files import FsSource
from .collection.selection import Selection
from .window import to_ms

__all__ = ["reduce", "ReduceStats", "Input", "collect_inputs", "FRAMING_DAMAGE"]

#: Damage reasons for bytes that belong to no record (they are not copied to the output).
FRAMING_DAMAGE = frozenset({"garbage", "truncated record", "bad record size", "bad trailer",
                            "truncated file token"})
#: A mapped trail is selected this many bytes at a time (then its pages are dropped).
MAP_RANGE = 8 << 20
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
#: madvise(MADV_POPULATE_READ), Linux only (None: pages are faulted in as they are read)
_POPULATE = getattr(mmap, "MADV_POPULATE_READ", 22 if sys.platform == "linux" else None)
_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)


@dataclass
class ReduceStats:
    inputs: int = 0
    records_read: int = 0           # records framed, the ones the decoder skipped included
    records_written: int = 0
    file_tokens_written: int = 0
    bytes_written: int = 0
    damaged_bytes: int = 0          # bytes outside any record or file token, not copied
    partly_decoded: int = 0         # records whose tokens could not all be decoded
    read_errors: int = 0            # inputs that could not be read to their end
    warnings: list = field(default_factory=list)


@dataclass(frozen=True)
class Input:
    """One input to read: a collected trail, or standard input."""
    display: str
    trail: trails.TrailFile | None = None

    def read(self, stdin: BinaryIO | None) -> tuple[bytes, str | None]:
        """(content, error message or None); on damage the content is what was recovered."""
        if self.trail is None:
            stream = stdin if stdin is not None else sys.stdin.buffer
            return stream.read(), None
        try:
            return self.trail.read_bytes(), None
        except trails.TrailReadError as exc:
            return exc.partial, str(exc)


def collect_inputs(paths: Iterable[str], warn: Callable[[str], None] | None = None
                   ) -> list[Input]:
    """The inputs, in the order given ('-' is stdin); a folder or archive gives its trails.

    Raises :class:`forensics.trails.CollectionError` for a path that cannot be read, before
    anything is written (auditreduce stops at the first file it cannot open).
    """
    out: list[Input] = []
    for path in paths:
        if path == "-":
            out.append(Input("<stdin>"))
            continue
        files, skipped = trails.collect(path)
        for s in skipped:
            if warn is not None:
                warn(f"{s.path}: skipped: {s.reason}")
        out.extend(Input(t.path, t) for t in files)
    return out


def _intersect(a: tuple, b: tuple) -> tuple:
    lo = [x for x in (a[0], b[0]) if x is not None]
    hi = [x for x in (a[1], b[1]) if x is not None]
    return (max(lo) if lo else None, min(hi) if hi else None)


def reduce(paths: Iterable[str | Input], selection: Selection, out: BinaryIO, *,
           tables=None, since: datetime | None = None, until: datetime | None = None,
           backend: str | None = None, stdin: BinaryIO | None = None,
           warn: Callable[[str], None] | None = None, fast: bool = True) -> ReduceStats:
    """Write the raw bytes of the selected records of ``paths`` to ``out``, in input order.

    ``paths`` are paths ('-' = ``stdin``) or :class:`Input` from :func:`collect_inputs`;
    ``tables`` a :class:`forensics.audit.Tables` (bundled tables when None); ``since`` /
    ``until`` an extra half-open window applied before the selection (``-v`` does not
    invert it). ``warn`` receives one line per problem (damage skipped, unreadable input).
    ``fast=False`` selects on the records frame even when the C walk could (the reference).
    """
    from .tables import Tables

    if tables is None:
        tables = Tables.from_files()
    backend = choose(backend)
    stats = ReduceStats()

    def say(line: str) -> None:
        stats.warnings.append(line)
        if warn is not None:
            warn(line)

    items: list[Input] = []
    for p in paths:
        items.extend([p] if isinstance(p, Input) else collect_inputs([p], say))
    window = (to_ms(since), to_ms(until))
    since_ms, until_ms = _intersect(window, selection.window_ms())
    events = selection.prefilter().get("events")
    with_file_tokens = selection.keeps_file_tokens() and window == (None, None)
    plan = _Plan(backend, tables, selection, since_ms, until_ms, events, with_file_tokens)
    if fast and backend == "c":
        plan.program = _program(selection, tables)
    try:
        for item in items:
            stats.inputs += 1
            _one_input(item, plan, stats, out, say, stdin)
    finally:
        for program in (plan.program, plan.twin):
            if program is not None:
                program.close()
    return stats


def _program(selection: Selection, tables):
    """The selection compiled for the C walk, or None when only the frame path can run it."""
    try:
        from .bsm import cselect
    except ImportError:
        return None
    if not cselect.supported(selection):
        return None
    try:
        return cselect.Program(selection, tables)
    except ValueError:          # a regex the C library refuses: the frame path runs it
        return None


class _Plan:
    """What every input of one run shares: the decoder's pre-checks and the selection."""

    def __init__(self, backend, tables, selection, since_ms, until_ms, events, with_file_tokens):
        self.backend, self.tables, self.selection = backend, tables, selection
        self.since_ms, self.until_ms, self.events = since_ms, until_ms, events
        self.with_file_tokens = with_file_tokens
        self.program = None     # a cselect.Program: the selection runs in the C walk
        self.twin = None        # its twin, for a second thread
        self._expr = False

    @property
    def expr(self):
        if self._expr is False:
            self._expr = self.selection.expr()
        return self._expr


def _one_input(item: Input, plan: _Plan, stats: ReduceStats, out, say, stdin) -> None:
    """Select from one input: stdin piece by piece, a plain file mapped, else read whole."""
    select = _select_fast if plan.program is not None else _select
    if item.trail is None:              # stdin: each piece as it arrives
        from .bsm.stream import pieces

        stream = stdin if stdin is not None else sys.stdin.buffer
        for base, piece in pieces(stream):
            select(piece, base, item.display, plan, stats, out, say)
            flush = getattr(out, "flush", None)
            if flush is not None:
                flush()
        return
    if plan.program is not None:
        mapped = _map(item.trail)
        if mapped is not None:
            with mapped:
                _select_mapped(mapped, item.display, plan, stats, out, say)
            return
    buf, error = item.read(stdin)
    if error is not None:
        stats.read_errors += 1
        say(f"{error} (the {len(buf)} bytes before the damage were used)")
    select(buf, 0, item.display, plan, stats, out, say)


def _map(trail):
    """A read-only memory map of a plain, uncompressed trail file (None: read it instead)."""
    if trail.compression is not None or not isinstance(getattr(trail, "_source", None), FsSource):
        return None
    try:
        with trail._source.open_raw() as f:
            if os.fstat(f.fileno()).st_size == 0:
                return None
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def _select_mapped(mm, display: str, plan: _Plan, stats: ReduceStats, out, say) -> None:
    """Select from a mapped trail in record-aligned ranges, two at once on two cores; pages
    already done are dropped, so memory stays bounded whatever the file's size."""
    from .bsm import cselect

    errors, pos = [], 0
    limit = trail_files.MAX_TRAIL_BYTES
    if len(mm) > limit:                 # what reading it would keep, and say
        stats.read_errors += 1
        say(f"{display}: larger than the {limit}-byte ceiling of a trail; the first {limit} "
            f"bytes are read (the {limit} bytes before the damage were used)")
    view = memoryview(mm)[:limit]
    n = len(view)
    pages = _Pages(view)

    def walk(start: int, stop: int, program):
        pages.populate(start, min(stop, n))
        return cselect.spans(view, program, start=start, stop=stop,
                             since_ms=plan.since_ms, until_ms=plan.until_ms,
                             events=plan.events, copy_files=plan.with_file_tokens)

    try:
        while pos < n:
            for found in _walk_pair(walk, plan, view, pos, n, pages.drop):
                _write_found(found, view, stats, out)
                errors.extend(found.errors)
                if found.stopped <= pos:
                    pos = n
                    break
                pos = found.stopped
            pages.done = pos
        pages.drop()
    finally:
        view.release()
    _report_damage(display, errors, stats, say)


def _walk_pair(walk, plan: _Plan, view, pos: int, n: int, drop) -> list:
    """The selection of the range at ``pos``, and of the next one walked at the same time
    by a second thread (which first drops the pages already written: ``drop``).

    The next range starts at a candidate record start past ``MAP_RANGE`` (the resync rule).
    It stands only when the first range, framed from ``pos``, stopped exactly there: framing
    from a boundary is the same whatever came before, so both are what one pass gives.
    Otherwise (the cut fell inside a record or damage) only the first is kept."""
    from .bsm import cselect

    stop = pos + MAP_RANGE
    cut = cselect.resync(view, stop) if _CORES > 1 and stop < n else n
    if cut >= n:
        drop()
        return [walk(pos, stop, plan.program)]
    if plan.twin is None:
        plan.twin = plan.program.twin()
    ahead: list = []

    def run():
        try:
            drop()
            ahead.append(walk(cut, cut + MAP_RANGE, plan.twin))
        except BaseException as exc:        # noqa: BLE001 - raised in the caller
            ahead.append(exc)

    thread = threading.Thread(target=run, name="knox-reduce-ahead")
    thread.start()
    try:
        first = walk(pos, cut, plan.program)
    finally:
        thread.join()
    if first.stopped != cut:
        return [first]
    if isinstance(ahead[0], BaseException):
        raise ahead[0]
    return [first, ahead[0]]


class _Pages:
    """A mapped trail's pages: mapped ahead of the walk (one system call instead of a fault
    per page) and dropped once written (memory stays bounded whatever the file's size). Both
    run in C without Python's lock, so two threads do them at once. A kernel without
    MADV_POPULATE_READ (Linux 5.14) faults the pages in as they are read."""

    def __init__(self, view) -> None:
        self.view, self.done, self.dropped = view, 0, 0

    def populate(self, start: int, end: int) -> None:
        global _POPULATE
        if _POPULATE is None or end <= start:
            return
        lo = start - start % mmap.PAGESIZE
        if self._advise(lo, end - lo, _POPULATE):
            _POPULATE = None

    def drop(self) -> None:
        done = self.done - self.done % mmap.PAGESIZE
        if _DONTNEED is not None and done > self.dropped:
            self._advise(self.dropped, done - self.dropped, _DONTNEED)
            self.dropped = done

    def _advise(self, start: int, length: int, advice: int) -> int:
        from .bsm import cselect

        return cselect.advise(self.view, start, length, advice)


def _select_fast(buf, base: int, display: str, plan: _Plan, stats: ReduceStats, out,
                 say) -> None:
    """One buffer (a file read whole, or a piece of stdin at ``base``) through the C walk."""
    from .bsm import cselect

    found = cselect.spans(buf, plan.program, since_ms=plan.since_ms, until_ms=plan.until_ms,
                          events=plan.events, copy_files=plan.with_file_tokens)
    with memoryview(buf) as view:
        _write_found(found, view, stats, out)
    _report_damage(display, [(o + base, n, r) for o, n, r in found.errors], stats, say)


def _write_found(found, view, stats: ReduceStats, out) -> None:
    """Write the spans found in ``view``, straight to the descriptor under ``out`` when there
    is one (what ``out`` holds buffered goes first), then free them."""
    stats.records_read += found.records_seen
    stats.records_written += found.selected
    stats.file_tokens_written += found.selected_file_tokens
    try:
        fd = _fileno(out)
        if fd is None:
            for start, end in found.runs:
                out.write(view[start:end])
                stats.bytes_written += end - start
            return
        out.flush()
        stats.bytes_written += found.write(fd, view)
    finally:
        found.close()


def _fileno(out) -> int | None:
    """The descriptor under ``out`` when gathered writes can go straight to it."""
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError):      # io.UnsupportedOperation included
        return None


def _select(buf, base: int, display: str, plan: _Plan, stats: ReduceStats, out, say) -> None:
    """Decode one buffer (a file, or a piece of stdin at ``base``), write its selected records."""
    from .bsm import backends
    from .pipeline import derive_records

    result = backends.decode_records(buf, plan.backend, since_ms=plan.since_ms,
                                     until_ms=plan.until_ms, events=plan.events)
    stats.records_read += result.records_seen
    frame = derive_records(result.records, display, plan.tables)
    every = frame
    if plan.expr is not None:
        frame = frame.filter(plan.expr)
    spans = _spans(frame)
    stats.records_written += len(spans)
    if plan.with_file_tokens and result.file_tokens:
        # Without a window or event pre-check every record was decoded, so the bytes that
        # are neither a record nor damage are exactly the bare file tokens.
        spans.extend(_gaps(_spans(every) + [(o, n) for o, n, _ in result.errors], len(buf)))
        stats.file_tokens_written += result.file_tokens
    spans.sort()
    view = memoryview(buf)
    for offset, end in _runs(spans):
        out.write(view[offset:end])
        stats.bytes_written += end - offset
    _report_damage(display, [(o + base, n, r) for o, n, r in result.errors], stats, say)


def _spans(frame) -> list[tuple[int, int]]:
    return list(zip(frame.get_column("offset").to_list(), frame.get_column("length").to_list()))


def _runs(spans: list[tuple[int, int]]):
    """Sorted (offset, length) spans merged into contiguous (start, end) runs: fewer writes."""
    start = end = None
    for offset, length in spans:
        if offset == end:
            end += length
            continue
        if start is not None:
            yield start, end
        start, end = offset, offset + length
    if start is not None:
        yield start, end


def _gaps(covered: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """The (offset, length) spans of [0, size) that no covered span touches."""
    gaps, pos = [], 0
    for offset, length in sorted(covered):
        if offset > pos:
            gaps.append((pos, offset - pos))
        pos = max(pos, offset + length)
    if pos < size:
        gaps.append((pos, size - pos))
    return gaps


def _report_damage(source: str, errors: list, stats: ReduceStats, say) -> None:
    framing = [(o, n, r) for o, n, r in errors if r in FRAMING_DAMAGE]
    inside = [(o, n, r) for o, n, r in errors if r not in FRAMING_DAMAGE]
    if framing:
        total = sum(n for _, n, _ in framing)
        stats.damaged_bytes += total
        o, _, r = framing[0]
        say(f"{source}: {total} damaged byte(s) in {len(framing)} span(s) not copied "
            f"(first at offset {o}: {r}); the records after them were read")
    if inside:
        stats.partly_decoded += len(inside)
        o, _, r = inside[0]
        say(f"{source}: {len(inside)} record(s) only partly decoded (first at offset {o}: "
            f"{r}); they were matched on the tokens before the damage and copied whole")
