"""Child process for the hostile suite: ``load(*paths, **options)`` and a JSON digest on stdout.

Argument: a JSON list ``[paths, options]``. The digest holds what the tests assert on: record
count, the distinct auids, the sources read (path, kind, read, skip reason), the errors rows, and
for exec records the subject seen and the damage flagged (and, with ``events: true``,
who the exec is attributed to).
"""

from __future__ import annotations

import json
import sys

import polars as pl

import forensics


def digest(audit) -> dict:
    rec = audit.records
    execs = rec.filter(pl.col("event").is_in([23, 43190]))
    return {
        "records": rec.height,
        "auids": sorted({a for a in rec.get_column("auid").to_list() if a is not None}),
        "rows": rec.select("offset", "time", "auid", "damage").to_dicts(),
        "sources": audit.sources.select("path", "kind", "read", "skip_reason",
                                        "records").to_dicts(),
        "record_sources": sorted(set(rec.get_column("source").to_list())),
        "errors": audit.errors.to_dicts(),
        "execs": execs.select("auid", "pid", "paths", "damage").to_dicts(),
    }


def main() -> int:
    paths, options = json.loads(sys.argv[1])
    want_events = options.pop("events", False)
    audit = forensics.load(*paths, **options)
    out = digest(audit)
    if want_events:
        events = audit.events.filter(pl.col("event").is_in([23, 43190]))
        out["exec_events"] = events.select("pid", "user", "attribution_kind", "confidence",
                                           "damage").to_dicts()
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
