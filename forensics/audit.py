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

from . import pipeline, schema
from .bsm import backends, decode
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
    since, until = pipeline.intersect(since, until, sel.window_ms())
    frames, errors, sources, files = [], [], [], []
    for item, res, reason in pipeline.iter_results(paths, since=since, until=until, backend=backend,
                                           tables=tables, selection=expr,
                                           prefilter=sel.prefilter()):
        sources.append(pipeline.source_row(item, res, reason))
        if res is not None:
            files.append(item)
            frames.append(res.records)
            errors.extend((item.path, o, n, r) for o, n, r in res.errors)
    records = pl.concat(frames) if frames else schema.empty(schema.RECORDS)
    source_frame = (pipeline.with_gaps(pl.DataFrame(sources, schema=schema.SOURCES)) if sources
                    else schema.empty(schema.SOURCES))
    return Audit(
        records=records,
        errors=pl.DataFrame(errors, schema=schema.ERRORS, orient="row"),
        sources=source_frame,
        tables=tables,
        backend=backend,
        files=files,
    )


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
