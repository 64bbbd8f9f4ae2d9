"""The ``knox-report`` command line (click lives here and nowhere else)."""

from __future__ import annotations

from .main import cli, main

__all__ = ["cli", "main"]
