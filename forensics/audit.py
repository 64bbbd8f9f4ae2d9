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
            buf, _damage = trail.read()      # the good bytes (damage is in errors)
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
    def sessions(self) -> pl.DataFrame:
        from .model import sessions
        return sessions.sessions(self.records, self.tables.users, ordered=self.ordered)


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


def load(*paths, since=None, until=None, tz=None, backend: str | None = None,
         audit_event=None, audit_class=None, passwd=None, group=None, dslocal=None,
         **selection) -> Audit:
    """Read trails, directories like /var/audit, or archives into an :class:`Audit`.

    ``since``/``until`` take what ``--since/--until`` take (str) or aware datetimes;
    ``selection`` takes the auditreduce-style options of
    :class:`forensics.collection.selection.Selection` by their long names.
    """
    plan = pipeline.make_plan(since=since, until=until, tz=tz, backend=backend,
                              audit_event=audit_event, audit_class=audit_class, passwd=passwd,
                              group=group, dslocal=dslocal, **selection)
    frames, errors, sources, files = [], [], [], []
    for item, res, reason in _results(paths, plan):
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
    records = pl.concat(frames) if frames else schema.empty(schema.RECORDS)
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
