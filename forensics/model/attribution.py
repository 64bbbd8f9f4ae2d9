"""Who did it: every record tied to its process lifetime, its program and a person.

``events(records, processes, users)`` returns every records column plus ``EVENT_COLUMNS``:
the lifetime, the program, the person (uid and name), how the person was found and how sure,
whether the work was elevated, the responsible lifetime and the evidence (each column's meaning:
``forensics.schema.ATTRIBUTION``).

``sessions(records, users)`` (from ``forensics.model.sessions``) lists logins, logouts, audit
sessions and authentications.

The rules, the confidence levels and what BSM cannot tell are in ``docs/attribution.md``.
"""

from __future__ import annotations

import polars as pl

from ..schema import EVENT_COLUMNS, UNSET
from . import processes as proc
from .order import ensure
from .people import user_names
from .sessions import SESSIONS, sessions
from .vocab import LABELS, LOGINS, SESSION_EVENTS, is_person, name_of

__all__ = ["EVENT_COLUMNS", "SESSIONS", "events", "sessions"]

# the cases of a record, in the order they are tried
_FAILED_CLAIM, _OWN_AUID, _LIFE, _RUID, _NOBODY, _NO_SUBJECT = range(6)


def events(records: pl.DataFrame, processes: pl.DataFrame | None = None,
           users=None, ordered: pl.DataFrame | None = None, *,
           evidence: bool = True) -> pl.DataFrame:
    """Every record with its lifetime, program, person and the evidence for it.
    ``processes``: ``processes.build(records)``, built when not given; ``ordered``:
    ``order.order(records)`` when the caller already has it. ``evidence=False`` leaves out the
    ``evidence`` column (a sentence per record, the largest one) for callers that never show
    it."""
    r = ensure(records, ordered)
    if processes is None:
        processes = proc.build(records, r)
    lives = processes.with_row_index("lid")
    r = _cases(_lives_of(r, lives), lives)
    runs = _runs(r, lives, users)
    r = r.with_columns([runs.get_column(c).gather(r.get_column("_run"))
                        for c in runs.columns[1:] if evidence or c != "_msg"])
    euid, ruid, person, lid = pl.col("euid"), pl.col("ruid"), pl.col("user"), r.get_column("lid")
    said = [pl.format("{}:{}: {}", "src", "offset", "_msg").alias("evidence")] if evidence else []
    r = r.with_columns(
        *said,
        pl.when(person.is_not_null() & (pl.col("pid") != 0))
        .then((euid == 0) | (euid != person) | (ruid != person)).alias("elevated"),
        lives.get_column("proc_id").gather(lid),
        lives.get_column("responsible_proc_id").gather(lid))
    names = [c for c in EVENT_COLUMNS.names() if evidence or c != "evidence"]
    added = r.select("row", *names)
    if not added.get_column("row").is_sorted():
        added = added.sort("row")
    return _distrust_guesses(records.hstack(
        added.drop("row").cast({c: EVENT_COLUMNS[c] for c in names}).get_columns()))


#: A record whose subject the decoder had to guess (bsm/: ``ambiguous exec cut``): argument
#: bytes are the user's and may carry a well-formed subject of someone else.
_GUESSED = "ambiguous exec cut"


def _distrust_guesses(events: pl.DataFrame) -> pl.DataFrame:
    """Records whose subject rests on a guessed exec_args cut: confidence low, and said why.

    Only those (few) rows are rewritten: a ``when/then`` would build the longer sentence for
    every record and keep all of it alive in the new column.
    """
    if "damage" not in events.columns:
        return events
    rows = (events.get_column("damage") == _GUESSED).fill_null(False).arg_true()
    if rows.is_empty():
        return events
    if "evidence" not in events.columns:
        return events.with_columns(events.get_column("confidence").scatter(rows, "low"))
    evidence = events.get_column("evidence")
    said = evidence.gather(rows) + (
        " The kernel cut this exec's strings where another clean cut gives another subject"
        " (ambiguous exec cut): the subject may be forged by its own arguments.")
    return events.with_columns(
        events.get_column("confidence").scatter(rows, "low"),
        evidence.scatter(rows, said))


def _lives_of(r: pl.DataFrame, lives: pl.DataFrame) -> pl.DataFrame:
    """The ordered records (narrowed) with ``lid`` (their life: the last life of their pid
    begun at or before them; none for session records) and ``image`` (the life's image in
    effect then), by as-of joins."""
    in_life = pl.col("pid").is_not_null() & ~pl.col("event").is_in(list(SESSION_EVENTS))
    r = r.select("row", "seq", "src", "offset", "event", "pid", "auid", "euid", "ruid", "asid",
                 "success").join_asof(
        lives.select("pid", "first_seq", "lid").sort("first_seq"), left_on="seq",
        right_on="first_seq", by="pid", strategy="backward", check_sortedness=False)
    r = r.with_columns(pl.when(in_life).then("lid").alias("lid")).drop("first_seq")
    imgs = lives.select("lid", pl.col("images").alias("image"),
                        pl.col("image_seqs").alias("image_seq")
                        ).explode(["image", "image_seq"]).drop_nulls("image_seq")
    imgs = imgs.sort("image_seq").unique(["lid", "image_seq"], keep="last",
                                         maintain_order=True)
    return r.join_asof(imgs, left_on="seq", right_on="image_seq", by="lid",
                       strategy="backward", check_sortedness=False).drop("image_seq")


def _cases(r: pl.DataFrame, lives: pl.DataFrame) -> pl.DataFrame:
    """``_case`` of every record (what its attribution rests on) and ``_run``: runs of records
    sharing the values their attribution depends on (the case and its subject's ids, or its
    lifetime) share one message, worked out once per distinct combination."""
    lid = r.get_column("lid")
    # the lifetime's inference applies when it does not rest on the real uid of its first
    # record (one flag per lifetime, read by gather: lid is the row of ``lives``)
    l_inferred = lives.select(
        (pl.col("user_kind") == "inferred").fill_null(False) & pl.col("user").is_not_null()
         & ~(pl.col("ruid") == pl.col("user")).fill_null(False)).to_series()
    auid, ruid = pl.col("auid"), pl.col("ruid")
    subject = auid.is_not_null()
    set_ = subject & (auid != UNSET)
    # a failed login names the user that was claimed (sudo and su failures keep the real auid)
    failed_claim = (set_ & pl.col("event").is_in(list(LOGINS))
                    & (pl.col("success") == False))
    life_inferred = subject & ~set_ & pl.col("_li").fill_null(False)
    by_ruid = subject & ~set_ & is_person(ruid)
    case = (pl.when(failed_claim).then(_FAILED_CLAIM).when(set_).then(_OWN_AUID)
            .when(life_inferred).then(_LIFE).when(by_ruid).then(_RUID)
            .when(subject).then(_NOBODY).otherwise(_NO_SUBJECT).cast(pl.UInt8))
    r = r.with_columns(l_inferred.gather(lid).alias("_li")).with_columns(case.alias("_case"))
    r = r.with_columns(pl.when(pl.col("_case") == _LIFE).then("lid").alias("_l2"),
                       pl.when(pl.col("_case") == _FAILED_CLAIM).then("event").alias("_e0"))
    run_cols = ["_case", "_e0", "auid", "euid", "ruid", "asid", "_l2"]
    new_run = pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1)) for c in run_cols])
    return r.with_columns((new_run.fill_null(True).cast(pl.UInt32).cum_sum() - 1).alias("_run"))


def _runs(r: pl.DataFrame, lives: pl.DataFrame, users) -> pl.DataFrame:
    """One row per run (``_run``): user, user_name, attribution_kind, confidence and the
    message (``_msg``) of the evidence, each distinct combination worked out once."""
    auid, euid, ruid = pl.col("auid"), pl.col("euid"), pl.col("ruid")
    c = pl.col("_case")
    keys = ["_case", "_e", "_a", "_eu", "_ru", "_as", "_lid"]
    runs = r.lazy().filter(pl.col("_run").is_first_distinct()).select(
        "_run",
        pl.when(c == _FAILED_CLAIM).then("event").alias("_e"),
        pl.when(c <= _OWN_AUID).then(auid).alias("_a"),
        pl.when(c == _OWN_AUID).then(euid).alias("_eu"),
        pl.when(c.is_in([_OWN_AUID, _RUID])).then(ruid).alias("_ru"),
        pl.when(c == _OWN_AUID).then("asid").alias("_as"),
        pl.when(c == _LIFE).then("lid").alias("_lid"),
        "_case").collect()
    msgs = runs.select(keys).unique(keys)
    ml = msgs.get_column("_lid")
    msgs = msgs.with_columns(
        lives.get_column("user_evidence").gather(ml).alias("l_evidence"),
        lives.get_column("user").gather(ml).alias("l_user"),
        lives.get_column("user_confidence").gather(ml).alias("l_conf"))
    msgs = msgs.with_columns(
        pl.when(c <= _OWN_AUID).then("_a").when(c == _LIFE).then("l_user")
        .when(c == _RUID).then("_ru").cast(pl.UInt32).alias("user"),
        pl.when(c <= _OWN_AUID).then(pl.lit("direct")).when(c <= _RUID).then(pl.lit("inferred"))
        .when(c == _NOBODY).then(pl.lit("direct")).alias("attribution_kind"),
        pl.when(c == _FAILED_CLAIM).then(pl.lit("low")).when(c == _OWN_AUID).then(pl.lit("high"))
        .when(c == _LIFE).then("l_conf").when(c == _RUID).then(pl.lit("medium"))
        .when(c == _NOBODY).then(pl.lit("high")).alias("confidence"),
        pl.when(c == _FAILED_CLAIM).then(pl.format(
            "a failed {} names auid {}; whoever tried need not be that person.",
            pl.coalesce(name_of(LABELS, pl.col("_e")), pl.col("_e").cast(pl.String)), "_a"))
        .when(c == _OWN_AUID).then(pl.format(
            "subject auid {}, euid {}, ruid {}, session {}.", "_a", "_eu", "_ru", "_as"))
        .when(c == _LIFE).then(pl.format("subject auid unset. {}", "l_evidence"))
        .when(c == _RUID).then(pl.format("subject auid unset, but real uid {}.", "_ru"))
        .when(c == _NOBODY).then(pl.lit(
            "subject auid unset (4294967295) and nothing ties the work to a person."))
        .otherwise(pl.lit("the record has no subject.")).alias("_msg"))
    msgs = msgs.with_columns(user_names(msgs.get_column("user"), users).alias("user_name"))
    return runs.join(msgs, on=keys, how="left", nulls_equal=True).select(
        "_run", "user", "user_name", "attribution_kind", "confidence", "_msg").sort("_run")
