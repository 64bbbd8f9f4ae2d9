"""``read(folder)``: a Parquet export (``knox-report export``) back as an ``Audit``.

Nothing is read when the folder is opened but its manifest: each frame is a ``scan_parquet``
that is collected the first time the frame is used, and kept. ``audit.lazy(name)`` gives the
LazyFrame itself, for queries that should read only the columns and rows they need. The frames
are the ones that were written, so ``processes``, ``events`` and ``sessions`` are not rebuilt.

``read`` takes the selection options of :func:`forensics.load` (``since``, ``until``, ``tz``,
``event``, ``auid``, ``objects``, ...). They narrow ``records`` and ``events`` (a predicate on
the Parquet scan) and ``tokens`` (those of the records kept); ``processes``, ``sessions``,
``sources`` and ``errors`` stay as exported, since they describe the whole export.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from . import pipeline
from .audit import Audit
from .errors import CollectionError
from .tables import Tables
from .window import Window

__all__ = ["StoredAudit", "read"]

_FRAMES = ("records", "tokens", "processes", "events", "sessions", "sources", "errors")


def _frame(name: str) -> property:
    def get(self) -> pl.DataFrame:
        cache = self.__dict__.setdefault("_frames", {})
        if name not in cache:
            cache[name] = self.lazy(name).collect()
        return cache[name]

    get.__doc__ = f"The ``{name}`` frame of the export (read on first use)."
    return property(get)


class StoredAudit(Audit):
    """An :class:`~forensics.audit.Audit` whose frames come from a Parquet export folder."""

    def __init__(self, folder: Path, manifest: dict, tables: Tables | None = None,
                 selection: pl.Expr | None = None):
        # Audit's dataclass fields are properties here: its __init__ would assign them.
        self.folder = folder
        self.manifest = manifest
        self.tables = tables if tables is not None else Tables.from_files()
        self.selection = selection
        self.backend = "stored"
        self.files = []

    records = _frame("records")
    tokens = _frame("tokens")
    processes = _frame("processes")
    events = _frame("events")
    sessions = _frame("sessions")
    sources = _frame("sources")
    errors = _frame("errors")

    def lazy(self, name: str) -> pl.LazyFrame:
        """The frame ``name`` as a LazyFrame over its Parquet file (nothing read yet)."""
        if name not in _FRAMES:
            raise KeyError(f"no frame {name!r}: one of {', '.join(_FRAMES)}")
        entry = self.manifest["frames"].get(name)
        if entry is None:
            raise CollectionError(f"{self.folder}: the export has no {name} frame")
        frame = pl.scan_parquet(self.folder / entry["file"])
        if self.selection is None or name not in ("records", "events", "tokens"):
            return frame
        if name == "tokens":
            kept = self.lazy("records").select("source", pl.col("offset").alias("record_offset"))
            return frame.join(kept, on=["source", "record_offset"], how="semi",
                              maintain_order="left")
        return frame.filter(self.selection)

    def tokens_at(self, keys) -> pl.DataFrame:
        """The ``tokens`` rows of the records named by ``(source, offset)`` pairs."""
        wanted = pl.DataFrame(list(keys), schema={"source": pl.String, "record_offset": pl.UInt64},
                              orient="row")
        return (self.lazy("tokens")
                .join(wanted.lazy().unique(), on=["source", "record_offset"], how="semi",
                      maintain_order="left")
                .collect())

    def __repr__(self) -> str:
        rows = ", ".join(f"{n}={e['rows']}" for n, e in self.manifest["frames"].items())
        return f"StoredAudit({str(self.folder)!r}, {rows})"

    __eq__ = object.__eq__
    __hash__ = object.__hash__


def read(folder, *, passwd=None, group=None, dslocal=None, **selection) -> StoredAudit:
    """A Parquet export folder as an ``Audit`` whose frames are read lazily, on first use.

    ``selection`` takes what :func:`forensics.load` takes (``since``, ``until``, ``tz``,
    ``event``, ``auid``, ...) and narrows records, events and tokens. The user tables
    (``passwd``, ``group``, ``dslocal``) name users in the selection and for ``person``; the
    frames already carry the names the export was made with.
    """
    folder = Path(folder)
    manifest = _manifest(folder)
    plan = pipeline.make_plan(passwd=passwd, group=group, dslocal=dslocal, **selection)
    return StoredAudit(folder, manifest, plan.tables, _predicate(plan.window, plan.selection))


def _manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise CollectionError(f"{folder}: not a knox-report export (no manifest.json)") from None
    except (OSError, ValueError) as exc:
        raise CollectionError(f"{path}: cannot be read: {exc}") from exc
    if manifest.get("format") != "parquet":
        raise CollectionError(f"{folder}: a {manifest.get('format')} export; read() takes the "
                              f"Parquet one (knox-report export --format parquet)")
    return manifest


def _predicate(window: Window, selection: pl.Expr | None) -> pl.Expr | None:
    """The window and the selection as one predicate on records (None: everything)."""
    parts = [] if selection is None else [selection]
    ms = pl.col("time").dt.epoch("ms")
    if window.since_ms is not None:
        parts.append(ms >= window.since_ms)
    if window.until_ms is not None:
        parts.append(ms < window.until_ms)
    if not parts:
        return None
    expr = parts[0]
    for part in parts[1:]:
        expr = expr & part
    return expr
