"""The C decoder backend: ``csrc/bsm.c`` fills column buffers, this turns them into one frame.

The C core (``forensics.bsm._cbsm``) frames the trail, walks every record and writes one row per
record into growable column buffers, exactly as ``forensics.bsm.decode`` does in Python, in the
layout Polars keeps (string views, validity bits; see ``csrc/columns.c``). Each column is handed
to Polars without copying through the Arrow C data interface (``csrc/arrow.c``) in a pair of
PyCapsules (the Arrow PyCapsule interface): the column's C memory moves out of the C result into
the exported array, and its release callback frees it once Polars drops the last buffer, so each
column lives exactly as long as something needs it. The frame holds exactly ``schema.CORE`` (or
the columns asked for). No Python code runs per record, and pyarrow is not imported.
"""

from __future__ import annotations

import ctypes
import os
import threading

import polars as pl

from ._cbsm import ffi, lib
from .decode import core_columns
from .coptions import options as _options
from ..schema import CORE, DAMAGE_REASONS, Result

__all__ = ["decode", "text_map", "SPLIT_MIN"]

#: a buffer at least this large is decoded in two halves at once (on two or more cores)
SPLIT_MIN = 32 << 20
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_NAMES = list(CORE.names())
_REASONS = [ffi.string(lib.bsm_reason_name(i)).decode() for i in range(lib.BSM_NREASONS)]
if _REASONS != list(DAMAGE_REASONS):
    raise ImportError(f"C damage reasons {_REASONS} differ from schema.DAMAGE_REASONS")
if lib.bsm_num_columns() != len(_NAMES):
    raise ImportError("the C core's columns differ from schema.CORE")

#: the Arrow formats of the fixed-width and boolean dtypes (csrc/arrow.c writes the others')
_FORMATS = {pl.UInt8: b"C", pl.UInt16: b"S", pl.UInt32: b"I", pl.UInt64: b"L", pl.Int64: b"l",
            pl.Boolean: b"b", pl.Datetime("ms", "UTC"): b"tsm:UTC"}


def _arrow_format(dtype: pl.DataType) -> bytes:
    """The Arrow format the C core exports a core dtype with (strings as views, lists large)."""
    for pl_type, fmt in _FORMATS.items():
        if dtype == pl_type:
            return fmt
    if dtype == pl.String:
        return b"vu"
    if dtype == pl.List(pl.String) or (isinstance(dtype, pl.List) and
                                       isinstance(dtype.inner, pl.Struct)):
        return b"+L"
    raise TypeError(f"no Arrow format for {dtype}")


_FORMAT_OF = [ffi.new("char[]", _arrow_format(dtype)) for dtype in CORE.dtypes()]


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

    __slots__ = ("res",)

    def __init__(self, res):
        self.res = ffi.gc(res, lib.bsm_free)


_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
#: (name, destructor) of the schema capsule and of the array capsule (both static in C)
_CAPSULES = [(_address(lib.bsm_capsule_name(0)),
              _address(ffi.addressof(lib, "bsm_capsule_free_schema"))),
             (_address(lib.bsm_capsule_name(1)),
              _address(ffi.addressof(lib, "bsm_capsule_free_array")))]


class _Column:
    """One exported column for the Arrow PyCapsule interface (taken once, by Polars). Until
    then its capsules own the C structs: dropped unused, they release them."""

    __slots__ = ("capsules",)

    def __init__(self, res, index: int):
        schema = ffi.new("struct ArrowSchema **")
        array = ffi.new("struct ArrowArray **")
        if lib.bsm_export_column(res, index, _FORMAT_OF[index], schema, array):
            raise MemoryError("the C decoder ran out of memory")
        self.capsules = tuple(_capsule_new(_address(ptr), name, free)
                              for ptr, (name, free) in zip((schema[0], array[0]), _CAPSULES))

    def __arrow_c_array__(self, requested_schema=None):
        capsules, self.capsules = self.capsules, None
        if capsules is None:
            raise RuntimeError("this column was handed over already")
        return capsules


def _errors(res) -> list:
    ne = int(res.nerrors)
    if not ne:
        return []
    offsets = memoryview(ffi.buffer(res.err_offset, 8 * ne)).cast("Q").tolist()
    lengths = memoryview(ffi.buffer(res.err_length, 8 * ne)).cast("Q").tolist()
    reasons = [_REASONS[r] for r in bytes(ffi.buffer(res.err_reason, ne))]
    return list(zip(offsets, lengths, reasons))


def _frame(owner: _Owner, names: list[str]) -> pl.DataFrame:
    """The frame of one C result: its selected columns, without copying. Each column's C
    memory leaves the result for its own Arrow array, freed once Polars no longer uses it."""
    res = owner.res
    series = [pl.Series(_Column(res, i)) for i in range(len(_NAMES)) if res.cols[i].selected]
    frame = pl.DataFrame(series)
    if frame.columns != names:
        raise RuntimeError(f"the C core exported {frame.columns}, not {names}")
    return frame


def _range(src, start: int, stop: int, opts):
    """The C result (not yet owned) of the records framed from start (a boundary) to the first
    boundary at or after stop."""
    raw = lib.bsm_decode_range(src, len(src), start, stop, opts)
    if raw == ffi.NULL:
        raise MemoryError("the C decoder ran out of memory")
    return raw


#: bsm_concat_columns' two shares of the columns (about the same bytes per row each)
_JOIN_SPLIT = _NAMES.index("return_errno")


def _join(first, second) -> None:
    """second's rows after first's, in first: one chunk, the strings' data blocks moved over
    as they are. The columns are joined in two threads (each copies into fresh pages)."""
    done: list = []
    thread = threading.Thread(target=lambda: done.append(
        lib.bsm_concat_columns(first, second, _JOIN_SPLIT, len(_NAMES))), name="bsm-join")
    thread.start()
    ok = lib.bsm_concat_columns(first, second, 0, _JOIN_SPLIT) == 0
    thread.join()
    if not (ok and done[0] == 0 and lib.bsm_concat(first, second) == 0):
        lib.bsm_free(second)
        raise MemoryError("the C decoder ran out of memory")


def _decode(src, opts) -> _Owner:
    """The C result of one pass over src.

    A large buffer is cut near its middle, at a candidate record start (the resync rule), and
    both halves are decoded at once (the C core runs without the GIL). The cut stands only when
    the first half, framed from the start, stopped exactly there, that is when a single pass
    frames a record or file token from that offset too (framing from a boundary is the same
    whatever came before); otherwise the rest is decoded from where the first half stopped.
    Either way rows, errors and counts are those of one pass, in one result.
    """
    n = len(src)
    mid = int(lib.bsm_resync(src, n // 2, n)) if n >= SPLIT_MIN and _CORES > 1 else n
    if mid >= n:
        return _Owner(_range(src, 0, n, opts))
    opts.keep_capacity = 1      # the second half is appended in the first's spare room
    second: list = []

    def run():
        try:
            second.append(_range(src, mid, n, opts))
        except MemoryError as exc:
            second.append(exc)

    thread = threading.Thread(target=run, name="bsm-decode-half")
    thread.start()
    try:
        first = _Owner(_range(src, 0, mid, opts))
    except BaseException:
        thread.join()
        if not isinstance(second[0], MemoryError):
            lib.bsm_free(second[0])
        raise
    thread.join()
    half = second[0]
    if int(first.res.stopped) != mid:     # the cut fell inside a record: decode the rest
        if not isinstance(half, MemoryError):
            lib.bsm_free(half)
        half = _range(src, int(first.res.stopped), n, opts)
    elif isinstance(half, MemoryError):
        raise half
    _join(first.res, half)
    return first


def decode(buf, *, since_ms: int | None = None, until_ms: int | None = None,
           events: frozenset | None = None, consume: bool = False,
           columns=None) -> Result:
    """Decode one trail held in memory (any contiguous buffer) with the C core.

    ``columns``: None (every column of ``schema.CORE``) or the names of the columns to
    produce, in any order; the frame holds them in ``CORE`` order and the C core neither
    allocates nor writes the others.

    A buffer of ``SPLIT_MIN`` bytes or more is decoded in two halves at once (see ``_decode``);
    the result is the same as one pass's, in one chunk.

    ``consume=True`` (a bytearray the caller no longer needs) empties ``buf`` as soon as the C
    core is done with it, before the frame is built, so the input and the frame never both
    stay in memory.
    """
    names = core_columns(columns)
    src = ffi.from_buffer("uint8_t[]", buf)
    opts, _keep = _options(since_ms, until_ms, events)
    flags = None
    if columns is not None:
        wanted = set(names)
        flags = ffi.new("uint8_t[]", bytes(name in wanted for name in _NAMES))
        opts.columns = flags
    try:
        owner = _decode(src, opts)
    finally:
        ffi.release(src)
    if consume and isinstance(buf, bytearray):
        buf.clear()
    res = owner.res
    return Result(_frame(owner, names), _errors(res), int(res.records_seen),
                  int(res.file_tokens))


def text_map(data: bytes) -> str:
    """The C core's text mapping of ``data`` (for tests: equals ``text.decode_bytes``)."""
    out = ffi.new("uint8_t[]", 3 * len(data) + 1)
    n = lib.bsm_text_map(ffi.from_buffer("uint8_t[]", data), len(data), out)
    return bytes(ffi.buffer(out, n)).decode("utf-8")
