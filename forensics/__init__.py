"""knox-report: offline forensics for macOS and FreeBSD BSM audit trails."""

from __future__ import annotations

__version__ = "0.1.0"
