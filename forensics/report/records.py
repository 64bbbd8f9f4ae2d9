"""Section ``records``: the decoded tokens of every record an evidence sentence or a row of the
page names, so a claim can be checked without leaving the page (praudit-like, one token a line).

Only those records are decoded again (``Audit.tokens_at``), never every token of the selection.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import polars as pl

from ..text import encode_text
from .cells import HTML_ROWS, Table, time_text
from .refs import record_key
from .structure import SECTIONS, Context, Section

__all__ = ["Record", "section", "RECORD_CAP"]

#: records decoded into the page at most
RECORD_CAP = 2000


@dataclass
class Record:
    ref: tuple[str, int]
    key: str
    label: str           # file:offset as evidence names it
    event: str
    time: str
    lines: list[str]


def _wanted(sections: dict[str, Section]) -> list[tuple[str, int]]:
    """References in the notes and the rows shown in the HTML (islands link to those only)."""
    seen: dict[tuple[str, int], None] = {}
    for s in sections.values():
        for note in s.notes:
            for ref in getattr(note, "keys", ()):
                seen.setdefault(ref)
    tables = [t for s in sections.values() for t in s.tables]
    for t in tables:
        for i, col in enumerate(t.columns):
            if t.kind(col) not in ("refs", "ref"):
                continue
            rows = t.rows[:HTML_ROWS]
            for row in rows:
                for ref in row[i].keys:
                    seen.setdefault(ref)
    return list(seen)[:RECORD_CAP]


_ADDRESSES = {"addr", "laddr", "raddr", "in_addr", "ip", "address"}
_BINARY = {"data", "opaque", "cdhash", "cert_hash", "hash"}


def _value(key: str, value) -> str:
    """A field as praudit would print it: addresses dotted, hashes and data in hex, C strings
    without their NUL; other text as it is (the page shows invisible characters)."""
    if isinstance(value, list):
        return "[" + ", ".join(_value(key, v) for v in value) + "]"
    if not isinstance(value, str):
        return str(value)
    raw = encode_text(value)
    if key in _ADDRESSES and len(raw) in (4, 16):
        return str(ipaddress.ip_address(raw))
    if key in _BINARY or key.endswith("hash"):
        if not (raw.isascii() and raw.rstrip(b"\0").decode().isprintable()):
            return "0x" + raw.hex()
    return value[:-1] if value.endswith("\0") else value


def _line(name: str, fields: str) -> str:
    try:
        values = json.loads(fields)
    except (TypeError, ValueError):
        return f"{name} {fields}"
    parts = [f"{key}={_value(key, value)}" for key, value in values.items()]
    return f"{name}: " + ", ".join(parts)


def section(ctx: Context, sections: dict[str, Section]) -> Section:
    wanted = _wanted(sections)
    records: list[Record] = []
    if wanted:
        tokens = ctx.audit.tokens_at(wanted)
        keys = pl.DataFrame(wanted, schema={"source": pl.String, "offset": pl.UInt64},
                            orient="row")
        heads = (ctx.audit.records.lazy().join(keys.lazy(), on=["source", "offset"])
                 .select("source", "offset", pl.coalesce(ctx.event_name(), pl.col("event")
                                                         .cast(pl.String)).alias("ev"),
                         time_text("time").alias("t")).collect())
        head = {(s, o): (e, t) for s, o, e, t in heads.rows()}
        lines: dict[tuple[str, int], list[str]] = {}
        for src, off, name, fields in tokens.select(
                "source", "record_offset", "name", "fields").rows():
            lines.setdefault((src, off), []).append(_line(name, fields))
        for ref in wanted:
            if ref not in lines:
                continue
            event, when = head.get(ref, ("?", "?"))
            records.append(Record(ref, record_key(*ref), ctx.finder.label(*ref).text,
                                  event or "?", when or "?", lines[ref]))
    total = len(records)
    index = Table("records-index", "Records cited", ("record", "event", "time", "tokens"),
                  [(ctx.finder.label(*r.ref), r.event, r.time, len(r.lines)) for r in records],
                  total, {"record": "ref", "tokens": "num"})
    notes = [f"The {total:,} records cited by the evidence and the rows shown above, decoded "
             "token by token. Follow a record link anywhere on the page to open it here."]
    if len(wanted) >= RECORD_CAP:
        notes.append(f"Only the first {RECORD_CAP:,} cited records are decoded here; "
                     "`knox-report praudit` prints any record.")
    return Section("records", SECTIONS["records"],
                   "The records the evidence names, decoded: check a claim without leaving "
                   "the page.", tables=[index], notes=notes, records=records)
