"""``Audit``, ``load`` and ``scan``: the public facade over the pipeline.

``load`` runs :mod:`forensics.pipeline` over every file and keeps the selected records; the
derived frames (tokens, processes, events, sessions) are built on first use and cached on the
``Audit`` itself (never in a module), so two ``Audit`` objects never share state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from . import pipeline, pushdown, schema
from .bsm import decode
from .errors import CollectionError, SelectionError
from .bsm.tokens import TOKENS
from .explore import Explore
from .pipeline import derive_records
from .tables import Tables

__all__ = ["Audit", "Tables", "load", "scan", "derive_records"]


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

        Only those records' bytes are read again (each file streamed once, from the first to
        the last record wanted); the report uses this to show the records its evidence sentences
        cite without decoding every token of the selection.
        """
        wanted: dict[str, set] = {}
        for src, off in keys:
            wanted.setdefault(src, set()).add(off)
        rows: list = []
        for trail in self.files:
            offsets = wanted.get(trail.path)
            if offsets:
                for offset, record in _records_at(trail, self._spans(trail.path, offsets)):
                    rows.extend(_token_rows(trail.path, offset, record))
        return pl.DataFrame(rows, schema=schema.TOKENS, orient="row")

    def _spans(self, source: str, offsets: set) -> list[tuple[int, int]]:
        """(offset, length) of the records of ``source`` at ``offsets``, by offset."""
        rec = self.records
        found = (rec.lazy().filter((pl.col("source") == source)
                                   & pl.col("offset").is_in(sorted(offsets)))
                 .select("offset", *(["length"] if "length" in rec.columns else []))
                 .unique("offset").sort("offset").collect())
        if "length" in found.columns:
            return [(int(o), int(n)) for o, n in found.iter_rows()]
        return [(int(o), 0) for o in found.get_column("offset")]

    @cached_property
    def ordered(self) -> pl.DataFrame:
        """The records in the global order processes, events and sessions share
        (``forensics.model.order``), computed once per Audit."""
        from .model import order
        return order.order(self.records)

    @cached_property
    def processes(self) -> pl.DataFrame:
        from .model import processes
        return processes.build(self.records, ordered=self.ordered)

    @cached_property
    def events(self) -> pl.DataFrame:
        from .model import attribution
        return attribution.events(self.records, self.processes, self.tables.users,
                                  ordered=self.ordered)

    @cached_property
    def attributed(self) -> pl.DataFrame:
        """``events`` without its ``evidence`` column (a sentence per record, the largest
        column): what the report reads. It is ``events`` itself once that has been built."""
        if "events" in vars(self):
            return self.events
        from .model import attribution
        return attribution.events(self.records, self.processes, self.tables.users,
                                  ordered=self.ordered, evidence=False)

    @cached_property
    def sessions(self) -> pl.DataFrame:
        from .model import sessions
        return sessions.sessions(self.records, self.tables.users, ordered=self.ordered)

    def settle(self) -> None:
        """Build ``processes``, ``attributed`` and ``sessions``, then let go of ``ordered``, the
        record order they share (a few columns for every record, computed again if asked for):
        what a report keeps while it is written."""
        for name in ("processes", "attributed", "sessions"):
            getattr(self, name)
        vars(self).pop("ordered", None)


#: records are read in pieces of at most this many bytes while skipping to the next one wanted
_SKIP = 1 << 20


def _records_at(trail, spans: list[tuple[int, int]]):
    """(offset, bytes) of each record span of ``trail``, streamed in order: a plain file seeks, a
    compressed one is decompressed and skipped up to each record. A span of length 0 (unknown)
    is framed from the header's size. Stops quietly where the content ends or breaks (that
    damage is already in ``errors``)."""
    try:
        stream = trail.open()
    except (OSError, ValueError, CollectionError):
        return
    with stream:
        pos = 0
        try:
            for offset, length in spans:
                if offset < pos:
                    continue
                if stream.seekable():
                    stream.seek(offset)
                else:
                    while pos < offset:
                        skipped = len(stream.read(min(_SKIP, offset - pos)))
                        if not skipped:
                            return
                        pos += skipped
                head = stream.read(5) if length == 0 else b""
                if length == 0:
                    if len(head) < 5:
                        return
                    length = int.from_bytes(head[1:5], "big")
                record = head + stream.read(max(length - len(head), 0))
                pos = offset + len(record)
                if len(record) < length:
                    return
                yield offset, record
        except (OSError, ValueError, EOFError, CollectionError):
            return


def _token_rows(source: str, offset: int, record: bytes) -> list[tuple]:
    """The ``tokens`` rows of one record held in ``record`` (offsets made absolute)."""
    length = len(record)
    toks, _damage = decode.walk(record, 0, length - 7)
    toks.append(decode.Token(0x13, length - 7, 7, (0xB105, length)))
    rows = []
    for index, tok in enumerate(toks):
        spec = TOKENS[tok.id]
        raw = bytes(record[tok.offset:tok.offset + tok.length])
        rows.append((source, offset, index, offset + tok.offset, tok.length, tok.id, spec.name,
                     _fields_json(spec, tok.values), raw))
    return rows


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


#: Frames of this many files are joined as they come: a frame's fixed cost (about 200 KB for
#: 70 columns) would otherwise make 20,000 tiny files cost gigabytes.
_CONCAT_EVERY = 64


#: the records columns ``load(columns=...)`` always keeps: they name and place a record
IDENTITY = ("source", "offset", "time")


def load(*paths, since=None, until=None, tz=None, backend: str | None = None,
         audit_event=None, audit_class=None, passwd=None, group=None, dslocal=None,
         columns=None, **selection) -> Audit:
    """Read trails, directories like /var/audit, or archives into an :class:`Audit`.

    ``since``/``until`` take what ``--since/--until`` take (str) or aware datetimes;
    ``selection`` takes the auditreduce-style options of
    :class:`forensics.collection.selection.Selection` by their long names. ``columns``
    (default: all) keeps only these records columns, plus ``source``, ``offset`` and ``time``;
    the others are never decoded, which saves time and memory (the report asks for the ones it
    reads).
    """
    if columns is not None:
        unknown = sorted(set(columns) - set(schema.RECORDS.names()))
        if unknown:
            raise SelectionError(f"no records column {', '.join(unknown)}")
        wanted = set(columns) | set(IDENTITY)
        columns = [c for c in schema.RECORDS.names() if c in wanted]
    plan = pipeline.make_plan(since=since, until=until, tz=tz, backend=backend,
                              audit_event=audit_event, audit_class=audit_class, passwd=passwd,
                              group=group, dslocal=dslocal, **selection)
    frames, errors, sources, files = [], [], [], []
    for item, res, reason in _results(paths, plan, columns=columns):
        sources.append(pipeline.source_row(item, res, reason))
        damage = getattr(item, "damage", None)
        if res is None and damage:      # an archive that breaks between members
            errors.append((item.path, *damage))
        if res is not None:
            files.append(item)
            frames.append(res.records)
            errors.extend((item.path, o, n, r) for o, n, r in res.errors)
            if len(frames) >= _CONCAT_EVERY:    # many small files: one frame, not thousands
                frames = [pl.concat(frames, rechunk=True)]
    empty = schema.empty(schema.RECORDS)
    records = (pl.concat(frames) if frames
               else empty if columns is None else empty.select(columns))
    source_frame = (pipeline.with_gaps(pl.DataFrame(sources, schema=schema.SOURCES)) if sources
                    else schema.empty(schema.SOURCES))
    return Audit(
        records=records,
        errors=pl.DataFrame(errors, schema=schema.ERRORS, orient="row"),
        sources=source_frame,
        tables=plan.tables,
        backend=plan.backend,
        files=files,
    )


def _results(paths, plan, *, window=None, events=None, predicate=None, columns=None):
    window = plan.window if window is None else window
    expr = plan.selection
    if predicate is not None:
        expr = predicate if expr is None else expr & predicate
    return pipeline.iter_results(paths, since=window.since, until=window.until,
                                 backend=plan.backend, tables=plan.tables, selection=expr,
                                 prefilter={"events": events or plan.events}, columns=columns)


def _numbers_named(tables):
    frame = tables.event_frame

    def numbers(name: str) -> list[int]:
        return frame.filter(pl.col("event_name") == name).get_column("event").to_list()
    return numbers


def scan(*paths, **options) -> pl.LazyFrame:
    """The lazy twin of :func:`load`: the records as a LazyFrame, decoded file by file.

    The options are checked at once (a mistake raises here); nothing is read until the frame is
    collected. It is a Polars IO source: the query's projection is kept per file, and its
    predicate is applied per file; where the predicate bounds ``time`` or names ``event``
    values, those reach the decoder's header pre-checks (and files whose names put them
    outside the time bounds are not opened). A streaming collect or a ``sink_parquet`` holds
    one file's selection at a time.
    """
    from polars.io.plugins import register_io_source

    plan = pipeline.make_plan(**options)

    def source(with_columns, predicate, n_rows, _batch_size):
        window, events = plan.window, plan.events
        if predicate is not None:
            bounds, wanted = pushdown.bounds(predicate, _numbers_named(plan.tables))
            window = window & bounds
            if wanted is not None:
                events = wanted if events is None else events & wanted
        left = n_rows
        for _item, res, _reason in _results(paths, plan, window=window, events=events,
                                            predicate=predicate, columns=with_columns):
            if res is None or res.records.is_empty():
                continue
            frame = res.records if left is None else res.records.head(left)
            yield frame
            if left is not None:
                left -= frame.height
                if left <= 0:
                    return

    return register_io_source(source, schema=schema.RECORDS, explain_name="knox-report",
                              explain_detail=f"{len(paths)} path(s)")
