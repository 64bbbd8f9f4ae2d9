"""The pure-Python decoder: framing, resync, token walk and one records-frame row per record.

This is the reference the C core (``csrc/bsm.c``) mirrors step for step. The steps live in
their own modules: ``framing`` (records, file tokens and damaged spans), ``tokenwalk`` (the
tokens of one record, with the exec strings cut search) and ``rows`` (one ``schema.CORE`` row
per record). This module drives them over a whole trail, a batch of rows at a time, and keeps
their public names (``frame``, ``walk``, ``Item``, ``Token``, ``format_ip4``, ...).
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from .framing import MIN_RECORD_SIZE, REPAIR_WINDOW, Item, frame
from .rows import (COLUMNS, MAX_TOKEN_COUNT, columns as _columns, format_ip4, format_ip6,
                   header_time, record_row)
from .tokens import HEADER_EX_IDS, TOKENS, TokenError
from .tokenwalk import EXEC_FOLLOWERS, MAX_EXEC_COUNT, Token, walk, walk_record
from ..schema import CORE

__all__ = [
    "Item",
    "Token",
    "frame",
    "walk",
    "walk_record",
    "decode",
    "Decoded",
    "Decoder",
    "format_ip4",
    "format_ip6",
    "MIN_RECORD_SIZE",
    "REPAIR_WINDOW",
    "EXEC_FOLLOWERS",
    "MAX_EXEC_COUNT",
    "COLUMNS",
    "core_columns",
]


class Decoded(NamedTuple):
    columns: dict             # column name -> list of values (RECORD_CORE order; args as tuples)
    errors: list              # (offset, length, reason)
    records_seen: int         # records framed, including those the window skipped
    file_tokens: int


class Decoder:
    """Decodes one trail held in memory, a batch of rows at a time.

    ``since_ms``/``until_ms`` (epoch ms, half-open) and ``events`` (a set of event numbers) drop
    records at the header, before their tokens are walked. After ``batches()`` is exhausted,
    ``errors``, ``records_seen`` and ``file_tokens`` hold the totals.
    """

    def __init__(self, buf, *, since_ms: int | None = None, until_ms: int | None = None,
                 events: frozenset | None = None) -> None:
        self.buf = buf.tobytes() if isinstance(buf, memoryview) else buf
        self.since_ms, self.until_ms, self.events = since_ms, until_ms, events
        self.errors: list[tuple[int, int, str]] = []
        self.records_seen = self.file_tokens = 0

    def batches(self, rows: int = 16384) -> Iterator[dict]:
        """Column dicts (RECORD_CORE order) of at most ``rows`` records each."""
        batch: list[list] = []
        for row in self._rows():
            batch.append(row)
            if len(batch) >= rows:
                yield _columns(batch)
                batch = []
        if batch:
            yield _columns(batch)

    def _rows(self) -> Iterator[list]:
        buf, errors, events = self.buf, self.errors, self.events
        since_ms, until_ms = self.since_ms, self.until_ms
        windowed = since_ms is not None or until_ms is not None
        for item in frame(buf):
            kind = item.kind
            if kind == "damage":
                errors.append((item.offset, item.length, item.reason))
                continue
            if kind == "file":
                self.file_tokens += 1
                continue
            self.records_seen += 1
            if item.reason:
                errors.append((item.offset, item.length, item.reason))
            p, end = item.offset, item.offset + item.length - 7
            try:
                tid, hv, body = _parse_header(buf, p, end)
            except TokenError:
                errors.append((p, item.length, "bad token"))
                continue
            if events is not None and hv[2] not in events:
                continue
            if windowed:
                t = header_time(*((hv[5], hv[6]) if tid in HEADER_EX_IDS else (hv[4], hv[5])))
                if (t is None or (since_ms is not None and t < since_ms)
                        or (until_ms is not None and t >= until_ms)):
                    continue
            tokens, damage, guessed = walk_record(buf, body, end)
            tokens.insert(0, Token(tid, p, body - p, hv))
            yield record_row(buf, item, tokens, _flags(errors, item, tokens, damage, guessed))


def _flags(errors: list, item: Item, tokens: list[Token], damage, guessed) -> str | None:
    """Append the record's own errors rows (bad time, ambiguous exec cut, where the walk stopped,
    too many tokens, in this order) and return its damage column: the first of the walk's
    damage, an ambiguous cut, a bad time, too many tokens and a repaired size."""
    reasons = []
    hv = tokens[0].values
    if header_time(*(hv[5:7] if tokens[0].id in HEADER_EX_IDS else hv[4:6])) is None:
        errors.append((item.offset, item.length, "bad time"))
        reasons.append((2, "bad time"))
    end = item.offset + item.length - 7
    if guessed is not None:
        errors.append((guessed, end - guessed, "ambiguous exec cut"))
        reasons.append((1, "ambiguous exec cut"))
    if damage is not None:
        errors.append((damage[0], end - damage[0], damage[1]))
        reasons.append((0, damage[1]))
    if len(tokens) + 1 > MAX_TOKEN_COUNT:
        errors.append((item.offset, item.length, "too many tokens"))
        reasons.append((3, "too many tokens"))
    if reasons:
        return min(reasons)[1]
    return item.reason


def decode(buf, *, since_ms: int | None = None, until_ms: int | None = None,
           events: frozenset | None = None) -> Decoded:
    """Decode a whole trail held in memory into one set of columns."""
    decoder = Decoder(buf, since_ms=since_ms, until_ms=until_ms, events=events)
    columns = _columns([])
    for batch in decoder.batches():
        for name, values in batch.items():
            columns[name].extend(values)
    return Decoded(columns, decoder.errors, decoder.records_seen, decoder.file_tokens)


def _parse_header(buf, p: int, end: int):
    tid = buf[p]
    values, body = TOKENS[tid].parse(buf, p + 1, end)
    return tid, values, body


def core_columns(columns=None) -> list[str]:
    """The names of a projection in ``schema.CORE`` order: every core column for None, else
    those named (an iterable of names). Unknown names are a ValueError naming them."""
    names = list(CORE.names())
    if columns is None:
        return names
    if isinstance(columns, str):
        columns = [columns]
    wanted = set(columns)
    unknown = sorted(str(name) for name in wanted - set(names))
    if unknown:
        raise ValueError(f"unknown core columns: {', '.join(unknown)}")
    return [name for name in names if name in wanted]
