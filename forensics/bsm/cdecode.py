"""The C decoder backend: ``csrc/bsm.c`` fills column buffers, this turns them into one frame.

The C core (``forensics.bsm._cbsm``) frames the trail, walks every record and writes one row per
record into growable column buffers, exactly as ``forensics.bsm.decode`` does in Python. The
buffers are wrapped as Arrow arrays without copying, one column at a time (``pa.foreign_buffer``
keeps a column's C memory alive until the last Arrow buffer that uses it is gone, then
``bsm_free_column`` frees it), and become a frame with exactly ``schema.CORE``. No Python code
runs per record.
"""

from __future__ import annotations


import numpy as np
import polars as pl
import pyarrow as pa

from ._cbsm import ffi, lib
from .coptions import options as _options
from ..schema import CORE, DAMAGE_REASONS, Result

__all__ = ["decode", "text_map"]


_NAMES = list(CORE.names())
_REASONS = [ffi.string(lib.bsm_reason_name(i)).decode() for i in range(lib.BSM_NREASONS)]
if _REASONS != list(DAMAGE_REASONS):
    raise ImportError(f"C damage reasons {_REASONS} differ from schema.DAMAGE_REASONS")
if lib.bsm_num_columns() != len(_NAMES):
    raise ImportError("the C core's columns differ from schema.CORE")

_ARG_TYPE = pa.struct([("number", pa.uint8()), ("value", pa.uint64()), ("text", pa.large_string())])
_LIST_STR = pa.large_list(pa.large_string())
_LIST_ARG = pa.large_list(_ARG_TYPE)


def _arrow_type(dtype: pl.DataType) -> pa.DataType:
    if dtype == pl.Datetime("ms", "UTC"):
        return pa.timestamp("ms", tz="UTC")
    simple = {pl.UInt8: pa.uint8(), pl.UInt16: pa.uint16(), pl.UInt32: pa.uint32(),
              pl.UInt64: pa.uint64(), pl.Int64: pa.int64(), pl.Boolean: pa.bool_(),
              pl.String: pa.large_string()}
    for pl_type, pa_type in simple.items():
        if dtype == pl_type:
            return pa_type
    if dtype == pl.List(pl.String):
        return _LIST_STR
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        return _LIST_ARG
    raise TypeError(f"no Arrow type for {dtype}")


_TYPES = [_arrow_type(dtype) for dtype in CORE.dtypes()]


def _check_columns() -> None:
    res = lib.bsm_decode(ffi.new("uint8_t[]", 1), 0, ffi.NULL)
    if res == ffi.NULL:
        raise MemoryError
    try:
        names = [ffi.string(res.cols[i].name).decode() for i in range(res.ncols)]
    finally:
        lib.bsm_free(res)
    if names != _NAMES:
        raise ImportError(f"the C core's columns {names} differ from schema.CORE {_NAMES}")


_check_columns()


def _address(ptr) -> int:
    return int(ffi.cast("uintptr_t", ptr))




class _Owner:
    """Keeps the C result (its column table, errors and counts) alive; frees it afterwards."""

    __slots__ = ("res", "__weakref__")

    def __init__(self, res):
        self.res = ffi.gc(res, lib.bsm_free)


class _ColumnOwner:
    """The base of one column's Arrow buffers: frees that column's C memory when the last
    buffer using it is gone, so each column lives exactly as long as something needs it."""

    __slots__ = ("owner", "index", "__weakref__")

    def __init__(self, owner: _Owner, index: int):
        self.owner, self.index = owner, index

    def __del__(self):
        lib.bsm_free_column(self.owner.res, self.index)


def _bitmap(col, n: int):
    """Validity bitmap from the C byte array (None when every row is valid)."""
    if col.null_count == 0:
        return None
    valid = np.frombuffer(ffi.buffer(col.valid, n), dtype=np.uint8)
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def _strings(owner, offsets, count: int, data, data_len: int, validity=None, null_count=0):
    off = pa.foreign_buffer(_address(offsets), 8 * (count + 1), base=owner)
    dat = pa.foreign_buffer(_address(data), max(data_len, 0), base=owner)
    return pa.Array.from_buffers(pa.large_string(), count, [validity, off, dat],
                                 null_count=null_count)


def _column(owner, col, n: int, typ: pa.DataType) -> pa.Array:
    kind = col.kind
    validity = _bitmap(col, n)
    nulls = int(col.null_count)
    if kind == lib.BSM_FIXED:
        values = pa.foreign_buffer(_address(col.values), n * col.width, base=owner)
        return pa.Array.from_buffers(typ, n, [validity, values], null_count=nulls)
    if kind == lib.BSM_BOOL:
        raw = np.frombuffer(ffi.buffer(col.values, n), dtype=np.uint8)
        values = pa.py_buffer(np.packbits(raw, bitorder="little"))
        return pa.Array.from_buffers(typ, n, [validity, values], null_count=nulls)
    if kind == lib.BSM_STRING:
        return _strings(owner, col.offsets, n, col.data, col.data_len, validity, nulls)
    nchild = int(col.nchild)
    text = _strings(owner, col.child_offsets, nchild, col.data, col.data_len)
    if kind == lib.BSM_LIST:
        child = text
    else:
        number = pa.Array.from_buffers(pa.uint8(), nchild, [
            None, pa.foreign_buffer(_address(col.arg_number), nchild, base=owner)])
        value = pa.Array.from_buffers(pa.uint64(), nchild, [
            None, pa.foreign_buffer(_address(col.arg_value), 8 * nchild, base=owner)])
        child = pa.StructArray.from_arrays([number, value, text], fields=list(_ARG_TYPE))
    offsets = pa.foreign_buffer(_address(col.offsets), 8 * (n + 1), base=owner)
    return pa.Array.from_buffers(typ, n, [validity, offsets], null_count=nulls, children=[child])


def decode(buf, *, since_ms: int | None = None, until_ms: int | None = None,
           events: frozenset | None = None, consume: bool = False) -> Result:
    """Decode one trail held in memory (any contiguous buffer) with the C core.

    ``consume=True`` (a bytearray the caller no longer needs) empties ``buf`` as soon as the C
    core is done with it, before the frame is built, so the input and the frame never both
    stay in memory.
    """
    src = ffi.from_buffer("uint8_t[]", buf)
    opts, _keep = _options(since_ms, until_ms, events)
    raw = lib.bsm_decode(src, len(src), opts)
    ffi.release(src)
    if consume and isinstance(buf, bytearray):
        buf.clear()
    if raw == ffi.NULL:
        raise MemoryError("the C decoder ran out of memory")
    owner = _Owner(raw)
    res = owner.res
    n = int(res.nrows)
    # Each column's buffers have their own owner: a column's C memory is freed as soon as
    # nothing points into it (Polars adopts fixed-width and string buffers without copying).
    arrays = [_column(_ColumnOwner(owner, i), res.cols[i], n, _TYPES[i]) for i in range(len(_NAMES))]
    lib.bsm_free_validity(res)      # packed into Arrow bitmaps above; nothing points into them
    frame = pl.from_arrow(pa.RecordBatch.from_arrays(arrays, names=_NAMES))
    del arrays
    ne = int(res.nerrors)
    if ne:
        offsets = np.frombuffer(ffi.buffer(res.err_offset, 8 * ne), dtype=np.uint64).tolist()
        lengths = np.frombuffer(ffi.buffer(res.err_length, 8 * ne), dtype=np.uint64).tolist()
        reasons = [_REASONS[r] for r in bytes(ffi.buffer(res.err_reason, ne))]
        errors = list(zip(offsets, lengths, reasons))
    else:
        errors = []
    return Result(frame, errors, int(res.records_seen), int(res.file_tokens))


def text_map(data: bytes) -> str:
    """The C core's text mapping of ``data`` (for tests: equals ``text.decode_bytes``)."""
    out = ffi.new("uint8_t[]", 3 * len(data) + 1)
    n = lib.bsm_text_map(ffi.from_buffer("uint8_t[]", data), len(data), out)
    return bytes(ffi.buffer(out, n)).decode("utf-8")
