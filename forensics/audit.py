"""``Audit``, ``load`` and ``scan``: the glue from files to frames.

Files are read one at a time (two at a time with the C core, which releases the GIL), each
decoded with the window and event pre-checks applied at the header, filtered by the selection,
and only what was selected is kept: memory follows the selection, not the input.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Iterator

import polars as pl

from . import schema
from .bsm import backends, decode
from .bsm.tokens import TOKENS
from .collection import trails
from .explore import Explore
from .tables import Tables

__all__ = ["Audit", "Tables", "load", "scan", "derive_records"]


#: auditd names the next file a moment before the kernel switches to it, so a few records can
#: fall just outside a file's name span: widen the span by this much before skipping a file.
_NAME_SLACK = timedelta(seconds=5)


def _ms(t: datetime | None) -> int | None:
    return None if t is None else int(t.timestamp() * 1000)


def derive_records(core: pl.DataFrame, source: str, tables: Tables) -> pl.DataFrame:
    """Core columns + source + event table columns, in schema.RECORDS order."""
    # Element-wise lookups in the (small) event table: a join would gather (copy) every column
    # of the frame, and a horizontal concat would rechunk it.
    table = tables.event_frame
    keys = table["event"]

    def lookup(column: str) -> pl.Expr:
        return pl.col("event").replace_strict(keys, table[column], default=None,
                                              return_dtype=schema.RECORDS[column]).alias(column)

    classes = (core.select("event")
               .join(table.select("event", "event_classes"), on="event", how="left",
                     maintain_order="left")
               .get_column("event_classes"))
    frame = core.with_columns(
        pl.lit(source, pl.String).alias("source"), classes,
        *(lookup(c) for c in ("event_name", "event_description", "event_class_mask")))
    return frame.select(list(schema.RECORDS.names()))


@dataclass
class _FileResult:
    trail: trails.TrailFile
    records: pl.DataFrame
    errors: list
    seen: int
    size: int


def _decode_file(trail, backend, since_ms, until_ms, events, tables, selection) -> _FileResult:
    buf = trail.read_bytes()
    size = len(buf)
    result = backends.decode_records(buf, backend, since_ms=since_ms, until_ms=until_ms,
                                     events=events, consume=True)
    del buf
    errors, seen = result.errors, result.records_seen
    frame = derive_records(result.records, trail.path, tables)
    if selection is not None:
        frame = frame.filter(selection)
        if frame.height < result.records.height:
            frame = _compact(frame)
    del result                   # the whole file's frame goes now, not when the caller is done
    _give_back_memory()
    return _FileResult(trail, frame, errors, seen, size)


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of a filtered frame that owns only its own strings.

    Polars' string views in a filtered frame keep pointing into the whole file's string
    buffers; a round trip through plain Arrow strings copies just the rows kept, so memory
    follows the selection and not the input.
    """
    if frame.is_empty():
        return frame.clear()
    table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    return pl.from_arrow(table).cast(dict(frame.schema))


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


@dataclass
class Audit(Explore):
    """Everything read from a set of trails, as Polars frames."""
    records: pl.DataFrame
    errors: pl.DataFrame
    sources: pl.DataFrame
    tables: Tables
    backend: str
    files: list = field(default_factory=list, repr=False)

    @cached_property
    def tokens(self) -> pl.DataFrame:
        """One row per token of every selected record (decoded by the token table)."""
        return self.tokens_at(self.records.select("source", "offset").iter_rows())

    def tokens_at(self, keys) -> pl.DataFrame:
        """The ``tokens`` rows of just the records named by ``(source, offset)`` pairs.

        Only the trail files named are read again; the report uses this to show the records
        its evidence sentences cite without decoding every token of the selection.
        """
        wanted: dict[str, set] = {}
        for src, off in keys:
            wanted.setdefault(src, set()).add(off)
        rows = []
        for trail in self.files:
            offsets = wanted.get(trail.path)
            if not offsets:
                continue
            buf = trail.read_bytes()
            for item in decode.frame(buf):
                if item.kind != "record" or item.offset not in offsets:
                    continue
                toks, _damage = decode.walk(buf, item.offset, item.offset + item.length - 7)
                end = item.offset + item.length
                toks.append(decode.Token(0x13, end - 7, 7, (0xB105, item.length)))
                for index, tok in enumerate(toks):
                    spec = TOKENS[tok.id]
                    rows.append((trail.path, item.offset, index, tok.offset, tok.length, tok.id,
                                 spec.name, _fields_json(spec, tok.values),
                                 bytes(buf[tok.offset:tok.offset + tok.length])))
        return pl.DataFrame(rows, schema=schema.TOKENS, orient="row")

    @cached_property
    def processes(self) -> pl.DataFrame:
        from .model import processes
        return processes.build(self.records)

    @cached_property
    def events(self) -> pl.DataFrame:
        from .model import attribution
        return attribution.events(self.records, self.processes, self.tables.users)

    @cached_property
    def sessions(self) -> pl.DataFrame:
        from .model import attribution
        return attribution.sessions(self.records, self.tables.users)


def _jsonable(value):
    if isinstance(value, bytes):
        from .text import decode_bytes
        return decode_bytes(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _fields_json(spec, values) -> str:
    return json.dumps({name: _jsonable(v) for name, v in zip(spec.field_names, values)},
                      ensure_ascii=False)


def _iter_results(paths, *, since, until, backend, tables, selection, prefilter
                  ) -> Iterator[tuple[trails.TrailFile | trails.Skipped, _FileResult | None, str | None]]:
    files, skipped = trails.collect(*paths)
    for s in skipped:
        yield s, None, s.reason
    since_ms, until_ms = _ms(since), _ms(until)
    events = prefilter.get("events") if prefilter else None
    todo = []
    for t in files:
        if trails.in_window(t, since, until, slack=_NAME_SLACK):
            todo.append(t)
        else:
            yield t, None, "outside the time window (by its name)"
    workers = 2 if backend == "c" and len(todo) > 1 else 1

    def work(t):
        return _decode_file(t, backend, since_ms, until_ms, events, tables, selection)

    if workers == 1:
        for t in todo:
            yield t, work(t), None
    else:
        with ThreadPoolExecutor(workers) as pool:
            for t, res in zip(todo, pool.map(work, todo)):
                yield t, res, None


def _source_row(item, res: _FileResult | None, reason: str | None) -> dict:
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


def load(*paths, since=None, until=None, tz=None, backend: str | None = None,
         audit_event=None, audit_class=None, passwd=None, group=None, dslocal=None,
         **selection) -> Audit:
    """Read trails, directories like /var/audit, or archives into an :class:`Audit`.

    ``since``/``until`` take what ``--since/--until`` take (str) or aware datetimes;
    ``selection`` takes the auditreduce-style options of :mod:`forensics.filters`.
    """
    from .collection import selection as filters, timewords

    backend = backends.choose(backend)
    tables = Tables.from_files(audit_event, audit_class, passwd, group, dslocal)
    zone = timewords.resolve_zone(tz)
    if isinstance(since, str) or isinstance(until, str):
        s, u = timewords.window(since if isinstance(since, str) else None,
                                until if isinstance(until, str) else None, tz=zone)
        since = s if isinstance(since, str) else since
        until = u if isinstance(until, str) else until
    sel = filters.Selection.from_options(tables=tables, tz=zone, **selection)
    expr = sel.expr()
    since, until = _intersect(since, until, sel.window_ms())
    frames, errors, sources, files = [], [], [], []
    for item, res, reason in _iter_results(paths, since=since, until=until, backend=backend,
                                           tables=tables, selection=expr,
                                           prefilter=sel.prefilter()):
        sources.append(_source_row(item, res, reason))
        if res is not None:
            files.append(item)
            frames.append(res.records)
            errors.extend((item.path, o, n, r) for o, n, r in res.errors)
    records = pl.concat(frames) if frames else schema.empty(schema.RECORDS)
    source_frame = (_with_gaps(pl.DataFrame(sources, schema=schema.SOURCES)) if sources
                    else schema.empty(schema.SOURCES))
    return Audit(
        records=records,
        errors=pl.DataFrame(errors, schema=schema.ERRORS, orient="row"),
        sources=source_frame,
        tables=tables,
        backend=backend,
        files=files,
    )


def _with_gaps(sources: pl.DataFrame) -> pl.DataFrame:
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


def _intersect(since, until, window_ms):
    """Narrow the decoder's window by the selection's -a/-b/-d window (both half-open)."""
    if not window_ms:
        return since, until
    lo, hi = window_ms
    if lo is not None:
        lo = datetime.fromtimestamp(lo / 1000, timezone.utc)
        since = lo if since is None else max(since, lo)
    if hi is not None:
        hi = datetime.fromtimestamp(hi / 1000, timezone.utc)
        until = hi if until is None else min(until, hi)
    return since, until


def scan(*paths, **options) -> pl.LazyFrame:
    """The lazy twin of :func:`load`: the records as a LazyFrame, one file decoded at a time.

    Nothing is read until the frame is collected; each trail file is then decoded, filtered by
    the selection and the window, and handed on, so a streaming collect or a ``sink_parquet``
    holds one file's selection at a time.
    """
    from .collection import trails as _trails

    files, _skipped = _trails.collect(*paths)
    if not files:
        return schema.empty(schema.RECORDS).lazy()

    def one(path: str):
        return lambda: load(path, **options).records

    parts = [pl.defer(one(t.path), schema=schema.RECORDS) for t in files
             if "!" not in t.path]
    if len(parts) != len(files):        # members of an archive: read the archive as a whole
        return pl.defer(lambda: load(*paths, **options).records, schema=schema.RECORDS)
    return pl.concat(parts, how="vertical")
