"""Attacker-controlled text made visible and inert: control characters, bidirectional overrides
and the bytes that were not valid UTF-8 (U+EF80..U+EFFF, see ``forensics.text``) as ``\\x1b``
escapes; long values cut with a marker."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["INVISIBLE", "escape_code", "term", "html", "path", "ref"]

#: C0/C1 controls, DEL, bidi embeddings/overrides/isolates, line/paragraph separators, BOM,
#: and the private-use block holding invalid UTF-8 bytes
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"
                       "\uef80-\uefff]")
CUT_TERM = 160
CUT_HTML = 4000


def escape_code(ch: str) -> str:
    code = ord(ch)
    if 0xEF80 <= code <= 0xEFFF:
        return "\\x%02x" % (code - 0xEF00)    # the byte that was not UTF-8
    if code < 0x100:
        return "\\x%02x" % code
    return "\\u%04x" % code


def _cut(text: str, limit: int) -> tuple[str, int]:
    return (text, 0) if len(text) <= limit else (text[:limit], len(text) - limit)


def term(value, limit: int = CUT_TERM) -> str:
    """One terminal cell: escapes visible, at most ``limit`` characters, a cut says so."""
    if value is None:
        return ""
    text, more = _cut(str(value), limit * 4)
    text = INVISIBLE.sub(lambda m: escape_code(m.group()), text)
    if len(text) > limit or more:
        return text[:limit - 1] + "…"
    return text


def html(value, limit: int = CUT_HTML, breaks: str = "") -> Markup:
    """HTML-escaped text with invisible characters as ``<span class="kr-ctl">\\x1b</span>``;
    a ``<wbr>`` after every character of ``breaks`` (``/`` for paths) so a long value wraps
    between its parts. The text is escaped first and the ``<wbr>`` added to the escaped text
    only (escaping never yields ``/``, ``.`` or ``:``), so no markup comes from the value."""
    if value is None:
        return Markup("")
    if set(breaks) - _SAFE_BREAKS:
        raise ValueError(f"cannot break after {breaks!r}")
    text, more = _cut(str(value), limit)
    out = []
    at = 0

    def plain(part: str) -> str:
        done = str(escape(part))
        for ch in breaks:
            done = done.replace(ch, ch + "<wbr>")
        return done

    for hit in INVISIBLE.finditer(text):
        out.append(plain(text[at:hit.start()]))
        out.append('<span class="kr-ctl">%s</span>' % escape_code(hit.group()))
        at = hit.end()
    out.append(plain(text[at:]))
    if more:
        out.append('<span class="kr-cut">… %s more characters</span>' % f"{more:,}")
    return Markup("".join(out))


#: characters a line may break after: none of them appears in what ``escape`` writes
_SAFE_BREAKS = set("/.:")


def path(value, limit: int = CUT_HTML) -> Markup:
    """:func:`html` for paths and program names: breaks after each ``/`` and ``.``."""
    return html(value, limit, breaks="/.")


def ref(value) -> Markup:
    """:func:`html` for a record reference (``file.name:offset``): breaks after ``/``, ``.``
    and ``:``."""
    return html(value, breaks="/.:")
