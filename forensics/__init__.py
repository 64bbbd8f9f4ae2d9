"""knox-report: offline forensics for macOS and FreeBSD BSM audit trails.

    import forensics
    audit = forensics.load("/evidence/audit/", since="yesterday")
    audit.records      # one row per record          audit.tokens    one row per token
    audit.errors       # damaged spans skipped       audit.sources   one row per file
    audit.processes    # process lifetimes           audit.events    records + who did it
    audit.sessions     # logins and sessions
    forensics.backend  # "c" or "python": the decoder that runs ($KNOX_REPORT_BACKEND)
    audit.write("out/", "parquet");  forensics.read("out/")   # an export, and back (lazily)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (BackendError, CollectionError, KnoxError, SelectionError, TableError,
                     TimeError)
from .tables import Tables

if TYPE_CHECKING:
    from .audit import Audit, load, scan
    from .stored import read

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
    "read",
    "scan",
]


#: Imported on first use, so that `knox-report praudit` starts without Polars.
_LAZY = {"Audit": "audit", "load": "audit", "scan": "audit", "read": "stored"}


def __getattr__(name: str):
    if name == "backend":
        from .bsm.choice import choose
        return choose()
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forensics' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
