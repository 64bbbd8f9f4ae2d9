"""What a file's name says: trail names (``START.END``), kinds, suffixes, and the time window.

libauditd names a trail ``YYYYMMDDhhmmss.YYYYMMDDhhmmss`` (start.end, kind ``terminated``),
``YYYYMMDDhhmmss.not_terminated`` or ``YYYYMMDDhhmmss.crash_recovery``, each optionally
followed by ``.<hostname>`` (auditd's ``host:`` setting) and by a compression suffix. The
stamps are UTC and must be real dates and times, otherwise the kind is ``other``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING


if TYPE_CHECKING:  # pragma: no cover
    from .files import TrailFile

__all__ = ["KINDS", "parse_name", "in_window", "strip_compression_suffix", "is_hidden",
           "name_skip_reason", "archive_kind_by_name", "COMPRESSION_SUFFIXES"]

KINDS = ("terminated", "not_terminated", "crash_recovery", "other")

COMPRESSION_SUFFIXES = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
    ".zst": "zstd",
    ".zstd": "zstd",
}
_TAR_SUFFIXES = (
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz",
    ".tar.zst", ".tar.zstd", ".tzst",
)
_ZIP_SUFFIXES = (".zip",)
_CONFIG_NAMES = frozenset(
    {"audit_control", "audit_class", "audit_event", "audit_user", "audit_warn",
     "audit_control.example", "audit_user.example"}
)
_TEXT_SUFFIXES = frozenset(
    {".txt", ".text", ".md", ".rst", ".log", ".csv", ".tsv", ".json", ".jsonl", ".ndjson",
     ".xml", ".plist", ".html", ".htm", ".pdf", ".rtf", ".yaml", ".yml", ".ini", ".conf",
     ".cfg", ".sh", ".py", ".sha256", ".sha1", ".md5"}
)

_TRAIL_NAME = re.compile(
    r"(?P<start>\d{14})\.(?:(?P<end>\d{14})|(?P<state>not_terminated|crash_recovery))"
    r"(?:\.(?P<host>[A-Za-z0-9][A-Za-z0-9._-]*))?"
)


def parse_name(name: str) -> tuple[str, datetime | None, datetime | None, str | None]:
    """``(kind, start, end, host)`` from a trail's base name (compression suffix removed)."""
    m = _TRAIL_NAME.fullmatch(name)
    if not m:
        return "other", None, None, None
    start = _stamp(m["start"])
    if start is None:
        return "other", None, None, None
    if m["end"] is not None:
        end = _stamp(m["end"])
        if end is None:
            return "other", None, None, None
        return "terminated", start, end, m["host"]
    return m["state"], start, None, m["host"]


def _stamp(s: str) -> datetime | None:
    try:
        return datetime(
            int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]), int(s[12:14]),
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None


def in_window(
    t: TrailFile,
    since: datetime | None,
    until: datetime | None,
    *,
    slack: timedelta = timedelta(0),
) -> bool:
    """False only when the trail's *name* proves it holds no record in ``[since, until)``.

    Records are committed at or after START (second precision) and, for a ``START.END``
    trail, before END + 1 s. ``not_terminated``, ``crash_recovery`` and ``other`` trails are
    decided by START alone (START >= until). A name whose END is before its START (the clock
    went back while the trail was written) proves nothing. ``slack`` widens both tests (for
    the short race between auditd's name stamp and the kernel switching files). Names are whole
    seconds and the test is exact, so it never drops a file that :class:`forensics.window.Window`
    (half-open, integer ms) would keep a record of.
    """
    for v in (since, until):
        if v is not None and v.tzinfo is None:
            raise ValueError("in_window needs timezone-aware datetimes")
    start = t.name_start
    if start is None:
        return True
    end = t.name_end if t.kind == "terminated" else None
    if end is not None and end < start:
        return True
    if until is not None and start - slack >= until:
        return False
    if end is not None and since is not None and end + timedelta(seconds=1) + slack <= since:
        return False
    return True


def strip_compression_suffix(name: str) -> str:
    root, ext = os.path.splitext(name)
    if root and ext.lower() in COMPRESSION_SUFFIXES:
        return root
    return name


def is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def name_skip_reason(name: str) -> str | None:
    """Why a found (not explicitly named) file is obviously not a trail, by name alone."""
    if name.startswith("."):
        return "hidden file"
    if name in _CONFIG_NAMES:
        return "audit configuration file"
    ext = os.path.splitext(strip_compression_suffix(name))[1].lower()
    if ext in _TEXT_SUFFIXES:
        return f"{ext} file, not a trail"
    return None


def archive_kind_by_name(name: str) -> str | None:
    low = name.lower()
    if low.endswith(_ZIP_SUFFIXES):
        return "zip"
    if low.endswith(_TAR_SUFFIXES):
        return "tar"
    return None
