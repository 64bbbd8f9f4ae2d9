"""The ``knox-report`` command line (click lives here and nowhere else)."""

from __future__ import annotations

from .main import main

__all__ = ["cli", "main"]


def __getattr__(name: str):
    if name == "cli":               # the click group, imported when asked for
        from .commands import cli
        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
