"""The report's structure, built once from an ``Audit``'s frames; HTML and text render it.

``build(audit, run)`` returns a :class:`Report`: run facts, then one :class:`Section` per part
of the page (``SECTIONS``), each holding capped :class:`~forensics.report.cells.Table` rows,
sentences, process trees, charts or decoded records. Every person comes from attribution
(``audit.attributed``, which is ``events`` without its evidence column; ``processes``,
``sessions``), never from a raw auid. Frames are filtered lazily and counted with group-bys;
only capped heads become Python values.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from . import (charts, commands, coverage, failures, files, inferred, network, people,
               records)
from .structure import SECTIONS, Context, Input, Report, Run, Section

__all__ = ["SECTIONS", "Input", "Run", "Section", "Report", "Context", "build"]


def build(audit, run: Run | None = None, only: set[str] | None = None) -> Report:
    """The report's structure; ``only`` limits it to some sections (notebooks)."""
    run = run or Run()
    wanted = only
    if only is not None and "records" in only:
        only = None                      # the records cited anywhere: every section is needed
    ctx = Context.of(audit)
    builders = {
        "run": coverage.run_section, "coverage": coverage.coverage_section,
        "people": people.section, "commands": commands.section, "files": files.section,
        "inferred": inferred.section, "failures": failures.section,
        "network": network.section, "timeline": charts.section,
    }
    sections: dict[str, Section] = {}
    timings: dict[str, float] = {}
    for name, make in builders.items():
        if only is None or name in only or name == "run":
            began = time.monotonic()
            sections[name] = make(ctx, run)
            timings[name] = time.monotonic() - began
    counts = key_counts(ctx, sections)
    keys: set = set()
    if only is None or "records" in only or only - {"run", "timeline"}:
        began = time.monotonic()
        sections["records"] = records.section(ctx, sections)
        timings["records"] = time.monotonic() - began
        keys = {r.ref for r in sections["records"].records}
    if wanted is not None:
        sections = {k: v for k, v in sections.items() if k in wanted}
    elapsed = None if run.started is None else time.monotonic() - run.started
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    report = Report(run, counts, sections, keys, elapsed, generated, timings)
    if "run" in sections:
        coverage.finish_run(report)
    return report


def key_counts(ctx: Context, sections: dict[str, Section]) -> dict[str, int]:
    """The figures at the top of the page, from the tables' totals."""
    out = {"records": ctx.audit.records.height}
    for sec in sections.values():
        for t in sec.tables:
            out[t.name] = t.total
    if "people" in sections:
        out["people"] = sections["people"].values["people"]
    return out
