"""Section ``inferred``: every inferred claim (a life whose person is not on its own records),
with its rule, confidence, the records it rests on and what would weaken it. Direct rows never
appear here."""

from __future__ import annotations

import polars as pl

from .cells import pick, Table, basename, person, rows_of, time_text
from .structure import SECTIONS, Context, Run, Section

__all__ = ["section", "rule_of"]

_RULES = (
    ("asked for", "3: launchd helper tied to the client of an authorization",
     "a client of another person asking for a right in the 30 s before it started, or files "
     "it touched owned by someone else"),
    ("No authorization record", "3: XPC service, by the owner of the files it touched",
     "an authorization record naming another client, or a file of another person"),
    ("Started by", "4: descendant of an attributed helper",
     "whatever weakens the ancestor's attribution (its evidence is quoted)"),
    ("real uid", "5: real uid of an account",
     "a switch into that account (su, setuid) by someone else: the account is not the person"),
)


def rule_of(evidence: str) -> tuple[str, str]:
    """The rule an evidence sentence applies and what would weaken it."""
    for word, rule, weak in _RULES:
        if word in evidence:
            if "A client of another person" in evidence:
                weak = "contested: " + evidence[evidence.index("A client of another person"):]
            return rule, weak
    return "other", "another observation tying the work to a different person"


def section(ctx: Context, run: Run) -> Section:
    lives = ctx.audit.processes.lazy().filter(pl.col("user_kind") == "inferred")
    total = lives.select(pl.len()).collect().item()
    names = ctx.user_names(lives.select(pl.col("user").unique()).collect()
                           .get_column("user").to_list())
    shown = pick(lives.sort("first_seq"),
        "proc_id", pl.col("images").list.eval(basename(pl.element())).list.join(" → "),
        person(name=pl.col("user").replace_strict(names, default=None, return_dtype=pl.String)),
        pl.format("inferred {}", "user_confidence"), "records",
        time_text(pl.coalesce("start", "first_seen")), pl.col("user_evidence").fill_null(""))
    rows = []
    for *head, evidence in rows_of(shown):
        rule, weak = rule_of(evidence)
        rows.append((*head[:4], rule, *head[4:], ctx.finder.refs(evidence), weak))
    cols = ("process", "program", "person", "how sure", "rule", "records", "start", "evidence",
            "would weaken it")
    table = Table("inferred", "Inferred claims", cols, rows, total,
                  {"records": "num", "evidence": "refs"})
    n_events = (ctx.events.lazy().filter(pl.col("attribution_kind") == "inferred")
                .select(pl.len()).collect().item())
    notes = [f"{total:,} processes and {n_events:,} records are attributed by inference; every "
             "other row of this report is read from its own record (direct)."] if total else []
    return Section("inferred", SECTIONS["inferred"],
                   "Work whose records name nobody (launchd helpers, XPC services) tied to a "
                   "person by other records: the rule, how sure, the records it rests on, and "
                   "what would weaken it.", tables=[table], notes=notes)
