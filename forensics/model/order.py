"""The global record order shared by lifetimes, events and sessions.

Every record gets a ``seq``: its position in (file order, byte offset). Files are ordered by
their first appearance in the records frame. Header times are commit times in whole
milliseconds and the clock can jump, so time only decides closeness, never order.

The ordering is a value: ``order(records)`` computes it, and ``processes.build``,
``attribution.events`` and ``sessions.sessions`` take it as ``ordered=`` (``Audit.ordered``
keeps one per Audit) or compute it themselves.
"""

from __future__ import annotations

import polars as pl

__all__ = ["NEEDED", "at", "ensure", "order", "source_names"]

_CRED_COLS = ("auid", "euid", "egid", "ruid", "rgid", "asid")

#: record columns lifetimes, events and sessions read
NEEDED = ("offset", "time", "event", "pid", *_CRED_COLS, "success", "return_value", "args",
          "paths", "exec_argv", "exec_cdhash", "exit_status", "text", "attr_uid",
          "signing_id", "terminal_port", "terminal_host")


def source_names(sources: list[str]) -> dict[str, str]:
    """The name a trail file goes by in ids: its file name, or its path when names clash."""
    base = {s: s.rsplit("/", 1)[-1] for s in sources}
    counts: dict[str, int] = {}
    for b in base.values():
        counts[b] = counts.get(b, 0) + 1
    return {s: (b if counts[b] == 1 else s) for s, b in base.items()}


def order(records: pl.DataFrame, columns=NEEDED) -> pl.DataFrame:
    """The records in global order, narrowed to ``NEEDED`` and ``columns``, plus ``row``
    (position in ``records``), ``seq`` (position in the global order: file order, then
    offset), ``src`` (the file's short name) and ``t`` (header time in ms). A frame already in
    that order is not re-sorted (its columns are then shared, not copied)."""
    wanted = tuple(dict.fromkeys((*NEEDED, *columns)))
    n = records.height
    if "source" in records.columns:
        source = records.get_column("source").fill_null("")
    else:
        source = pl.Series("source", [""] * n, dtype=pl.String)
    uniq = source.unique(maintain_order=True).to_list()
    names = source_names(uniq)
    if len(uniq) == 1:
        src_idx = pl.repeat(0, n, dtype=pl.UInt32, eager=True)
        src = pl.repeat(names[uniq[0]], n, dtype=pl.String, eager=True)
    else:
        src_idx = source.replace_strict({s: i for i, s in enumerate(uniq)},
                                        return_dtype=pl.UInt32)
        src = source.replace_strict(names, return_dtype=pl.String)
    cols = [c for c in wanted if c in records.columns]
    offset = records.get_column("offset")
    if len(uniq) == 1:
        in_order = offset.is_sorted()
    else:
        d_src = src_idx.cast(pl.Int64).diff().drop_nulls()
        d_off = offset.cast(pl.Int64).diff().drop_nulls()
        in_order = bool(((d_src > 0) | ((d_src == 0) & (d_off >= 0))).all())
    extra = [pl.int_range(n, dtype=pl.UInt32).alias("row"), src.alias("src"),
             pl.col("time").cast(pl.Int64).alias("t")]
    if in_order:
        return records.select(cols).with_columns(
            *extra, pl.int_range(n, dtype=pl.UInt64).alias("seq"))
    frame = records.select(cols).with_columns(*extra, src_idx.alias("_src_idx"))
    frame = frame.sort(["_src_idx", "offset"], maintain_order=True)
    return frame.with_columns(pl.int_range(n, dtype=pl.UInt64).alias("seq")).drop("_src_idx")


def ensure(records: pl.DataFrame, ordered: pl.DataFrame | None,
           columns=NEEDED) -> pl.DataFrame:
    """``ordered`` when given (checked to be an ordering of ``records`` with the columns
    needed), else ``order(records, columns)``."""
    if ordered is None:
        return order(records, columns)
    missing = [c for c in dict.fromkeys((*NEEDED, *columns))
               if c in records.columns and c not in ordered.columns]
    if ordered.height != records.height or missing or "seq" not in ordered.columns:
        raise ValueError("ordered is not order(records): "
                         f"{ordered.height} rows for {records.height}, missing {missing}")
    return ordered


def at(ordered: pl.DataFrame, seqs: pl.Series, *cols: str) -> pl.DataFrame:
    """Columns of the ordered records at the given seqs (seq is the row position in
    ``ordered``)."""
    return pl.DataFrame([ordered.get_column(c).gather(seqs) for c in cols])
