"""The report's typed structure: the run facts, its sections, and the context every section
builder reads (``forensics.report.sections.build`` puts them together)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..model.order import NEEDED
from ..tables import bsm_errno
from .cells import Table
from .refs import Finder

__all__ = ["SECTIONS", "RECORD_COLUMNS", "Input", "Run", "Section", "Report", "Context"]

#: the records columns the report reads (those the model reads, and the ones its sections show):
#: the main job decodes only these
RECORD_COLUMNS = tuple(dict.fromkeys((
    *NEEDED, "source", "length", "return_errno", "exec_env",
    "damage", "remote_address", "remote_port", "local_address", "local_port", "socket_family",
    "socket_path")))

#: section ids, in page order, with their headings
SECTIONS = {
    "run": "Run",
    "coverage": "Coverage",
    "people": "People and sessions",
    "commands": "Commands",
    "files": "File access",
    "inferred": "Inferred attribution",
    "failures": "Failures",
    "network": "Network",
    "timeline": "Timeline",
    "records": "Records",
}


@dataclass
class Input:
    """A path given on the command line: its size and sha256; a folder lists the files read."""
    path: str
    kind: str                      # file, folder
    size: int | None = None
    sha256: str | None = None
    files: list["Input"] = field(default_factory=list)


@dataclass
class Run:
    """What the command line knows and the frames do not."""
    command: str = ""
    selection: str = ""
    zone: str = "UTC"
    inputs: list[Input] = field(default_factory=list)
    started: float | None = None   # time.monotonic() when the run began
    version: str = ""


@dataclass
class Section:
    """One part of the report."""
    id: str
    title: str
    lead: str
    tables: list[Table] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)   # label, value
    notes: list[Any] = field(default_factory=list)               # sentences (str or Refs)
    trees: list[Any] = field(default_factory=list)               # trees.Tree
    charts: list[Any] = field(default_factory=list)              # charts.Chart
    records: list[Any] = field(default_factory=list)             # records.Record
    values: dict[str, Any] = field(default_factory=dict)         # raw figures (text summary)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


@dataclass
class Report:
    run: Run
    counts: dict[str, int]          # key figures for the top of the page
    sections: dict[str, Section]
    record_keys: set = field(default_factory=set)    # (source, offset) decoded in the page
    elapsed: float | None = None
    generated: str = ""
    timings: dict[str, float] = field(default_factory=dict)   # seconds per section built


@dataclass
class Context:
    """What every section builder reads: the frames, names and lookups, computed once."""
    audit: Any
    finder: Finder
    events: pl.DataFrame
    event_counts: pl.DataFrame     # event, event_name, event_classes, n (events present)
    errno: dict[int, str]

    @classmethod
    def of(cls, audit) -> "Context":
        rec = audit.records
        counts = (rec.lazy().group_by("event").agg(pl.len().alias("n")).collect())
        table = audit.tables.event_frame.select("event", "event_name", "event_classes")
        counts = (counts.join(table, on="event", how="left")
                  .with_columns(pl.col("event_classes").fill_null(pl.lit([], pl.List(pl.String))))
                  .sort(["n", "event_name", "event"], descending=[True, False, False],
                        nulls_last=True))
        sources = audit.sources.filter(pl.col("read")).get_column("path").to_list()
        errno = {}
        for number in (rec.lazy().filter(pl.col("success").not_()).select("return_errno")
                       .unique().collect().get_column("return_errno").to_list()):
            if number is not None:
                known = bsm_errno(number)
                errno[number] = known[0] if known else str(number)
        audit.settle()
        return cls(audit, Finder(sources), audit.attributed, counts, errno)

    def event_name(self) -> pl.Expr:
        """The record's event name from the event table (``event_name``, without holding that
        column for every record)."""
        counts = self.event_counts
        return pl.col("event").replace_strict(
            counts.get_column("event"), counts.get_column("event_name"), default=None,
            return_dtype=pl.String).alias("event_name")

    def events_of_class(self, *classes: str) -> list[int]:
        """Event numbers present whose classes include any of ``classes``."""
        hit = self.event_counts.filter(
            pl.col("event_classes").list.eval(pl.element().is_in(list(classes))).list.any())
        return hit.get_column("event").to_list()

    def user_names(self, uids) -> dict[int, str]:
        users = self.audit.tables.users
        return {u: users.user_name(u) for u in uids if u is not None and users.user_name(u)}
