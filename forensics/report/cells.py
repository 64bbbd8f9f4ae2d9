"""Tables of the report and the cells they hold, shared by the HTML page and the text summary.

A :class:`Table` keeps at most :data:`DATA_CAP` rows of plain Python values (strings, ints,
argument lists, :class:`Refs`), already capped and formatted by Polars expressions: nothing here
walks a whole frame. The renderers decide how many rows each medium shows (:data:`HTML_ROWS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

__all__ = ["HTML_ROWS", "DATA_CAP", "Table", "Refs", "time_text", "person", "how_sure",
           "elevated", "result", "basename", "program", "terminal", "pick", "rows_of"]

#: rows of every table written into the HTML itself (readable with JavaScript off, prints)
HTML_ROWS = 200
#: rows a table keeps at most (the rest: ``knox-report export``)
DATA_CAP = 3000


@dataclass(frozen=True)
class Refs:
    """A sentence from the evidence with its ``file:offset`` references found.

    ``parts`` alternates plain text and references: ``(text, None)`` or ``(label, (source,
    offset))``; a renderer links a reference when the page holds that record.
    """
    parts: tuple[tuple[str, tuple[str, int] | None], ...]

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts)

    @property
    def keys(self) -> list[tuple[str, int]]:
        return [ref for _, ref in self.parts if ref is not None]


#: columns that hold a time, and short words that should not wrap
_TIMES = {"time", "first", "last", "start", "end", "first record", "last record", "starts"}
_PATHS = {"path", "program", "file", "says / path"}
_SHORT = {"person", "how sure", "elevated", "action", "result", "how", "confidence",
          "as", "kind"}


@dataclass
class Table:
    """One table: its ``name`` (the DOM's ``data-table``), columns and capped rows.

    ``kinds`` tells how a column renders: ``text`` (default), ``num``, ``argv`` (a list of
    arguments, boundaries kept), ``refs`` (a :class:`Refs` in a sentence), ``ref`` (one record
    reference), ``chain`` (a parent chain), ``ids`` (``euid 0 ruid 501``: breaks between ids
    only); by their column name times get ``time``, paths ``path`` (breaks after ``/`` and
    ``.``), ``elevated`` ``flag`` and short words ``short``.
    ``total`` counts every row the data has, ``rows`` holds the first ``min(total, DATA_CAP)``.
    """
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]
    total: int
    kinds: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def kind(self, column: str) -> str:
        if column in self.kinds:
            return self.kinds[column]
        if column in _TIMES:
            return "time"
        if column in _PATHS:
            return "path"
        if column == "elevated":
            return "flag"
        return "short" if column in _SHORT else "text"

    @property
    def capped(self) -> bool:
        return self.total > len(self.rows)


def time_text(column: str | pl.Expr) -> pl.Expr:
    """A UTC time as ``2024-03-15 08:00:00.003Z`` (null stays null)."""
    col = pl.col(column) if isinstance(column, str) else column
    return col.dt.strftime("%Y-%m-%d %H:%M:%S%.3fZ")


def person(user: str = "user", name: str | pl.Expr = "user_name", nobody: str = "no person"
           ) -> pl.Expr:
    """``alice (501)``, ``uid 501`` without a name, ``no person`` when nobody is behind it."""
    uid = pl.col(user)
    label = pl.col(name) if isinstance(name, str) else name
    return (pl.when(uid.is_null()).then(pl.lit(nobody))
            .when(label.is_not_null()).then(pl.format("{} ({})", label, uid))
            .otherwise(pl.format("uid {}", uid)))


def how_sure(kind: str = "attribution_kind", confidence: str = "confidence") -> pl.Expr:
    """``direct high``, ``inferred medium``; ``no subject`` when the record has none."""
    return (pl.concat_str([pl.col(kind), pl.col(confidence)], separator=" ", ignore_nulls=True)
            .replace("", None).fill_null("no subject"))


def elevated(column: str = "elevated") -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("elevated")).otherwise(pl.lit(""))


def result(errno_names: dict[int, str] | None = None) -> pl.Expr:
    """``ok``, ``failed: EACCES (13)``, or empty when the record has no return token."""
    errno = pl.col("return_errno")
    name = (errno.replace_strict(errno_names, default=None, return_dtype=pl.String)
            if errno_names else pl.lit(None, pl.String))
    failed = pl.concat_str([pl.lit("failed: "), pl.coalesce(
        pl.format("{} ({})", name, errno), errno.cast(pl.String))])
    return (pl.when(pl.col("success")).then(pl.lit("ok"))
            .when(pl.col("success").not_()).then(failed).otherwise(pl.lit("")))


def basename(column: str | pl.Expr) -> pl.Expr:
    col = pl.col(column) if isinstance(column, str) else column
    return col.str.extract(r"([^/]*)$", 1)


def program(image: str | pl.Expr = "image", signing: str | pl.Expr = "signing_id") -> pl.Expr:
    """The program's file name; without an exec in the trail, the signing id of the record's
    identity token, marked ``(signing id)``; ``?`` when neither is known."""
    image = pl.col(image) if isinstance(image, str) else image
    signing = pl.col(signing) if isinstance(signing, str) else signing
    return pl.coalesce(basename(image).replace("", None),
                       pl.format("{} (signing id)", signing.replace("", None)), pl.lit("?"))


#: terminal hosts that are not a network peer: the machine's own terminals
_LOCAL_HOSTS = {"0.0.0.0", "::", "0:0:0:0:0:0:0:0"}


def terminal(host: str | None, port: int | None) -> str:
    """Where a login came from: ``203.0.113.9:52144``, ``[2001:db8::7]:50522``; a terminal
    host of 0.0.0.0 is a local terminal: ``local (tty port 0x10000004)``, or ``local``."""
    if host is None:
        return ""
    if host in _LOCAL_HOSTS:
        return f"local (tty port {port:#x})" if port else "local"
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def pick(frame, *columns):
    """``frame.select`` with every output named by position (expressions may share names)."""
    return frame.select([(pl.col(c) if isinstance(c, str) else c).alias(f"c{i}")
                         for i, c in enumerate(columns)])


def rows_of(frame: pl.DataFrame | pl.LazyFrame, cap: int = DATA_CAP) -> list[tuple]:
    """The first ``cap`` rows as tuples (the only place rows become Python values)."""
    head = frame.head(cap)
    if isinstance(head, pl.LazyFrame):
        head = head.collect()
    return head.rows()
