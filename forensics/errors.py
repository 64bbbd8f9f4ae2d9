"""The one base of every error a user can cause: :class:`KnoxError`.

Each subclass names its layer (a backend that is not built, a table file that does not parse, a
path that is not evidence, a time that is not a time, a selection that names nothing). The
command line catches ``KnoxError`` once and prints its message as one line; ``-v`` shows the
cause (``raise ... from exc`` keeps it).
"""

from __future__ import annotations

__all__ = ["KnoxError", "BackendError", "TableError", "CollectionError", "TimeError",
           "SelectionError"]


class KnoxError(Exception):
    """A mistake in what the user asked for, or evidence that cannot be read: one line."""


class BackendError(KnoxError):
    """The decoder backend asked for is unknown or not built."""


class TableError(KnoxError):
    """An evidence table (audit_event, audit_class, passwd, group, dslocal) cannot be used."""


class CollectionError(KnoxError):
    """A path given as evidence cannot be read as trails."""


class TimeError(KnoxError, ValueError):
    """A --since/--until/--tz value that is not a time, span or zone."""


class SelectionError(KnoxError):
    """A selection option that names no event, class, user, group or object."""
