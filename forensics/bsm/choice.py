"""Which decoder backend runs: the C core when built, else pure Python; chosen here only.

``KNOX_REPORT_BACKEND=c|python`` (or ``backend=`` in the API) picks one; without either, the C
core runs when it was built at install and the pure-Python decoder otherwise. Asking for ``c``
when it is not built is an error, never a silent fallback. Imports nothing heavy, so the
command line can name the choices without loading Polars.
"""

from __future__ import annotations

import os

from ..errors import BackendError

__all__ = ["VALID", "choose", "c_available"]

VALID = ("c", "python")


def c_available() -> bool:
    try:
        from . import _cbsm  # noqa: F401
    except ImportError:
        return False
    return True


def choose(name: str | None = None) -> str:
    """The backend to run: ``name``, else $KNOX_REPORT_BACKEND, else c when built."""
    if name is None:
        name = os.environ.get("KNOX_REPORT_BACKEND") or None
    if name is None:
        return "c" if c_available() else "python"
    name = name.strip().lower()
    if name not in VALID:
        raise BackendError(f"unknown backend {name!r}: valid backends are {', '.join(VALID)}")
    if name == "c" and not c_available():
        raise BackendError("the C backend was asked for but is not built "
                           "(install with a C compiler, or use KNOX_REPORT_BACKEND=python)")
    return name
