"""``knox-report reduce``: auditreduce's selection, written back as a trail.

:func:`reduce` decodes each input, selects records with a :class:`forensics.filters.Selection`
(plus an optional ``--since/--until`` window) and writes the **raw bytes** of the selected
records to ``out``, in input order: inputs are concatenated in the order given and never
sorted or merged, as auditreduce does. Bare ``file`` tokens are copied only when no option
is given (or, inverted, with ``-v`` and some other option), as auditreduce does.

Unlike auditreduce, every record is examined (header32_ex/header64 records, subject32_ex /
subject64 subjects, process*_ex targets, return64 tokens) and reading goes on after damage:
the decoder resyncs to the next valid record, and the skipped bytes are reported through
``warn``. Compressed trails, ``/var/audit`` folders and archives are read as
:func:`forensics.trails.collect` finds them (a folder's trails in time order).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Callable, Iterable

from .bsm import backends
from .collection import trails
from .collection.selection import Selection
from .bsm.stream import pieces
from .window import to_ms

__all__ = ["reduce", "ReduceStats", "Input", "collect_inputs", "FRAMING_DAMAGE"]

#: Damage reasons for bytes that belong to no record (they are not copied to the output).
FRAMING_DAMAGE = frozenset({"garbage", "truncated record", "bad record size", "bad trailer",
                            "truncated file token"})


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
           warn: Callable[[str], None] | None = None) -> ReduceStats:
    """Write the raw bytes of the selected records of ``paths`` to ``out``, in input order.

    ``paths`` are paths ('-' = ``stdin``) or :class:`Input` from :func:`collect_inputs`;
    ``tables`` a :class:`forensics.audit.Tables` (bundled tables when None); ``since`` /
    ``until`` an extra half-open window applied before the selection (``-v`` does not
    invert it). ``warn`` receives one line per problem (damage skipped, unreadable input).
    """
    from .tables import Tables

    if tables is None:
        tables = Tables.from_files()
    backend = backends.choose(backend)
    stats = ReduceStats()

    def say(line: str) -> None:
        stats.warnings.append(line)
        if warn is not None:
            warn(line)

    items: list[Input] = []
    for p in paths:
        items.extend([p] if isinstance(p, Input) else collect_inputs([p], say))
    expr = selection.expr()
    window = (to_ms(since), to_ms(until))
    since_ms, until_ms = _intersect(window, selection.window_ms())
    events = selection.prefilter().get("events")
    with_file_tokens = selection.keeps_file_tokens() and window == (None, None)
    plan = _Plan(backend, tables, expr, since_ms, until_ms, events, with_file_tokens)

    for item in items:
        stats.inputs += 1
        if item.trail is None:              # stdin: each piece as it arrives
            stream = stdin if stdin is not None else sys.stdin.buffer
            for base, piece in pieces(stream):
                _select(piece, base, item.display, plan, stats, out, say)
                flush = getattr(out, "flush", None)
                if flush is not None:
                    flush()
            continue
        buf, error = item.read(stdin)
        if error is not None:
            stats.read_errors += 1
            say(f"{error} (the {len(buf)} bytes before the damage were used)")
        _select(buf, 0, item.display, plan, stats, out, say)
    return stats


@dataclass(frozen=True)
class _Plan:
    backend: str
    tables: object
    expr: object
    since_ms: int | None
    until_ms: int | None
    events: frozenset | None
    with_file_tokens: bool


def _select(buf, base: int, display: str, plan: _Plan, stats: ReduceStats, out, say) -> None:
    """Decode one buffer (a file, or a piece of stdin at ``base``), write its selected records."""
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
