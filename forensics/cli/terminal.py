"""Messages for the terminal: evidence names in them (file and member names, link targets)
shown with control characters visible, through the report's one terminal filter."""

from __future__ import annotations

import re

__all__ = ["line"]

_SURROGATE = re.compile("[\ud800-\udfff]")
LIMIT = 2000


def _byte(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:       # a byte os.fsdecode could not decode: the evidence
        return chr(0xEF00 + code - 0xDC00)    # mapping, which the filter shows as \\xNN
    return "\ufffd"


def line(text) -> str:
    """One message line, safe for a terminal (at most LIMIT characters)."""
    from ..report.visible import term

    return term(_SURROGATE.sub(_byte, str(text)), limit=LIMIT)
