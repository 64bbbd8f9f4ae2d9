"""Process lifetimes: one row per life of a pid, rebuilt from a records frame.

BSM carries no process generation, no parent pid and no responsible pid, so a lifetime is
inferred (see ``docs/attribution.md``):

* **Order.** Records are put in one global order, ``seq`` = (file order, byte offset): the
  order in which the files appear in the frame, then the offset inside each file. Header
  times are commit times in whole milliseconds and the clock can jump, so time only decides
  closeness, never order.
* **Births.** fork, vfork, rfork, pdfork and posix_spawn announce a child in ``arg32(0, "child
  PID")`` (fork's return value is the child pid too). Each announcement of a pid starts a new
  lifetime of that pid, whatever came before (pids wrap at 99999 and are reused). A
  posix_spawn without the child pid is an exec in place (xpcproxy becoming an XPC service):
  same lifetime, new image.
* **Children before parents.** A child runs before its parent's fork/spawn record is
  committed, so its first records (posix_spawn file actions, an early exec) can precede the
  announcement, in file order and in time. Records of the pid that come right before an
  announcement - contiguous, within ``early_ms`` of it, after the last exit - belong to the
  announced child.
* **Deaths.** Only exit(2) writes an exit record; signals, crashes and jetsam leave none. After
  an exit record, records of the pid within ``grace_ms`` (other threads, closes at exit, kill
  records aimed at the zombie) still belong to the process; a later record, an exec or a fork
  by that pid is a new, unannounced life ("first seen"). A life without an exit ends when its
  pid is announced again ("pid reused") or is simply last seen.
* **Images.** The executable of an exec or spawn is the record's second path (kpath, resolved;
  the first is the path as given), else its only path; for ``#!`` scripts the third path is the
  interpreter. A forked child runs its parent's image until it execs. The subject and identity
  of an exec record describe the caller before the exec; the 20-byte data token is the new
  image's cdhash.
* **Credentials** are those of the life's first kernel record (the announcing record's subject
  when it has none); every later difference seen in the subjects of its kernel records is listed
  in ``credential_changes`` with the call that caused it, and set*id calls add what they asked
  for (subjects show credentials from before the call).

Lifetimes are computed column-wise with Polars: the few lifecycle records (fork, spawn, exec,
exit, set*id) are extracted first and every record is assigned to its lifetime with as-of joins
on (pid, seq) and window functions; only the lifetimes themselves (far fewer than records) go
through Python for image inheritance and the responsible process.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from ..schema import LIFETIME, PROCESSES, UNSET
from .helpers import jump, responsible
from .order import at, ensure, order
from .vocab import (
    ANNOUNCE,
    AUTH_EVENTS,
    CREDS,
    EXECS,
    EXIT,
    SESSION_EVENTS,
    SPAWN,
    is_person,
    is_user_event,
    name_of,
)

__all__ = [
    "ANNOUNCE",
    "AUTH_EVENTS",
    "AUTH_WINDOW_MS",
    "CREDS",
    "EARLY_MS",
    "EXECS",
    "EXIT",
    "GRACE_MS",
    "LIFETIME",
    "SCHEMA",
    "SESSION_EVENTS",
    "UNSET",
    "build",
    "is_person",
    "order",
]

EARLY_MS = 2_000        # a child's records may precede the record announcing it by this much
GRACE_MS = 5_000        # records of a pid this long after its exit record still belong to it
AUTH_WINDOW_MS = 30_000  # an authorization this long before a helper starts may have asked for it

_CRED_COLS = ("auid", "euid", "egid", "ruid", "rgid", "asid")

#: The processes frame's schema (``forensics.schema.PROCESSES``; columns and meanings there:
#: ``LIFETIME``), under its old name.
SCHEMA = PROCESSES

_NO_KEY = 1 << 62   # key2 of the lives before any announcement of a pid: _NO_KEY + pid
_SPLIT = 1 << 63    # lkey of a life that began after an exit: _SPLIT + seq of its first record


def build(records: pl.DataFrame, ordered: pl.DataFrame | None = None, *,
          early_ms: int = EARLY_MS, grace_ms: int = GRACE_MS,
          auth_window_ms: int = AUTH_WINDOW_MS) -> pl.DataFrame:
    """One row per lifetime of a pid (see the module text for the rules and ``LIFETIME``).
    ``ordered``: ``order.order(records)`` when the caller already has it."""
    return _build(ensure(records, ordered), early_ms, grace_ms, auth_window_ms)[0]


class _Lifecycle(NamedTuple):
    """The lifecycle records (a small subset of the records)."""
    ann: pl.DataFrame     # announcements of a child pid: one row per announcing record
    execs: pl.DataFrame   # execs and execs in place (posix_spawn without a child)
    req: pl.DataFrame     # successful set*id calls, with what they asked for


def _build(r: pl.DataFrame, early_ms: int, grace_ms: int, auth_window_ms: int):
    """(lifetimes, pr): pr holds (seq, lkey, ...) for every record assigned to a lifetime."""
    if r.height == 0:
        return pl.DataFrame(schema=SCHEMA), None
    lc = _lifecycle(r)
    pr = _record_keys(r, lc, early_ms, grace_ms)
    lt = _announced(_aggregate(r, pr), lc.ann)
    lt, lid_of = _identify(r, pr, lt, lc.ann)
    lt = _credentials(r, pr, lt, lc.req, lid_of)
    lt = _images(lt, lc.execs.with_columns(lid_of(lc.execs.get_column("seq"))))
    lt = responsible(lt, r, pr, lid_of, auth_window_ms)
    return lt.select(list(SCHEMA.names())).cast(dict(SCHEMA)).sort("first_seq", "pid"), pr


def _child_pid() -> pl.Expr:
    arg = pl.element().struct
    announced = pl.col("args").list.eval(
        pl.element().filter((arg.field("number") == 0)
                            & arg.field("text").str.to_lowercase().str.starts_with("child"))
        .struct.field("value")).list.first()
    forkret = pl.when(pl.col("event").is_in([e for e in ANNOUNCE if e != SPAWN])
                      & (pl.col("success") == True) & (pl.col("return_value") > 0)
                      ).then(pl.col("return_value"))
    return pl.coalesce(announced.cast(pl.Int64), forkret).cast(pl.UInt32)


def _image_cols() -> list[pl.Expr]:
    paths = pl.col("paths")
    n = paths.list.len()
    return [
        pl.when(n >= 2).then(paths.list.get(1, null_on_oob=True))
        .otherwise(paths.list.get(0, null_on_oob=True)).alias("image"),
        pl.when(n >= 3).then(paths.list.get(2, null_on_oob=True)).alias("interp"),
        pl.col("exec_argv").alias("argv"),
        pl.col("exec_cdhash").alias("img_cdhash"),
    ]


def _lifecycle(r: pl.DataFrame) -> _Lifecycle:
    """Three narrow queries: announcements, execs in place, set*id requests (the list columns
    are read for those records only)."""
    has_pid = pl.col("pid").is_not_null()
    announces = pl.col("event").is_in(list(ANNOUNCE))
    child = pl.when(announces & (pl.col("success") != False)
                    ).then(_child_pid()).alias("child")
    spawned = pl.col("event") == SPAWN
    ann_q = r.lazy().filter(announces & has_pid).with_columns(
        child, *_image_cols()
    ).filter(pl.col("child").is_not_null() & (pl.col("child") != pl.col("pid"))).select(
        pl.col("child").alias("pid"), pl.col("seq").alias("a_seq"), pl.col("t").alias("a_t"),
        pl.col("time").alias("a_time"), pl.col("pid").alias("ppid"),
        name_of(ANNOUNCE).alias("a_kind"),
        pl.when(spawned).then(pl.col("image")).alias("a_image"),
        pl.when(spawned).then(pl.col("argv")).alias("a_argv"),
        pl.when(spawned).then(pl.col("interp")).alias("a_interp"),
        pl.when(spawned).then(pl.col("img_cdhash")).alias("a_cdhash"),
        *[pl.col(c).alias(f"a_{c}") for c in _CRED_COLS],
    ).sort("a_seq")
    ok_exec = (pl.col("success") == True) | (
        pl.col("success").is_null() & pl.col("exec_cdhash").is_not_null())
    execs_q = r.lazy().filter(pl.col("event").is_in([*EXECS, SPAWN]) & has_pid).with_columns(
        child, *_image_cols()
    ).filter(
        ok_exec & (pl.col("event").is_in(list(EXECS)) | (spawned & pl.col("child").is_null()))
        & pl.col("image").is_not_null()
    ).select("seq", "time", "image", "argv", "interp", "img_cdhash")
    req_q = r.lazy().filter(pl.col("event").is_in(list(CREDS)) & has_pid
                            & (pl.col("success") != False)).select(
        "seq", "time", "src", "offset", name_of(CREDS).alias("via"), "args")
    ann, execs, req = pl.collect_all([ann_q, execs_q, req_q])
    # (formatted on the few rows collected: in a lazy query over a frame of several chunks,
    # Polars 2.1 panics on pl.format inside list.eval)
    req = req.with_columns(
        pl.col("args").list.eval(pl.format("{} {}", pl.element().struct.field("text"),
                                           pl.element().struct.field("value")))
        .list.join(", ").alias("requested")).drop("args")
    return _Lifecycle(ann, execs, req)


def _record_keys(r: pl.DataFrame, lc: _Lifecycle, early_ms: int,
                 grace_ms: int) -> pl.DataFrame:
    """Every record with a subject pid (session records aside) and its life: ``key`` (the seq
    of the announcement it belongs to, or null) and ``lkey`` (the life)."""
    def flag(seqs: pl.Series) -> pl.Series:     # by seq (the row of r)
        return pl.repeat(False, r.height, dtype=pl.Boolean, eager=True).scatter(seqs, True)

    pr = r.lazy().select(
        "seq", "pid", "t", "event", *_CRED_COLS, "success",
        (pl.col("event") == EXIT).alias("is_exit"),
        (pl.col("signing_id").is_not_null() & (pl.col("signing_id") != "")).alias("has_sig"),
        flag(lc.execs.get_column("seq")).alias("is_exec"),
        flag(lc.ann.get_column("a_seq")).alias("is_announcer"),
        is_user_event(pl.col("event")).alias("is_user"),
    ).filter(pl.col("pid").is_not_null() & ~pl.col("event").is_in(list(SESSION_EVENTS))
    ).collect()
    seg = _announcement_keys(pr, lc.ann, early_ms)
    seg, lkey = _split_after_exits(seg, grace_ms)
    return pr.with_columns(seg.select(lkey.alias("lkey"), "key").get_columns())


def _announcement_keys(pr: pl.DataFrame, ann: pl.DataFrame, early_ms: int) -> pl.DataFrame:
    """seg: the records' ``key`` (the announcement they follow, or that they precede as a
    child's early records) and ``key2`` (key, else one key per pid for records before any
    announcement)."""
    keys = ann.select("pid", "a_seq", "a_t")
    seg = pr.select("seq", "pid", "t", "is_exit", "is_exec", "is_announcer")
    seg = seg.join_asof(keys.rename({"a_seq": "nxt", "a_t": "nxt_t"}), left_on="seq",
                        right_on="nxt", by="pid", strategy="forward", check_sortedness=False)
    seg = seg.join_asof(keys.select("pid", pl.col("a_seq").alias("prv")), left_on="seq",
                        right_on="prv", by="pid", strategy="backward", check_sortedness=False)
    # a child's records just before its announcement (contiguous, near in time, after any exit)
    near = (((pl.col("t") - pl.col("nxt_t")).abs() <= early_ms).fill_null(False)
            & ~pl.col("is_exit"))
    cand = seg.filter(pl.col("nxt").is_not_null() & near).select("seq", "nxt")
    if cand.height:
        groups = cand.get_column("nxt").unique().implode()
        breaks = seg.lazy().filter(pl.col("nxt").is_in(groups) & ~near).group_by("nxt").agg(
            pl.col("seq").max().alias("last_brk")).collect()
        early = cand.join(breaks, on="nxt", how="left").filter(
            pl.col("last_brk").is_null() | (pl.col("seq") > pl.col("last_brk"))).select(
            "seq", pl.lit(True).alias("early"))
        seg = seg.join(early, on="seq", how="left", maintain_order="left")
        key = pl.when(pl.col("early").fill_null(False)).then("nxt").otherwise("prv")
    else:
        key = pl.col("prv")
    return seg.with_columns(key.alias("key")).with_columns(
        pl.coalesce("key", pl.col("pid").cast(pl.UInt64) + _NO_KEY).alias("key2"))


def _split_after_exits(seg: pl.DataFrame, grace_ms: int) -> tuple[pl.DataFrame, pl.Expr]:
    """Exits split a key's records: a record well after an exit (or an exec or fork by the
    pid after it) starts a new, unannounced life keyed by its own seq. Returns seg and the
    ``lkey`` expression (key2 for a key's first life). Only keys with a record after an exit
    - an exit that is not their last record - are looked at."""
    seg = seg.with_columns(pl.col("key2").is_last_distinct().alias("_last"))
    split_keys = seg.filter(pl.col("is_exit") & ~pl.col("_last")).get_column("key2").unique()
    lkey = pl.col("key2")
    if not split_keys.len():
        return seg, lkey
    tail = seg.filter(pl.col("key2").is_in(split_keys.implode()))
    exits = tail.filter("is_exit").select(
        "key2", pl.col("seq").alias("x_seq"), pl.col("t").alias("x_t"),
        pl.int_range(pl.len(), dtype=pl.UInt32).over("key2").alias("x_n"))
    tail = tail.join_asof(exits, left_on="seq", right_on="x_seq", by="key2",
                          strategy="backward", allow_exact_matches=False,
                          check_sortedness=False)
    after = tail.filter(pl.col("x_seq").is_not_null()).select(
        "seq", "key2", "x_n",
        (((pl.col("t") - pl.col("x_t")) > grace_ms).fill_null(False)
         | pl.col("is_exec") | pl.col("is_announcer")).alias("_beyond"))
    if not after.height:
        return seg, lkey
    after = after.sort("key2", "seq").with_columns(
        (pl.col("_beyond")
         & (pl.col("_beyond").cast(pl.UInt32).cum_sum().over("key2", "x_n") == 1))
        .alias("_start"))
    after = after.with_columns(
        pl.when("_start").then("seq").forward_fill().over("key2").alias("_life_start")
    ).filter(pl.col("_life_start").is_not_null()).select("seq", "_life_start")
    if not after.height:
        return seg, lkey
    seg = seg.join(after, on="seq", how="left", maintain_order="left")
    return seg, pl.when(pl.col("_life_start").is_not_null()).then(
        pl.col("_life_start") + _SPLIT).otherwise("key2")


def _aggregate(r: pl.DataFrame, pr: pl.DataFrame) -> pl.DataFrame:
    """One row per lkey: its records' span, exit, last signing id, first kernel credentials
    and the person (the first auid set in its kernel records, else in its successful
    user-space records: a failed login names whoever was claimed, not whoever tried)."""
    time_type = r.schema["time"]
    lt = pr.lazy().group_by("lkey").agg(
        pl.col("pid").first(), pl.col("key").first(),
        pl.col("seq").min().alias("first_seq"), pl.col("seq").max().alias("last_seq"),
        pl.col("t").min().cast(time_type).alias("first_t"),
        pl.col("t").max().cast(time_type).alias("last_t"),
        pl.len().cast(pl.UInt32).alias("records"),
        pl.col("is_exit").any().alias("exited"),
        # the credentials as three exact 64-bit keys (kernel records only), to spot lives
        # whose credentials vary with a cheap min/max
        pl.any_horizontal([k.min() != k.max() for k in (
            pl.when(~pl.col("is_user")).then(pl.col(a).cast(pl.UInt64) * 4294967296 + pl.col(b))
            for a, b in (("auid", "euid"), ("egid", "ruid"), ("rgid", "asid")))])
        .fill_null(False).alias("_varies"),
    ).collect()
    lz = pr.lazy()
    exit_info = lz.filter("is_exit").filter(pl.col("lkey").is_first_distinct()).select(
        "lkey", "seq")
    signing = lz.filter("has_sig").select("lkey", "seq").filter(
        pl.col("lkey").is_last_distinct())
    kern = lz.filter(~pl.col("is_user") & pl.col("auid").is_not_null())
    kcred = kern.select("lkey", *_CRED_COLS).filter(pl.col("lkey").is_first_distinct())
    kperson = kern.filter(pl.col("auid") != UNSET).select(
        "lkey", pl.col("auid").alias("k_person"), pl.col("seq").alias("k_person_seq")
    ).filter(pl.col("lkey").is_first_distinct())
    claimed = (pl.col("auid") != UNSET) & (pl.col("success") == True)
    ucred = lz.filter(pl.col("is_user") & pl.col("auid").is_not_null()).group_by("lkey").agg(
        *[pl.col(c).first().alias(f"u_{c}") for c in _CRED_COLS],
        pl.col("pid").first().alias("u_pid"),
        pl.col("auid").filter(claimed).first().alias("u_person"),
        pl.col("seq").filter(claimed).first().alias("u_person_seq"))
    exit_info, signing, *parts = pl.collect_all([exit_info, signing, kcred, kperson, ucred])
    exit_info = exit_info.select("lkey", *at(r, exit_info.get_column("seq"), "time",
                                             "exit_status").get_columns()).rename(
        {"time": "exit_time"})
    signing = signing.select("lkey", r.get_column("signing_id").gather(signing.get_column("seq")))
    for part in (exit_info, signing, *parts):
        lt = lt.join(part, on="lkey", how="left")
    return lt


def _announced(lt: pl.DataFrame, ann: pl.DataFrame) -> pl.DataFrame:
    """Lives joined with their announcements (an announced child may have no record of its
    own), their start and end, and ``lid`` (the row of a life, in (first_seq, pid) order)."""
    ann_l = ann.rename({"a_seq": "key"}).with_columns(pl.col("key").alias("lkey"))
    lt = lt.join(ann_l, on="lkey", how="full", coalesce=True, suffix="_a")
    lt = lt.with_columns(pl.coalesce("pid", "pid_a").alias("pid"),
                         pl.coalesce("key", "key_a").alias("key")).drop("pid_a", "key_a")
    announced = pl.col("a_kind").is_not_null()
    lt = lt.with_columns(
        pl.when(announced).then(pl.col("key")).alias("key"),
    ).with_columns(
        pl.min_horizontal("first_seq", pl.when(announced).then("key")).alias("first_seq"),
        pl.coalesce("last_seq", "key").alias("last_seq"),
        pl.coalesce("records", pl.lit(0, pl.UInt32)).alias("records"),
        pl.coalesce("exited", pl.lit(False)).alias("exited"),
        pl.when(announced).then(pl.min_horizontal("a_time", "first_t")).alias("start"),
        pl.min_horizontal("first_t", "a_time").alias("first_seen"),
        pl.max_horizontal("last_t", "a_time").alias("last_seen"),
        pl.when(announced).then("a_kind").otherwise(pl.lit("first seen")).alias("start_evidence"),
    ).sort("first_seq", "pid")
    return lt.with_columns(
        pl.when("exited").then(pl.lit("exit"))
        .when(~pl.col("pid").is_last_distinct()).then(pl.lit("pid reused"))
        .otherwise(pl.lit("last seen")).alias("end_evidence"),
        pl.when("exited").then("exit_time").alias("end"),
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("lid"),
    )


def _identify(r: pl.DataFrame, pr: pl.DataFrame, lt: pl.DataFrame, ann: pl.DataFrame):
    """(lt with ``proc_id`` and its parent's, ``lid_of``): lid_of maps seqs to the life
    (lid) of those records; only the few records looked up get their lid, by a join with
    the lives' (lkey, lid)."""
    first = at(r, lt.get_column("first_seq"), "src", "offset")
    lt = lt.with_columns(first.get_column("src").alias("first_source"),
                         first.get_column("offset").alias("first_offset"))
    lt = lt.with_columns(pl.format("{}@{}:{}", "pid", "first_source", "first_offset")
                         .alias("proc_id"))
    lmap = lt.select("lkey", "lid")
    lkey_of = pl.repeat(None, r.height, dtype=pl.UInt64, eager=True).alias("lkey").scatter(
        pr.get_column("seq"), pr.get_column("lkey"))

    def lid_of(seqs: pl.Series) -> pl.Series:
        return pl.DataFrame([lkey_of.gather(seqs)]).join(
            lmap, on="lkey", how="left", maintain_order="left").get_column("lid")

    ann_seqs = ann.get_column("a_seq")
    announcers = pl.DataFrame([ann_seqs.alias("key"), lid_of(ann_seqs).alias("parent_lid")])
    lt = lt.join(announcers, on="key", how="left")
    lt = lt.join(lt.select(pl.col("lid").alias("parent_lid"),
                           pl.col("proc_id").alias("parent_proc_id")), on="parent_lid",
                 how="left")
    announced = pl.col("a_kind").is_not_null()
    return lt.with_columns(pl.when(announced).then("parent_proc_id").alias("parent_proc_id")), lid_of


def _credentials(r: pl.DataFrame, pr: pl.DataFrame, lt: pl.DataFrame, req: pl.DataFrame,
                 lid_of) -> pl.DataFrame:
    """Credentials (first kernel record, else the announcing record, else user-space records
    whose session field is not their pid), the person and the record naming it, and
    ``credential_changes``."""
    lt = lt.with_columns(
        *[pl.coalesce(c, f"a_{c}", f"u_{c}") for c in _CRED_COLS if c != "asid"],
        pl.coalesce("asid", "a_asid",
                    pl.when(pl.col("u_asid") != pl.col("u_pid")).then("u_asid")).alias("asid"),
        pl.coalesce("k_person", "u_person").alias("person"),
        pl.when(pl.col("k_person").is_not_null()).then("k_person_seq")
        .otherwise("u_person_seq").alias("person_seq"),
    )
    ref = at(r, lt.get_column("person_seq").fill_null(0), "src", "offset")
    lt = lt.with_columns(pl.when(pl.col("person_seq").is_not_null())
                         .then(ref.select(pl.format("{}:{}", "src", "offset")).to_series())
                         .alias("person_ref"))
    return lt.join(_credential_changes(pr, req, r, lt.filter("_varies").select("lkey", "lid"),
                                       lid_of), on="lid", how="left")


def _credential_changes(pr: pl.DataFrame, req: pl.DataFrame, r: pl.DataFrame,
                        varying: pl.DataFrame, lid_of) -> pl.DataFrame:
    """lid -> list of credential changes (observed in subjects, and set*id requests).

    Only lives whose kernel-record credentials vary (``varying``: lkey, lid) can show a
    change."""
    kern = pr.lazy().filter(~pl.col("is_user") & pl.col("auid").is_not_null()
                            & pl.col("lkey").is_in(varying.get_column("lkey").implode())).select(
        "lkey", "seq", *_CRED_COLS).sort("lkey", "seq")
    changed = (pl.col("lkey") == pl.col("lkey").shift(1)) & pl.any_horizontal(
        [(pl.col(c) != pl.col(c).shift(1)).fill_null(False) for c in _CRED_COLS])
    observed = kern.filter(changed).collect().join(varying, on="lkey", how="left")
    observed = observed.with_columns(
        at(r, observed.get_column("seq"), "time", "src", "offset").get_columns())
    causes_ev = {**CREDS, **EXECS, SPAWN: "posix_spawn"}
    causes = pr.lazy().filter(pl.col("event").is_in(list(causes_ev)) & ~pl.col("is_user")
                              & pl.col("lkey").is_in(varying.get_column("lkey").implode())).select(
        "lkey", pl.col("seq").alias("c_seq"), name_of(causes_ev).alias("via")).sort(
        "c_seq").collect()
    observed = observed.sort("seq").join_asof(
        causes, left_on="seq", right_on="c_seq", by="lkey", strategy="backward",
        allow_exact_matches=False, check_sortedness=False)
    observed = observed.select(
        "lid", "seq",
        pl.struct(pl.lit("observed").alias("kind"), "time", pl.col("src").alias("source"),
                  "offset", "via", pl.lit(None, pl.String).alias("requested"),
                  *_CRED_COLS).alias("change"))
    req = req.with_columns(lid_of(req.get_column("seq"))).drop_nulls("lid")
    requested = req.select(
        "lid", "seq",
        pl.struct(pl.lit("requested").alias("kind"), "time", pl.col("src").alias("source"),
                  "offset", "via", "requested",
                  *[pl.lit(None, pl.UInt32).alias(c) for c in _CRED_COLS]).alias("change"))
    both = pl.concat([observed, requested.cast(observed.schema)]).sort("seq")
    return both.group_by("lid", maintain_order=True).agg(
        pl.col("change").alias("credential_changes"))


def _inherited(pending: pl.DataFrame, timeline: pl.DataFrame) -> pl.DataFrame:
    """Timeline rows (order 0) of forked children: the image in effect in the parent at the
    fork. A parent's own images (execs, spawned image) before the fork are found by one as-of
    join; a parent with none there runs what it inherited itself, so the child takes its
    parent's inherited image, followed up the chain by pointer jumping (any depth: a chain of
    forks cannot hide an image)."""
    cols = ["lid", "eff", "order", "image", "argv", "interp", "cdhash"]
    if pending.height == 0:
        return timeline.select(cols).head(0)
    found = pending.sort("at").join_asof(
        timeline.select(pl.col("lid").alias("parent_lid"), pl.col("eff").alias("p_eff"),
                        "order", "image", "argv", "interp", "cdhash").sort("p_eff", "order"),
        left_on="at", right_on="p_eff", by="parent_lid", strategy="backward",
        check_sortedness=False).with_row_index("_i")
    found = found.join(found.select(pl.col("lid").alias("parent_lid"), pl.col("_i").alias("_p")),
                       on="parent_lid", how="left", maintain_order="left")
    src = jump(found.get_column("_p"), found.get_column("image").is_not_null())
    values = found.select(pl.col("image", "argv", "interp", "cdhash").gather(src))
    return pl.concat([found.select("lid", "eff", pl.lit(0, pl.UInt8).alias("order")), values],
                     how="horizontal").filter(pl.col("image").is_not_null())


def _images(lt: pl.DataFrame, execs: pl.DataFrame) -> pl.DataFrame:
    """images / image_seqs / argv / interpreter / cdhash per lifetime (forks inherit).

    A timeline of (lifetime, seq from which it holds, image) rows: every exec, plus each
    lifetime's first image - the spawned one, or for a forked child its parent's image at
    the fork (``_inherited``).
    """
    cols = ["lid", "eff", "order", "image", "argv", "interp", "cdhash"]
    timeline = execs.select(pl.col("lid"), pl.col("seq").alias("eff"),
                            pl.lit(1, pl.UInt8).alias("order"), "image", "argv", "interp",
                            pl.col("img_cdhash").alias("cdhash"))
    starts = lt.filter(pl.col("a_image").is_not_null()).select(
        "lid", pl.col("first_seq").alias("eff"), pl.lit(0, pl.UInt8).alias("order"),
        pl.col("a_image").alias("image"), pl.col("a_argv").alias("argv"),
        pl.col("a_interp").alias("interp"), pl.col("a_cdhash").alias("cdhash"))
    timeline = pl.concat([starts.select(cols), timeline.select(cols).cast(starts.select(cols).schema)])
    pending = lt.filter(pl.col("a_image").is_null() & pl.col("parent_proc_id").is_not_null()
                        & (pl.col("start_evidence") != "first seen")).select(
        "lid", "parent_lid", pl.col("key").alias("at"), pl.col("first_seq").alias("eff"))
    timeline = pl.concat([timeline, _inherited(pending, timeline).cast(timeline.schema)])
    timeline = timeline.sort("lid", "eff", "order")
    per = timeline.group_by("lid", maintain_order=True).agg(
        pl.col("image").alias("images"), pl.col("eff").alias("image_seqs"),
        pl.col("argv").last(), pl.col("interp").last().alias("interpreter"),
        pl.col("cdhash").last())
    lt = lt.join(per, on="lid", how="left", maintain_order="left")
    return lt.with_columns(pl.col("images").fill_null(pl.lit([], pl.List(pl.String))),
                           pl.col("image_seqs").fill_null(pl.lit([], pl.List(pl.UInt64))))
