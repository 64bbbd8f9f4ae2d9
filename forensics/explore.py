"""Notebook helpers on an :class:`~forensics.audit.Audit` (mixed into it): questions analysts ask
of the frames. Reads frames only."""

from __future__ import annotations

__all__ = ["Explore"]


class Explore:
    """Methods every ``Audit`` has for deep dives in a notebook."""
