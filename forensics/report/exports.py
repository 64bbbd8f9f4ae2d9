"""The frames as files: Parquet, CSV and JSON Lines, one file per frame, and back.

An export folder holds ``records``, ``tokens``, ``processes``, ``events``, ``sessions``,
``sources`` and ``errors`` (``<frame>.parquet``, ``.csv`` or ``.jsonl``) and ``manifest.json``,
which names the format, each file, its row count and its columns with their Polars types.

Parquet keeps every type natively (lists, structs, binary, times); reading it back gives frames
that are ``.equals`` to the ones written. JSON Lines and CSV cannot, so values are written by
these rules, and :func:`read_frame` applies them backwards using the manifest:

* times (``Datetime``): ISO 8601 in UTC with the column's precision and a ``Z``
  (``2024-03-15T08:00:00.403Z``);
* durations: an integer count of the column's unit (milliseconds here);
* binary (``tokens.raw``): lowercase hexadecimal;
* lists and structs: native JSON arrays and objects in JSON Lines; in CSV the cell holds that
  same JSON text (the rules above apply inside it);
* null: JSON ``null``; in CSV an empty cell, while an empty string is written ``""``;
* strings are written as the frames hold them: bytes of the evidence that were not valid UTF-8
  stay mapped to the private-use characters U+EF80..U+EFFF (``forensics.text``), so
  ``forensics.text.encode_text`` still gives the original bytes back.

Frames are written in slices of :data:`CHUNK_ROWS` rows, one file at a time, so an export holds
the frames plus one encoded slice; tokens, unless already decoded, are decoded trail file by
trail file, :data:`TOKEN_BATCH` records at a time.
Reads frames only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

__all__ = ["FRAMES", "FORMATS", "CHUNK_ROWS", "write", "read_frame", "dtype_to_json",
           "dtype_from_json", "encode", "decode"]

#: Frames an export holds, in the order they are written.
FRAMES = ("records", "tokens", "processes", "events", "sessions", "sources", "errors")
#: Table formats (one file per frame); ``timesketch`` lives in :mod:`.timesketch`.
FORMATS = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}
CHUNK_ROWS = 100_000
#: Records whose tokens are decoded at a time (each batch re-frames its trail file once).
TOKEN_BATCH = 25_000
MANIFEST = "manifest.json"

#: progress(frame, rows written so far, rows in the frame or None when not known yet)
Progress = Callable[[str, int, "int | None"], None]

_SIMPLE = {name: getattr(pl, name) for name in (
    "Boolean", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
    "Float32", "Float64", "String", "Binary", "Date", "Null")}
#: Polars' JSON reader takes these only inside lists and structs; at the top: read wider, cast.
_SMALL_INTS = {small: pl.Int64() for small in (pl.Int8, pl.Int16, pl.UInt8, pl.UInt16)}
_FRACTION = {"ms": "%.3f", "us": "%.6f", "ns": "%.9f"}


# --- types in the manifest ------------------------------------------------------------------

def dtype_to_json(dtype: pl.DataType):
    """A Polars type as plain JSON (a name, or an object for the nested and timed types)."""
    if isinstance(dtype, pl.Datetime):
        return {"Datetime": [dtype.time_unit, dtype.time_zone]}
    if isinstance(dtype, pl.Duration):
        return {"Duration": dtype.time_unit}
    if isinstance(dtype, pl.List):
        return {"List": dtype_to_json(dtype.inner)}
    if isinstance(dtype, pl.Struct):
        return {"Struct": [[f.name, dtype_to_json(f.dtype)] for f in dtype.fields]}
    name = type(dtype).__name__ if not isinstance(dtype, type) else dtype.__name__
    if name not in _SIMPLE:
        raise ValueError(f"no export rule for the type {dtype}")
    return name


def dtype_from_json(value) -> pl.DataType:
    """The inverse of :func:`dtype_to_json` (no evaluation of text: unknown names fail)."""
    if isinstance(value, str):
        if value not in _SIMPLE:
            raise ValueError(f"unknown type in manifest: {value!r}")
        return _SIMPLE[value]()
    (kind, arg), = value.items()
    if kind == "Datetime":
        return pl.Datetime(arg[0], arg[1])
    if kind == "Duration":
        return pl.Duration(arg)
    if kind == "List":
        return pl.List(dtype_from_json(arg))
    if kind == "Struct":
        return pl.Struct({name: dtype_from_json(t) for name, t in arg})
    raise ValueError(f"unknown type in manifest: {kind!r}")


# --- values: frame types <-> the JSON/CSV "wire" types ---------------------------------------

def _needs_rule(dtype: pl.DataType) -> bool:
    if isinstance(dtype, (pl.Datetime, pl.Duration, pl.Binary)):
        return True
    if isinstance(dtype, pl.List):
        return _needs_rule(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(_needs_rule(f.dtype) for f in dtype.fields)
    return False


def wire_dtype(dtype: pl.DataType) -> pl.DataType:
    """The type a column has in JSON: times and binary as strings, durations as integers."""
    if isinstance(dtype, (pl.Datetime, pl.Binary)):
        return pl.String()
    if isinstance(dtype, pl.Duration):
        return pl.Int64()
    if isinstance(dtype, pl.List):
        return pl.List(wire_dtype(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: wire_dtype(f.dtype) for f in dtype.fields})
    return dtype


def _time_format(dtype: pl.Datetime) -> str:
    return "%Y-%m-%dT%H:%M:%S" + _FRACTION[dtype.time_unit] + ("Z" if dtype.time_zone else "")


def encode(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """An expression turning values of ``dtype`` into their JSON form (see the module rules)."""
    if not _needs_rule(dtype):
        return expr
    if isinstance(dtype, pl.Datetime):
        utc = expr.dt.convert_time_zone("UTC") if dtype.time_zone else expr
        return utc.dt.to_string(_time_format(dtype))
    if isinstance(dtype, pl.Duration):
        return expr.cast(pl.Int64)
    if isinstance(dtype, pl.Binary):
        return expr.bin.encode("hex")
    if isinstance(dtype, pl.List):
        return expr.list.eval(encode(pl.element(), dtype.inner))
    fields = [encode(expr.struct.field(f.name), f.dtype).alias(f.name) for f in dtype.fields]
    return pl.when(expr.is_null()).then(None).otherwise(pl.struct(fields))


def decode(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The inverse of :func:`encode`: values in their JSON form back to ``dtype``."""
    if not _needs_rule(dtype):
        return expr.cast(dtype)
    if isinstance(dtype, pl.Datetime):
        naive = expr.str.strptime(pl.Datetime(dtype.time_unit), _time_format(dtype))
        if not dtype.time_zone:
            return naive
        return naive.dt.replace_time_zone("UTC").dt.convert_time_zone(dtype.time_zone)
    if isinstance(dtype, pl.Duration):
        return expr.cast(pl.Int64).cast(dtype)
    if isinstance(dtype, pl.Binary):
        return expr.str.decode("hex")
    if isinstance(dtype, pl.List):
        return expr.list.eval(decode(pl.element(), dtype.inner)).cast(dtype)
    fields = [decode(expr.struct.field(f.name), f.dtype).alias(f.name) for f in dtype.fields]
    return pl.when(expr.is_null()).then(None).otherwise(pl.struct(fields)).cast(dtype)


def _json_text(expr: pl.Expr) -> pl.Expr:
    """A list or struct value as the JSON text of that value (null stays null)."""
    wrapped = pl.struct(expr.alias("v")).struct.json_encode()     # {"v":<value>}
    value = wrapped.str.slice(5, wrapped.str.len_chars() - 6)
    return pl.when(expr.is_null()).then(None).otherwise(value)


def to_wire(frame: pl.DataFrame, csv: bool = False) -> pl.DataFrame:
    """``frame`` with every column in its JSON form; for CSV, nested columns as JSON text."""
    columns = []
    for name, dtype in frame.schema.items():
        expr = encode(pl.col(name), dtype)
        if csv and isinstance(dtype, (pl.List, pl.Struct)):
            expr = _json_text(expr)
        columns.append(expr.alias(name))
    return frame.select(columns)


# --- writing ------------------------------------------------------------------------------

def _slices(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    if frame.height == 0:
        yield frame
    for start in range(0, frame.height, CHUNK_ROWS):
        yield frame.slice(start, CHUNK_ROWS)


def parts(audit, name: str) -> Iterator[pl.DataFrame]:
    """The frame ``name`` of ``audit`` in slices; tokens not yet decoded come file by file."""
    if name == "tokens" and "tokens" not in vars(audit) and getattr(audit, "files", None):
        keys = audit.records.select("source", "offset")
        if keys.height == 0:
            yield audit.tokens_at([])
        for _source, offsets in keys.group_by("source", maintain_order=True):
            for start in range(0, offsets.height, TOKEN_BATCH):
                batch = offsets.slice(start, TOKEN_BATCH)
                yield from _slices(audit.tokens_at(batch.iter_rows()))
        return
    yield from _slices(getattr(audit, name))


class _Sink:
    """One frame's file, written slice by slice."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self.rows, self.schema = 0, None
        self._writer = None
        self._fh = None

    def add(self, frame: pl.DataFrame) -> None:
        if self.schema is None:
            self.schema = frame.schema
        if self.fmt == "parquet":
            self._parquet(frame)
        else:
            if self._fh is None:
                self._fh = open(self.path, "wb")
            wire = to_wire(frame, csv=self.fmt == "csv")
            if self.fmt == "csv":
                wire.write_csv(self._fh, include_header=self.rows == 0 and not self._fh.tell())
            elif wire.height:
                wire.write_ndjson(self._fh)
        self.rows += frame.height

    def _parquet(self, frame: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = frame.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._fh is not None:
            self._fh.close()


def write(audit, folder, fmt: str = "parquet", *, frames=FRAMES,
          progress: Progress | None = None) -> dict[str, Path]:
    """Write ``frames`` of ``audit`` into ``folder`` as ``fmt`` (parquet, csv or jsonl).

    Returns {frame: path}. ``manifest.json`` is written last: it lists each file, its rows and
    its columns' types, which :func:`read_frame` needs for CSV and JSON Lines.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    unknown = [name for name in frames if name not in FRAMES]
    if unknown:
        raise ValueError(f"unknown frame {unknown[0]!r}: one of {', '.join(FRAMES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": fmt, "encoding": _ENCODING[fmt], "frames": {}}
    written = {}
    for name in frames:
        sink = _Sink(folder / f"{name}{FORMATS[fmt]}", fmt)
        total = None if name == "tokens" else getattr(audit, name).height
        try:
            for part in parts(audit, name):
                sink.add(part)
                if progress is not None:
                    progress(name, sink.rows, total)
        finally:
            sink.close()
        manifest["frames"][name] = {
            "file": sink.path.name, "rows": sink.rows,
            "columns": [[c, dtype_to_json(t)] for c, t in sink.schema.items()]}
        written[name] = sink.path
    (folder / MANIFEST).write_text(json.dumps(_with_version(manifest), indent=1) + "\n")
    return written


def _with_version(manifest: dict) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        manifest = {"knox_report": version("knox-report"), **manifest}
    except PackageNotFoundError:
        pass
    return manifest


_COMMON = ("times ISO 8601 UTC with Z; durations integer ms; binary lowercase hex; "
           "strings keep the U+EF80..U+EFFF mapping of invalid UTF-8 bytes (forensics.text)")
_ENCODING = {
    "parquet": "native Parquet types",
    "jsonl": "one JSON object per row; lists and structs native; " + _COMMON,
    "csv": "RFC 4180 quoting, LF line ends, a header; lists and structs as JSON text; "
           "null an empty cell, empty string \"\"; " + _COMMON,
}


# --- reading back -------------------------------------------------------------------------

def manifest(folder) -> dict:
    """The manifest of an export folder."""
    return json.loads((Path(folder) / MANIFEST).read_text())


def read_frame(folder, name: str) -> pl.DataFrame:
    """One frame of an export folder, in any of the table formats, with its original types."""
    folder = Path(folder)
    info = manifest(folder)
    entry = info["frames"][name]
    schema = pl.Schema([(c, dtype_from_json(t)) for c, t in entry["columns"]])
    path = folder / entry["file"]
    fmt = info["format"]
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "jsonl":
        wire = pl.Schema([(c, _SMALL_INTS.get(type(t), wire_dtype(t))) for c, t in schema.items()])
        raw = (pl.read_ndjson(path, schema=wire) if entry["rows"]
               else pl.DataFrame(schema=wire))
        return raw.select([decode(pl.col(c), t).alias(c) for c, t in schema.items()])
    raw = (pl.read_csv(path, infer_schema=False)
           if entry["rows"] else pl.DataFrame(schema={c: pl.String for c in schema}))
    columns = []
    for c, t in schema.items():
        expr = pl.col(c)
        if isinstance(t, (pl.List, pl.Struct)):
            expr = expr.str.json_decode(wire_dtype(t))
        elif isinstance(t, pl.Boolean):
            expr = pl.when(expr == "true").then(True).when(expr == "false").then(False)
        columns.append(decode(expr, t).alias(c))
    return raw.select(columns)
