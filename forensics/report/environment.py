"""The Jinja2 templates in ``reports/templates/`` (shipped in the wheel as forensics/report_templates).

HTML templates are autoescaped: everything in a trail is attacker-controlled.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from . import visible

__all__ = ["environment", "template_dir"]


def template_dir() -> Path:
    """Installed: the ``forensics.report_templates`` package; in a source checkout: reports/templates."""
    source = Path(__file__).resolve().parents[2] / "reports" / "templates"
    if source.is_dir():
        return source
    return Path(str(resources.files("forensics.report_templates")))


def _table(rows, *headers, limit: int = visible.CUT_TERM) -> str:
    """Rows as aligned plain-text columns (for the text summary); every cell through ``term``,
    so no cell is wider than ``limit`` and control characters show as escapes."""
    cells = [tuple(headers)] + [tuple(visible.term(c, limit) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in cells)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "html.j2"]),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["table"] = _table
    env.filters["term"] = visible.term
    env.filters["vis"] = visible.html
    env.filters["path"] = visible.path
    return env
