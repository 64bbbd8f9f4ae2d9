"""The ``knox-report`` command line (click lives here and nowhere else)."""

from __future__ import annotations

from .main import __getattr__, main  # noqa: F401 - __getattr__ gives ``cli`` when asked for

__all__ = ["cli", "main"]
