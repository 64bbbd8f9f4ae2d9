"""What a lazy query's predicate tells the decoder before a record is built.

``scan()`` applies the whole predicate to every file's records; this module only reads, from
the predicate's plan, the bounds that are safe to check earlier: a time window (comparisons of
``time`` with a datetime literal) and a set of event numbers (``event == N``, or
``event_name == "AUE_..."`` through the evidence's event table), when they are joined by ``&``
at the top of the predicate. Anything
else is left to the filter: the bounds found are never narrower than the predicate itself.
"""

from __future__ import annotations

import json

import polars as pl

from .window import Window

__all__ = ["bounds"]

_UNIT_PER_MS = {"Milliseconds": 1, "Microseconds": 1000, "Nanoseconds": 1_000_000}


def bounds(predicate: pl.Expr, numbers_named=None) -> tuple[Window, frozenset | None]:
    """(time window, event numbers or None) implied by ``predicate``; open when unknown.

    ``numbers_named(name)``: every event number the evidence's table gives that name (so
    ``event_name == "AUE_EXECVE"`` bounds the events too)."""
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except Exception:            # noqa: BLE001 - an unserialisable expression bounds nothing
        return Window(), None
    window, events = Window(), None
    for term in _conjuncts(tree):
        found = _time_bound(term)
        if found is not None:
            window = window & found
            continue
        numbers = _event_numbers(term)
        if numbers is None and numbers_named is not None:
            name = _event_name(term)
            numbers = None if name is None else frozenset(numbers_named(name))
        if numbers is not None:
            events = numbers if events is None else events & numbers
    return window, events


def _conjuncts(node) -> list:
    """The terms of a top-level chain of ``&``."""
    if isinstance(node, dict) and "BinaryExpr" in node and node["BinaryExpr"]["op"] == "And":
        inner = node["BinaryExpr"]
        return _conjuncts(inner["left"]) + _conjuncts(inner["right"])
    return [node]


def _column(node) -> str | None:
    return node.get("Column") if isinstance(node, dict) else None


def _datetime_ms(node) -> tuple[int, int] | None:
    """A datetime literal as (floor ms, ceil ms)."""
    try:
        value, unit, _zone = node["Literal"]["Scalar"]["Datetime"]
        per = _UNIT_PER_MS[unit]
    except (KeyError, TypeError, ValueError):
        return None
    return value // per, -(-value // per)


_FLIP = {"Gt": "Lt", "GtEq": "LtEq", "Lt": "Gt", "LtEq": "GtEq", "Eq": "Eq"}


def _time_bound(node) -> Window | None:
    if not isinstance(node, dict) or "BinaryExpr" not in node:
        return None
    b = node["BinaryExpr"]
    op, left, right = b["op"], b["left"], b["right"]
    if _column(right) == "time" and op in _FLIP:
        op, left, right = _FLIP[op], right, left
    if _column(left) != "time":
        return None
    ms = _datetime_ms(right)
    if ms is None:
        return None
    floor, ceil = ms
    if op in ("Gt", "GtEq"):
        return Window(floor, None)
    if op in ("Lt", "LtEq"):
        return Window(None, ceil + 1)
    if op == "Eq":
        return Window(floor, ceil + 1)
    return None


def _int_literal(node) -> int | None:
    try:
        lit = node["Literal"]
    except (KeyError, TypeError):
        return None
    for path in (("Dyn", "Int"), ("Scalar", "UInt16"), ("Scalar", "Int64"), ("Scalar", "Int32")):
        cur = lit
        for key in path:
            cur = cur.get(key) if isinstance(cur, dict) else None
        if isinstance(cur, int):
            return cur
    return None


def _equal_to(node, column: str):
    """The literal node in ``column == literal`` (either side), or None."""
    if not isinstance(node, dict) or "BinaryExpr" not in node:
        return None
    b = node["BinaryExpr"]
    if b["op"] != "Eq":
        return None
    for col, lit in ((b["left"], b["right"]), (b["right"], b["left"])):
        if _column(col) == column:
            return lit
    return None


def _event_name(node) -> str | None:
    """The name in ``event_name == "NAME"``."""
    lit = _equal_to(node, "event_name")
    try:
        value = lit["Literal"]["Scalar"]["String"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _event_numbers(node) -> frozenset | None:
    lit = _equal_to(node, "event")
    number = None if lit is None else _int_literal(lit)
    if number is not None and 0 <= number <= 0xFFFF:
        return frozenset({number})
    return None
