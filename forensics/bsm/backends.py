"""Decoding one trail with the chosen backend (``choice.py`` chooses): the C core or the
pure-Python decoder, both giving the same ``Result``."""

from __future__ import annotations

import gc
import itertools
from typing import TYPE_CHECKING

import polars as pl

from . import decode as pydecode
from .choice import VALID, c_available, choose
from . import rows
from .decode import core_columns
from ..errors import BackendError
from ..schema import CORE, UTC_MS, Result

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["VALID", "BackendError", "choose", "c_available", "core_columns", "decode_records",
           "Result"]


def _arrow_column(name: str, values: list) -> pa.Array:
    """One core column from Python values, through Arrow (much faster for nested lists)."""
    import pyarrow as pa        # the Python backend only: the C path never imports pyarrow
    if name == "args":
        lengths = [len(v) for v in values]
        flat = [a for v in values for a in v]
        numbers, vals, texts = zip(*flat) if flat else ((), (), ())
        struct = pa.StructArray.from_arrays(
            [pa.array(numbers, pa.uint8()), pa.array(vals, pa.uint64()),
             pa.array(texts, pa.large_string())], names=["number", "value", "text"])
        offsets = pa.array([0, *itertools.accumulate(lengths)], pa.int64())
        return pa.LargeListArray.from_arrays(offsets, struct)
    if name == "time":
        return pa.array(values, pa.int64())
    return pl.Series(name, values, dtype=CORE[name]).to_arrow() if CORE[name] != pl.List(
        pl.String) else pa.array(values, pa.large_list(pa.large_string()))


def _batch_frame(columns: dict) -> pl.DataFrame:
    import pyarrow as pa
    table = pa.table({name: _arrow_column(name, values) for name, values in columns.items()})
    return pl.from_arrow(table).with_columns(pl.col("time").cast(UTC_MS)).cast(dict(CORE))


def _python(buf, consume: bool = False, columns=None, **opts) -> Result:
    names = None if columns is None else core_columns(columns)    # unknown names fail first
    # Batches of rows become Arrow tables as they come, so only one batch of Python objects
    # is alive at a time.
    decoder = pydecode.Decoder(buf, **opts)
    # The rows are lists and tuples without cycles: the cyclic collector would only walk them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        frames = [_batch_frame(batch) for batch in decoder.batches()]
    finally:
        if collecting:
            gc.enable()
    if consume and isinstance(buf, bytearray):
        decoder.buf = None
        buf.clear()
    frame = pl.concat(frames, rechunk=False) if frames else _batch_frame(rows.columns([]))
    if names is not None:
        frame = frame.select(names)
    return Result(frame, decoder.errors, decoder.records_seen, decoder.file_tokens)


def _c(buf, **opts) -> Result:
    from . import cdecode
    return cdecode.decode(buf, **opts)


def decode_records(buf, backend: str | None = None, *, since_ms: int | None = None,
                   until_ms: int | None = None, events: frozenset | None = None,
                   consume: bool = False, columns=None) -> Result:
    """Decode one trail held in memory with the chosen backend.

    ``consume=True``: ``buf`` is a bytearray nobody needs afterwards; it is emptied as soon as
    the records are decoded, so the input and the frame are not held together.
    ``columns``: None (every ``schema.CORE`` column) or the names to keep, in ``CORE`` order;
    the C core does not produce the others (unknown names: ValueError).
    """
    run = _c if choose(backend) == "c" else _python
    return run(buf, since_ms=since_ms, until_ms=until_ms, events=events, consume=consume,
               columns=columns)
