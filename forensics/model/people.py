"""Names of uids, from the evidence machine's user tables (never from this machine)."""

from __future__ import annotations

import polars as pl

from ..schema import UNSET

__all__ = ["id_text", "user_names"]


def user_names(uids: pl.Series, users) -> pl.Series:
    """The name of each uid in ``users`` (a ``forensics.tables.Users``); null without tables
    or for a uid the tables do not hold."""
    if users is None:
        return pl.Series(uids.name, [None] * len(uids), dtype=pl.String)
    mapping = {u: users.user_name(u) for u in uids.drop_nulls().unique().to_list()}
    return uids.replace_strict(mapping, default=None, return_dtype=pl.String)


def id_text(value) -> str:
    """An id as evidence sentences write it: the number, ``unset`` or ``none``."""
    if value is None:
        return "none"
    return "unset" if value == UNSET else str(value)
