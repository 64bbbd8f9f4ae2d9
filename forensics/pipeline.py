"""Per file: read -> decode -> derive -> select. Shared by ``load``, ``scan`` and ``reduce``.

Files are read one at a time (two at a time with the C core, which releases the GIL), each
decoded with the window and event pre-checks applied at the header, given the evidence tables'
columns, filtered by the selection, and compacted: only what was selected is kept, so memory
follows the selection, not the input.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator

import polars as pl

from . import schema
from .bsm import backends
from .collection import trails
from .tables import Tables
from .window import Window, to_ms

__all__ = ["NAME_SLACK", "EVENT_TABLE_COLUMNS", "Plan", "make_plan", "FileResult",
           "derive_records", "decoded_columns", "decode_file", "iter_results", "source_row",
           "with_gaps"]

#: auditd names the next file a moment before the kernel switches to it, so a few records can
#: fall just outside a file's name span: widen the span by this much before skipping a file.
NAME_SLACK = timedelta(seconds=5)


#: the records columns ``derive_records`` adds from the evidence's event table
EVENT_TABLE_COLUMNS = ("event_name", "event_description", "event_class_mask", "event_classes")


def derive_records(core: pl.DataFrame, source: str, tables: Tables,
                   columns=None) -> pl.DataFrame:
    """Core columns + source + event table columns, in schema.RECORDS order.

    ``columns`` (a projection; None: all): only the event table columns named there are
    derived, and a ``core`` without ``event`` gets none.
    """
    # One look-up of each record's row in the (small) event table, then each wanted column
    # gathered at those rows: a join would gather (copy) every column of the frame, and a
    # horizontal concat would rechunk it. An event not in the table gets nulls.
    table = tables.event_frame
    wanted = [c for c in EVENT_TABLE_COLUMNS if "event" in core.columns
              and (columns is None or c in columns)]
    added = [pl.lit(source, pl.String).alias("source")]
    if wanted:
        rows = core.get_column("event").replace_strict(
            table["event"], pl.int_range(table.height, dtype=pl.UInt32, eager=True),
            default=None, return_dtype=pl.UInt32)
        added += [table[c].gather(rows).cast(schema.RECORDS[c]).alias(c) for c in wanted]
    frame = core.with_columns(*added)
    return frame.select([c for c in schema.RECORDS.names() if c in frame.columns])


def decoded_columns(columns, selection: pl.Expr | None) -> list[str] | None:
    """The core columns to decode for a projection ``columns`` (None: all of them): those asked
    for, those the selection reads, and ``event`` when an event table column is asked for."""
    if columns is None:
        return None
    wanted = {*columns, *_read_by(selection)}
    if wanted & set(EVENT_TABLE_COLUMNS):
        wanted.add("event")
    return [c for c in schema.CORE.names() if c in wanted]


def _read_by(selection: pl.Expr | None) -> list[str]:
    """The columns a selection expression reads."""
    return [] if selection is None else selection.meta.root_names()


@dataclass
class FileResult:
    trail: trails.TrailFile
    records: pl.DataFrame
    errors: list
    seen: int
    size: int


def decode_file(trail, backend, since_ms, until_ms, events, tables, selection,
                columns=None) -> FileResult:
    """One file: read, decode (window and events checked at the header), derive, select.

    ``columns``: keep only these (a projection: only they and what the selection reads are
    decoded); the selection is applied first.
    """
    buf, damage = trail.read()          # the good bytes, and where and why they end early
    size = len(buf)
    result = backends.decode_records(buf, backend, since_ms=since_ms, until_ms=until_ms,
                                     events=events, consume=True,
                                     columns=decoded_columns(columns, selection))
    del buf
    errors, seen = [*result.errors, *damage], result.records_seen
    needed = None if columns is None else {*columns, *_read_by(selection)}
    frame = derive_records(result.records, trail.path, tables, needed)
    if selection is not None:
        frame = frame.filter(selection)
    if columns is not None:
        frame = frame.select(columns)
    if frame.height < result.records.height * COMPACT_BELOW:
        frame = _compact(frame)
    del result                   # the whole file's frame goes now, not when the caller is done
    _give_back_memory()
    return FileResult(trail, frame, errors, seen, size)


#: A file's frame filtered down to less than this share of its rows is compacted. Measured on
#: a 105 MB trail (live memory after the whole frame is gone): keeping 5% of the rows, 147 MB
#: filtered as it is, 114 MB compacted (0.06 s); 25%: 198 and 174 MB (0.18 s); 50%: 262 and
#: 260 MB (0.44 s): above a third, compacting costs time and saves nothing.
COMPACT_BELOW = 1 / 3


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of a filtered frame that owns only its own strings.

    Polars' string views in a filtered frame keep pointing into the whole file's string
    buffers; a round trip through Arrow IPC in memory with plain strings copies just the rows
    kept, so memory follows the selection and not the input (without importing pyarrow).
    """
    if frame.is_empty():
        return frame.clear()
    buf = io.BytesIO()
    frame.write_ipc(buf, compat_level=pl.CompatLevel.oldest())
    buf.seek(0)
    return pl.read_ipc(buf).cast(dict(frame.schema))


def _libc_trim():
    try:
        import ctypes
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return trim


_TRIM = _libc_trim()


def _give_back_memory() -> None:
    """Return freed heap pages to the system after each file (glibc keeps them otherwise)."""
    if _TRIM is not None:
        _TRIM(0)


def iter_results(paths, *, since, until, backend, tables, selection, prefilter, columns=None
                 ) -> Iterator[tuple[trails.TrailFile | trails.Skipped, FileResult | None, str | None]]:
    files, skipped = trails.collect(*paths)
    for s in skipped:
        yield s, None, s.reason
    since_ms, until_ms = to_ms(since), to_ms(until)
    events = prefilter.get("events") if prefilter else None
    todo = []
    for t in files:
        if trails.in_window(t, since, until, slack=NAME_SLACK):
            todo.append(t)
        else:
            yield t, None, "outside the time window (by its name)"
    workers = 2 if backend == "c" and len(todo) > 1 else 1

    def work(t):
        return decode_file(t, backend, since_ms, until_ms, events, tables, selection, columns)

    if workers == 1:
        for t in todo:
            yield t, work(t), None
    else:
        with ThreadPoolExecutor(workers) as pool:
            for t, res in zip(todo, pool.map(work, todo)):
                yield t, res, None


def source_row(item, res: FileResult | None, reason: str | None) -> dict:
    if isinstance(item, trails.Skipped):
        return {"path": item.path, "kind": "skipped", "read": False, "skip_reason": reason}
    row = {"path": item.path, "kind": item.kind, "name_start": item.name_start,
           "name_end": item.name_end, "compression": item.compression,
           "stored_bytes": item.stored_bytes, "read": res is not None, "skip_reason": reason}
    if res is not None:
        times = res.records.get_column("time")
        row.update(bytes=res.size, records=res.seen,
                   damaged_bytes=sum(length for _, length, _ in res.errors),
                   first_record=times.min(), last_record=times.max())
    return row


def with_gaps(sources: pl.DataFrame) -> pl.DataFrame:
    """``gap_before``: how long nothing was recorded between a trail file and the one before it.

    A file's span is taken from its name where the name gives it, else from its records; files
    without a time (skipped links) get null. A negative gap means the two files overlap.
    """
    start = pl.coalesce("name_start", "first_record")
    end = pl.coalesce("name_end", "last_record")
    timed = sources.with_row_index("_row").filter(start.is_not_null()).sort(start, "_row")
    gaps = timed.select("_row", (start - end.shift(1)).alias("gap_before"))
    return (sources.drop("gap_before").with_row_index("_row")
            .join(gaps, on="_row", how="left", maintain_order="left")
            .drop("_row").select(schema.SOURCES.names()).cast(dict(schema.SOURCES)))


@dataclass(frozen=True)
class Plan:
    """What ``load`` and ``scan`` were asked for, checked once before any file is read."""
    backend: str
    tables: Tables
    window: Window
    selection: pl.Expr | None
    events: frozenset | None          # event numbers the decoder may keep (header pre-check)


def make_plan(*, since=None, until=None, tz=None, backend=None, audit_event=None,
              audit_class=None, passwd=None, group=None, dslocal=None, **selection) -> Plan:
    """Check the options (a user mistake raises a :class:`~forensics.errors.KnoxError` here,
    before anything is read) and turn them into one :class:`Plan`."""
    from .collection import selection as selecting, timewords

    backend = backends.choose(backend)
    tables = Tables.from_files(audit_event, audit_class, passwd, group, dslocal)
    zone = timewords.resolve_zone(tz)
    if isinstance(since, str) or isinstance(until, str):
        s, u = timewords.window(since if isinstance(since, str) else None,
                                until if isinstance(until, str) else None, tz=zone)
        since = s if isinstance(since, str) else since
        until = u if isinstance(until, str) else until
    sel = selecting.Selection.from_options(tables=tables, tz=zone, **selection)
    window = Window.of(since, until) & Window(*(sel.window_ms() or (None, None)))
    events = sel.prefilter().get("events")
    return Plan(backend, tables, window, sel.expr(),
                None if events is None else frozenset(events))
