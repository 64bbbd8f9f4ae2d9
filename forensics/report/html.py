"""The HTML report: one self-contained page rendered from the report's structure.

One Jinja environment (autoescape, StrictUndefined); the page's single script is hashed into
its Content-Security-Policy; tables beyond :data:`~forensics.report.cells.HTML_ROWS` rows carry
the rest in JSON data islands escaped for ``<``, ``>`` and ``&``; every string from evidence goes
through :func:`~forensics.report.visible.html`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

from markupsafe import Markup, escape

from ..errors import KnoxError
from . import environment as templates, visible
from .cells import HTML_ROWS, Refs, Table
from .refs import record_key
from .sections import SECTIONS, Report, build

__all__ = ["render", "render_section", "GENERATOR", "island", "script_hash"]

GENERATOR = "knox-report"
_ID_SPACE = re.compile(r"(?<=[a-z]) (?=\d)")


def _asset(name: str) -> str:
    env = templates.environment()
    return env.loader.get_source(env, name)[0]


def script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()


def _refs_html(value: Refs, keys: set) -> Markup:
    out = []
    for text, ref in value.parts:
        if ref is not None and ref in keys:
            out.append(Markup('<a class="kr-ref" href="#rec-%s">%s</a>')
                       % (record_key(*ref), visible.ref(text)))
        elif ref is not None:
            out.append(Markup('<span class="kr-refx">%s</span>') % visible.ref(text))
        else:
            out.append(visible.html(text))
    return Markup("").join(out)


def cell(value, kind: str, keys: set) -> Markup:
    """One table cell's content."""
    if value is None:
        return Markup("")
    if kind == "argv" and isinstance(value, (list, tuple)):
        items = Markup("").join(Markup("<li>%s</li>") % visible.path(a) for a in value[:256])
        more = (Markup('<li class="kr-cut">… %d more arguments</li>') % (len(value) - 256)
                if len(value) > 256 else Markup(""))
        return Markup('<ol class="kr-argv">%s%s</ol>') % (items, more)
    if isinstance(value, Refs):
        return _refs_html(value, keys)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Markup(escape(f"{value}"))
    if kind == "path":
        return visible.path(value)
    if kind == "ids":            # "euid 0 ruid 501": a line breaks between ids, not inside one
        return visible.html(_ID_SPACE.sub("\u00a0", str(value)))
    return visible.html(value)


def _json_cell(value, kind: str, keys: set):
    if value is None or isinstance(value, (int, float)):
        return value
    if kind == "argv" and isinstance(value, (list, tuple)):
        return {"a": [_cut(a) for a in value[:256]]}
    if isinstance(value, Refs):
        return {"r": [[_cut(t), record_key(*r) if r is not None and r in keys else None]
                      for t, r in value.parts]}
    return _cut(str(value))


def _cut(text: str) -> str:
    limit = visible.CUT_HTML
    return text if len(text) <= limit else text[:limit] + f"… {len(text) - limit:,} more characters"


def island(table: Table, keys: set) -> Markup:
    """The table's rows as JSON for a ``<script type="application/json">``: ``<``, ``>`` and
    ``&`` escaped so no string can close the element or open a comment."""
    kinds = [table.kind(c) for c in table.columns]
    data = {"columns": list(table.columns), "kinds": kinds,
            "rows": [[_json_cell(v, k, keys) for v, k in zip(row, kinds)] for row in table.rows]}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # invisible characters (only ever inside strings) as JSON escapes: the page source too
    # shows no raw control, bidi or private-use character
    text = visible.INVISIBLE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    return Markup(text)


def _context(report: Report, standalone: bool = True) -> dict:
    script = _asset("report.js.j2")
    return {
        "report": report, "run": report.run, "sections": report.sections,
        "titles": SECTIONS, "counts": report.counts, "keys": report.record_keys,
        "html_rows": HTML_ROWS, "generator": f"{GENERATOR} {report.run.version}".strip(),
        "script": Markup(script), "script_hash": script_hash(script),
        "style": Markup(_asset("report.css.j2")), "standalone": standalone,
    }


def _environment():
    env = templates.environment()
    if "cell" not in env.globals:
        env.globals["cell"] = cell
        env.globals["island"] = island
    return env


def render(report: Report) -> str:
    """The whole page."""
    return _environment().get_template("report.html.j2").render(_context(report))


def render_section(audit, name: str) -> str:
    """One section as an HTML fragment with its own style (for notebooks: ``audit.section``);
    no script: tables show their first rows and are not interactive."""
    if name not in SECTIONS:
        raise KnoxError(f"unknown section {name!r}; sections: {', '.join(SECTIONS)}")
    report = build(audit, only={name})
    ctx = _context(report, standalone=False)
    ctx["section"] = report.sections[name]
    return _environment().get_template("section.html.j2").render(ctx)
