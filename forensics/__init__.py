"""knox-report: offline forensics for macOS and FreeBSD BSM audit trails.

    import forensics
    audit = forensics.load("/evidence/audit/", since="yesterday")
    audit.records      # one row per record          audit.tokens    one row per token
    audit.errors       # damaged spans skipped       audit.sources   one row per file
    audit.processes    # process lifetimes           audit.events    records + who did it
    audit.sessions     # logins and sessions
    forensics.backend  # "c" or "python": the decoder that runs ($KNOX_REPORT_BACKEND)
"""

from __future__ import annotations

from .audit import Audit, load, scan
from .errors import (BackendError, CollectionError, KnoxError, SelectionError, TableError,
                     TimeError)
from .tables import Tables

__version__ = "0.1.0"

__all__ = [
    "Audit",
    "BackendError",
    "CollectionError",
    "KnoxError",
    "SelectionError",
    "TableError",
    "Tables",
    "TimeError",
    "backend",
    "load",
    "scan",
]


def __getattr__(name: str):
    if name == "backend":
        from .bsm.backends import choose
        return choose()
    raise AttributeError(f"module 'forensics' has no attribute {name!r}")
