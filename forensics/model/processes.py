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

import re
import weakref

import polars as pl

__all__ = ["build", "order", "UNSET", "EARLY_MS", "GRACE_MS", "AUTH_WINDOW_MS", "is_person",
           "ANNOUNCE", "EXECS", "EXIT", "CREDS", "SESSION_EVENTS", "AUTH_EVENTS", "LIFETIME"]

UNSET = 0xFFFFFFFF
EARLY_MS = 2_000        # a child's records may precede the record announcing it by this much
GRACE_MS = 5_000        # records of a pid this long after its exit record still belong to it
AUTH_WINDOW_MS = 30_000  # an authorization this long before a helper starts may have asked for it

ANNOUNCE = {2: "fork", 25: "vfork", 241: "fork", 353: "rfork", 43043: "rfork",
            43197: "pdfork", 43190: "posix_spawn"}
SPAWN = 43190
EXECS = {7: "exec", 23: "execve", 43131: "mac_execve", 43144: "fexecve"}
EXIT = 1
CREDS = {200: "setuid", 215: "seteuid", 40: "setreuid", 43057: "setresuid", 205: "setgid",
         214: "setegid", 41: "setregid", 43059: "setresgid", 131: "setauid", 133: "setaudit",
         266: "setaudit_addr", 43116: "setaudit_addr"}
SESSION_EVENTS = (44901, 44902, 44903, 44904)
AUTH_EVENTS = {45025: "ssauthorize", 45026: "ssauthint", 45030: "ssauthmech",
               7002: "ssauthorize", 7003: "ssauthint"}
LAUNCHD_PID = 1
_CRED_COLS = ("auid", "euid", "egid", "ruid", "rgid", "asid")
_NOT_PEOPLE = (65534, 4294967294, UNSET)   # nobody (FreeBSD, macOS), unset

CHANGE = pl.Struct({
    "kind": pl.String, "time": pl.Datetime("ms", "UTC"), "source": pl.String,
    "offset": pl.UInt64, "via": pl.String, "requested": pl.String,
    **{c: pl.UInt32 for c in _CRED_COLS},
})

#: The processes frame: (column, dtype, meaning).
LIFETIME: list[tuple[str, pl.DataType, str]] = [
    ("proc_id", pl.String, "<pid>@<trail file>:<offset of the first record that shows this life>"),
    ("pid", pl.UInt32, "process id"),
    ("ppid", pl.UInt32, "parent pid, from the record that announced this life (null: unknown)"),
    ("parent_proc_id", pl.String, "the life that announced this one"),
    ("start", pl.Datetime("ms", "UTC"), "when it began (announced lives only; null: unknown)"),
    ("end", pl.Datetime("ms", "UTC"), "time of its exit record (null: unknown)"),
    ("start_evidence", pl.String, "fork, vfork, rfork, pdfork, posix_spawn, or first seen"),
    ("end_evidence", pl.String, "exit, pid reused, or last seen"),
    ("exit_status", pl.UInt32, "status of the exit record"),
    ("images", pl.List(pl.String), "every executable it ran, in order (first: inherited or spawned)"),
    ("image_seqs", pl.List(pl.UInt64),
     "seq from which each image is in effect (an exec record already shows its new image)"),
    ("argv", pl.List(pl.String), "arguments of the latest image"),
    ("interpreter", pl.String, "#! interpreter of the latest image"),
    ("cdhash", pl.String, "cdhash of the latest image (data token of its exec/spawn)"),
    ("signing_id", pl.String, "signing id of the last identity token of its own records"),
    *[(c, pl.UInt32, f"{c} of its first kernel record (else of the announcing record)")
      for c in _CRED_COLS],
    ("credential_changes", pl.List(CHANGE),
     "observed changes of its subjects' credentials (kind observed, via = the call or exec "
     "before it) and set*id requests (kind requested)"),
    ("first_seen", pl.Datetime("ms", "UTC"), "earliest time of any record about it"),
    ("last_seen", pl.Datetime("ms", "UTC"), "latest time of any record about it"),
    ("records", pl.UInt32, "records whose subject is this life"),
    ("user", pl.UInt32, "uid of the person behind it (null: nobody known)"),
    ("user_kind", pl.String, "direct (its own auid) or inferred"),
    ("user_confidence", pl.String, "high, medium or low"),
    ("user_evidence", pl.String, "the records the user rests on"),
    ("responsible_proc_id", pl.String,
     "the life that asked for it: the XPC client of a launchd-spawned helper, else inherited "
     "from the parent; itself for lives launchd started and lives with no known parent"),
    ("first_source", pl.String, "trail file of its first record"),
    ("first_offset", pl.UInt64, "offset of its first record"),
    ("first_seq", pl.UInt64, "seq of its first record (global order of the frame built from)"),
    ("last_seq", pl.UInt64, "seq of its last record"),
]
SCHEMA = pl.Schema([(n, t) for n, t, _ in LIFETIME])


def is_person(uid: pl.Expr) -> pl.Expr:
    """uids that can be a person: 500 and up, except nobody and unset."""
    return (uid >= 500) & ~uid.is_in(list(_NOT_PEOPLE))


def _is_user_event(event: pl.Expr) -> pl.Expr:
    """Events written by user space (audit(2)); the kernel's are below 6144 and 43000-44999."""
    return ((event >= 6144) & (event < 8000)) | ((event >= 32768) & (event < 43000)) | (event >= 45000)


def _source_names(sources: list[str]) -> dict[str, str]:
    """The name a trail file goes by in ids: its file name, or its path when names clash."""
    base = {s: s.rsplit("/", 1)[-1] for s in sources}
    counts: dict[str, int] = {}
    for b in base.values():
        counts[b] = counts.get(b, 0) + 1
    return {s: (b if counts[b] == 1 else s) for s, b in base.items()}


#: record columns the reconstruction reads
NEEDED = ("offset", "time", "event", "pid", *_CRED_COLS, "success", "return_value", "args",
          "paths", "exec_argv", "exec_cdhash", "exit_status", "text", "attr_uid",
          "signing_id", "terminal_port", "terminal_host")


_LAST_ORDER: dict = {}   # the last order() result, for as long as its records frame lives


def order(records: pl.DataFrame, columns=NEEDED) -> pl.DataFrame:
    """The records in global order, narrowed to ``columns``, plus ``row`` (position in
    ``records``), ``seq`` (position in the global order: file order, then offset), ``src``
    (the file's short name) and ``t`` (header time in ms). Files are ordered by their first
    appearance in ``records``; a frame already in that order is not re-sorted.

    The last result is kept while the same frame object lives (Polars frames are immutable),
    so ``Audit.processes``, ``.events`` and ``.sessions`` order the records once."""
    cols = tuple(dict.fromkeys((*NEEDED, *columns)))
    ref = _LAST_ORDER.get("records")
    if ref is not None and ref() is records and set(cols) <= set(_LAST_ORDER["columns"]):
        return _LAST_ORDER["frame"]
    ordered = _order(records, cols)

    def forget(dead, _cache=_LAST_ORDER):
        if _cache.get("records") is dead:
            _cache.clear()

    try:
        _LAST_ORDER.update(records=weakref.ref(records, forget), columns=cols, frame=ordered)
    except TypeError:        # not weak-referenceable: do not cache
        _LAST_ORDER.clear()
    return ordered


def _order(records: pl.DataFrame, columns) -> pl.DataFrame:
    n = records.height
    if "source" in records.columns:
        source = records.get_column("source").fill_null("")
    else:
        source = pl.Series("source", [""] * n, dtype=pl.String)
    uniq = source.unique(maintain_order=True).to_list()
    names = _source_names(uniq)
    if len(uniq) == 1:
        src_idx = pl.repeat(0, n, dtype=pl.UInt32, eager=True)
        src = pl.repeat(names[uniq[0]], n, dtype=pl.String, eager=True)
    else:
        src_idx = source.replace_strict({s: i for i, s in enumerate(uniq)},
                                        return_dtype=pl.UInt32)
        src = source.replace_strict(names, return_dtype=pl.String)
    cols = [c for c in columns if c in records.columns]
    offset = records.get_column("offset")
    if len(uniq) == 1:
        in_order = offset.is_sorted()
    else:
        d_src = src_idx.cast(pl.Int64).diff().drop_nulls()
        d_off = offset.cast(pl.Int64).diff().drop_nulls()
        in_order = bool(((d_src > 0) | ((d_src == 0) & (d_off >= 0))).all())
    extra = [pl.int_range(n, dtype=pl.UInt32).alias("row"), src.alias("src"),
             pl.col("time").cast(pl.Int64).alias("t")]
    if in_order:
        return records.select(cols).with_columns(
            *extra, pl.int_range(n, dtype=pl.UInt64).alias("seq"))
    frame = records.select(cols).with_columns(*extra, src_idx.alias("_src_idx"))
    frame = frame.sort(["_src_idx", "offset"], maintain_order=True)
    return frame.with_columns(pl.int_range(n, dtype=pl.UInt64).alias("seq")).drop("_src_idx")


def _child_pid() -> pl.Expr:
    arg = pl.element().struct
    announced = pl.col("args").list.eval(
        pl.element().filter((arg.field("number") == 0)
                            & arg.field("text").str.to_lowercase().str.starts_with("child"))
        .struct.field("value")).list.first()
    forkret = pl.when(pl.col("event").is_in([e for e in ANNOUNCE if e != SPAWN])
                      & (pl.col("success") == True) & (pl.col("return_value") > 0)  # noqa: E712
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


def _name_of(mapping: dict[int, str]) -> pl.Expr:
    return pl.col("event").replace_strict(mapping, default=None, return_dtype=pl.String)


def build(records: pl.DataFrame, *, early_ms: int = EARLY_MS, grace_ms: int = GRACE_MS,
          auth_window_ms: int = AUTH_WINDOW_MS) -> pl.DataFrame:
    """One row per lifetime of a pid (see the module text for the rules and ``LIFETIME``)."""
    return _build(order(records), early_ms, grace_ms, auth_window_ms)[0]


_NO_KEY = 1 << 62   # key2 of the lives before any announcement of a pid: _NO_KEY + pid
_SPLIT = 1 << 63    # lkey of a life that began after an exit: _SPLIT + seq of its first record


def _build(r: pl.DataFrame, early_ms: int, grace_ms: int, auth_window_ms: int):
    """(lifetimes, pr): pr holds (seq, lid) for every record assigned to a lifetime."""
    if r.height == 0:
        return pl.DataFrame(schema=SCHEMA), None

    # ---- lifecycle records (a small subset) ----------------------------------------------
    # three narrow queries: announcements, execs in place, set*id requests (the list columns
    # are read for those records only)
    has_pid = pl.col("pid").is_not_null()
    announces = pl.col("event").is_in(list(ANNOUNCE))
    child = pl.when(announces & (pl.col("success") != False)  # noqa: E712
                    ).then(_child_pid()).alias("child")
    ann_q = r.lazy().filter(announces & has_pid).with_columns(
        child, *_image_cols()
    ).filter(pl.col("child").is_not_null() & (pl.col("child") != pl.col("pid"))).select(
        pl.col("child").alias("pid"), pl.col("seq").alias("a_seq"), pl.col("t").alias("a_t"),
        pl.col("time").alias("a_time"), pl.col("pid").alias("ppid"),
        _name_of(ANNOUNCE).alias("a_kind"),
        pl.when(pl.col("event") == SPAWN).then(pl.col("image")).alias("a_image"),
        pl.when(pl.col("event") == SPAWN).then(pl.col("argv")).alias("a_argv"),
        pl.when(pl.col("event") == SPAWN).then(pl.col("interp")).alias("a_interp"),
        pl.when(pl.col("event") == SPAWN).then(pl.col("img_cdhash")).alias("a_cdhash"),
        *[pl.col(c).alias(f"a_{c}") for c in _CRED_COLS],
    ).sort("a_seq")
    ok_exec = (pl.col("success") == True) | (  # noqa: E712
        pl.col("success").is_null() & pl.col("exec_cdhash").is_not_null())
    execs_q = r.lazy().filter(pl.col("event").is_in([*EXECS, SPAWN]) & has_pid).with_columns(
        child, *_image_cols()
    ).filter(
        ok_exec & (pl.col("event").is_in(list(EXECS))
                   | ((pl.col("event") == SPAWN) & pl.col("child").is_null()))
        & pl.col("image").is_not_null()
    ).select("seq", "time", "image", "argv", "interp", "img_cdhash")
    req_q = r.lazy().filter(pl.col("event").is_in(list(CREDS)) & has_pid
                            & (pl.col("success") != False)).select(  # noqa: E712
        "seq", "time", "src", "offset", _name_of(CREDS).alias("via"),
        pl.col("args").list.eval(pl.format("{} {}", pl.element().struct.field("text"),
                                           pl.element().struct.field("value")))
        .list.join(", ").alias("requested"))
    ann, execs, req = pl.collect_all([ann_q, execs_q, req_q])

    # ---- every record with a subject pid gets a lifetime -----------------------------------
    # (lazy chains below let Polars read only the columns each step needs)
    def flag(seqs: pl.Series) -> pl.Series:     # by seq (the row of r)
        return pl.repeat(False, r.height, dtype=pl.Boolean, eager=True).scatter(seqs, True)

    pr = r.lazy().select(
        "seq", "pid", "t", "event", *_CRED_COLS, "success",
        (pl.col("event") == EXIT).alias("is_exit"),
        (pl.col("signing_id").is_not_null() & (pl.col("signing_id") != "")).alias("has_sig"),
        flag(execs.get_column("seq")).alias("is_exec"),
        flag(ann.get_column("a_seq")).alias("is_announcer"),
        _is_user_event(pl.col("event")).alias("is_user"),
    ).filter(pl.col("pid").is_not_null() & ~pl.col("event").is_in(list(SESSION_EVENTS))
    ).collect()
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
    seg = seg.with_columns(key.alias("key")).with_columns(
        pl.coalesce("key", pl.col("pid").cast(pl.UInt64) + _NO_KEY).alias("key2"))
    # exits split a key's records: a record well after an exit is a new, unannounced life,
    # keyed by its own seq (lkey = key2 for a key's first life)
    # (only keys with a record after an exit - an exit that is not their last record - matter)
    seg = seg.with_columns(pl.col("key2").is_last_distinct().alias("_last"))
    split_keys = seg.filter(pl.col("is_exit") & ~pl.col("_last")).get_column("key2").unique()
    lkey = pl.col("key2")
    after = seg.head(0).select("seq", "key2")
    if split_keys.len():
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
    if after.height:
        after = after.sort("key2", "seq").with_columns(
            (pl.col("_beyond")
             & (pl.col("_beyond").cast(pl.UInt32).cum_sum().over("key2", "x_n") == 1))
            .alias("_start"))
        after = after.with_columns(
            pl.when("_start").then("seq").forward_fill().over("key2").alias("_life_start")
        ).filter(pl.col("_life_start").is_not_null()).select("seq", "_life_start")
        if after.height:
            seg = seg.join(after, on="seq", how="left", maintain_order="left")
            lkey = pl.when(pl.col("_life_start").is_not_null()).then(
                pl.col("_life_start") + _SPLIT).otherwise("key2")
    pr = pr.with_columns(seg.select(lkey.alias("lkey"), "key").get_columns())

    # ---- the lifetimes --------------------------------------------------------------------
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
    # (the exit record and the last record with a signing id, read from r by seq)
    exit_info = lz.filter("is_exit").filter(pl.col("lkey").is_first_distinct()).select(
        "lkey", "seq")
    signing = lz.filter("has_sig").select("lkey", "seq").filter(
        pl.col("lkey").is_last_distinct())
    # credentials: those of its first kernel record; the person: the first auid set in its
    # kernel records, else in its successful user-space records (a failed login names whoever
    # was claimed, not whoever tried)
    kern = lz.filter(~pl.col("is_user") & pl.col("auid").is_not_null())
    kcred = kern.select("lkey", *_CRED_COLS).filter(pl.col("lkey").is_first_distinct())
    kperson = kern.filter(pl.col("auid") != UNSET).select(
        "lkey", pl.col("auid").alias("k_person"), pl.col("seq").alias("k_person_seq")
    ).filter(pl.col("lkey").is_first_distinct())
    ucred = lz.filter(pl.col("is_user") & pl.col("auid").is_not_null()).group_by("lkey").agg(
        *[pl.col(c).first().alias(f"u_{c}") for c in _CRED_COLS],
        pl.col("pid").first().alias("u_pid"),
        pl.col("auid").filter((pl.col("auid") != UNSET) & (pl.col("success") == True))  # noqa: E712
        .first().alias("u_person"),
        pl.col("seq").filter((pl.col("auid") != UNSET) & (pl.col("success") == True))  # noqa: E712
        .first().alias("u_person_seq"))
    exit_info, signing, *parts = pl.collect_all([exit_info, signing, kcred, kperson, ucred])
    exit_info = exit_info.select("lkey", *_rows(r, exit_info.get_column("seq"), "time",
                                                "exit_status").get_columns()).rename(
        {"time": "exit_time"})
    signing = signing.select("lkey", r.get_column("signing_id").gather(signing.get_column("seq")))
    for part in (exit_info, signing, *parts):
        lt = lt.join(part, on="lkey", how="left")
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
    lt = lt.with_columns(
        pl.when("exited").then(pl.lit("exit"))
        .when(~pl.col("pid").is_last_distinct()).then(pl.lit("pid reused"))
        .otherwise(pl.lit("last seen")).alias("end_evidence"),
        pl.when("exited").then("exit_time").alias("end"),
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("lid"),
    )
    first = r.select(pl.col("src", "offset").gather(lt.get_column("first_seq")))
    lt = lt.with_columns(first.get_column("src").alias("first_source"),
                         first.get_column("offset").alias("first_offset"))
    lt = lt.with_columns(pl.format("{}@{}:{}", "pid", "first_source", "first_offset")
                         .alias("proc_id"))
    # the lifetime of records: lkey by seq (null: no lifetime); only the few records looked
    # up get their lid (the row of lt), by a join with the lifetimes' (lkey, lid)
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
    lt = lt.with_columns(pl.when(announced).then("parent_proc_id").alias("parent_proc_id"))

    # ---- credentials ------------------------------------------------------------------------
    lt = lt.with_columns(
        *[pl.coalesce(c, f"a_{c}", f"u_{c}") for c in _CRED_COLS if c != "asid"],
        pl.coalesce("asid", "a_asid",
                    pl.when(pl.col("u_asid") != pl.col("u_pid")).then("u_asid")).alias("asid"),
        pl.coalesce("k_person", "u_person").alias("person"),
        pl.when(pl.col("k_person").is_not_null()).then("k_person_seq")
        .otherwise("u_person_seq").alias("person_seq"),
    )
    at = _rows(r, lt.get_column("person_seq").fill_null(0), "src", "offset")
    lt = lt.with_columns(pl.when(pl.col("person_seq").is_not_null())
                         .then(at.select(pl.format("{}:{}", "src", "offset")).to_series())
                         .alias("person_ref"))
    lt = lt.join(_credential_changes(pr, req, r, lt.filter("_varies").select("lkey", "lid"),
                                     lid_of), on="lid", how="left")

    # ---- images -------------------------------------------------------------------------------
    execs = execs.with_columns(lid_of(execs.get_column("seq")))
    lt = _images(lt, execs)

    # ---- who: the person, and the responsible process ----------------------------------
    lt = _responsible(lt, r, pr, lid_of, auth_window_ms)
    return lt.select(list(SCHEMA.names())).cast(dict(SCHEMA)).sort("first_seq", "pid"), pr


def _rows(r: pl.DataFrame, seqs: pl.Series, *cols: str) -> pl.DataFrame:
    """Columns of the ordered records at the given seqs (seq is the row position in r)."""
    return pl.DataFrame([r.get_column(c).gather(seqs) for c in cols])


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
        _rows(r, observed.get_column("seq"), "time", "src", "offset").get_columns())
    causes_ev = {**CREDS, **EXECS, SPAWN: "posix_spawn"}
    causes = pr.lazy().filter(pl.col("event").is_in(list(causes_ev)) & ~pl.col("is_user")
                              & pl.col("lkey").is_in(varying.get_column("lkey").implode())).select(
        "lkey", pl.col("seq").alias("c_seq"), _name_of(causes_ev).alias("via")).sort(
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


def _images(lt: pl.DataFrame, execs: pl.DataFrame) -> pl.DataFrame:
    """images / image_seqs / argv / interpreter / cdhash per lifetime (forks inherit).

    A timeline of (lifetime, seq from which it holds, image) rows: every exec, plus each
    lifetime's first image - the spawned one, or for a forked child its parent's image at
    the fork, found by an as-of join; chains of forks are resolved by repeating the join.
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
    for _ in range(64):
        if pending.height == 0:
            break
        found = pending.sort("at").join_asof(
            timeline.select(pl.col("lid").alias("parent_lid"), pl.col("eff").alias("p_eff"),
                            "order", "image", "argv", "interp", "cdhash")
            .sort("p_eff", "order"),
            left_on="at", right_on="p_eff", by="parent_lid", strategy="backward",
            check_sortedness=False)
        got = found.filter(pl.col("image").is_not_null())
        if got.height == 0:
            break
        timeline = pl.concat([timeline, got.select(
            "lid", "eff", pl.lit(0, pl.UInt8).alias("order"), "image", "argv", "interp",
            "cdhash")])
        pending = found.filter(pl.col("image").is_null()).select(pending.columns)
    timeline = timeline.sort("lid", "eff", "order")
    per = timeline.group_by("lid", maintain_order=True).agg(
        pl.col("image").alias("images"), pl.col("eff").alias("image_seqs"),
        pl.col("argv").last(), pl.col("interp").last().alias("interpreter"),
        pl.col("cdhash").last())
    lt = lt.join(per, on="lid", how="left", maintain_order="left")
    return lt.with_columns(pl.col("images").fill_null(pl.lit([], pl.List(pl.String))),
                           pl.col("image_seqs").fill_null(pl.lit([], pl.List(pl.UInt64))))


_GENERIC = {"com", "apple", "system", "privilege", "services", "service", "helper", "admin",
            "right", "rights", "modify", "daemons", "login"}


def _right_names_helper(right: str | None, names: list | None) -> str | None:
    """Evidence when a word of the authorization right names the helper (desktopservices ~
    DesktopServicesHelper), else None."""
    if not right or not names:
        return None
    words = [w for w in re.split(r"[^a-z0-9]+", right.lower()) if len(w) >= 5
             and w not in _GENERIC]
    for name in names:
        low = (name or "").lower()
        for word in words:
            if word in low:
                return f"The right names it ('{word}' in {name})."
    return None


def _seconds(ms: pl.Expr) -> pl.Expr:
    return (ms.cast(pl.Float64) / 1000).round(1).cast(pl.String)


def _responsible(lt: pl.DataFrame, r: pl.DataFrame, pr: pl.DataFrame, lid_of,
                 auth_window_ms: int) -> pl.DataFrame:
    """user / user_kind / user_confidence / user_evidence / responsible_proc_id.

    * its own auid, when set: direct, high;
    * a helper launchd started (parent launchd, or xpcproxy among its images) with auid unset:
      the client of the closest authorization record (authd's subject is the client) in the
      ``auth_window_ms`` before it started - medium; high when a file it touched is owned by
      that person or was touched by that client too; low when a client of another person asked
      in the window. Without authorization, the files it touched all owned by one person: low.
      The client is its responsible process;
    * a descendant with auid unset of such a helper inherits its attribution;
    * otherwise, auid unset and a real uid that can be a person (500 and up): inferred, medium.

    Parent chains are followed by pointer jumping (repeated gathers over lid, the row of a
    lifetime in ``lt``), not per-process Python.
    """
    if not lt.get_column("lid").is_sorted():
        lt = lt.sort("lid")
    # helpers: only lives with no person, born in the trail, can be one (xpcproxy is looked
    # for in those only)
    cand = lt.lazy().filter(pl.col("person").is_null()
                            & (pl.col("start_evidence") != "first seen")).select(
        "proc_id", "lid", "lkey", "ppid", "images", "signing_id", "start", "first_seen",
        "first_source", "first_offset").collect()
    xpc = pl.col("images").list.eval(pl.element().str.ends_with("/xpcproxy")).list.any()
    helpers = cand.with_columns(xpc.fill_null(False).alias("xpc")).filter(
        (pl.col("ppid") == LAUNCHD_PID) | pl.col("xpc")).select(
        "proc_id", "lid", "lkey",
        pl.coalesce("start", "first_seen").cast(pl.Int64).alias("start_ms"),
        pl.concat_list(pl.col("images").list.eval(pl.element().str.split("/").list.last()),
                       pl.col("signing_id")).alias("h_names"), "xpc",
        pl.format("{}:{}", "first_source", "first_offset").alias("start_ref"))
    inferred = _infer_helpers(helpers, r, pr, lid_of, lt.select("lid", "proc_id", "lkey"),
                              auth_window_ms)
    n = lt.height
    # i_user / i_conf / i_evid / i_client by lid
    inf = pl.DataFrame({"lid": pl.Series(range(n), dtype=pl.UInt32)}).join(
        inferred, on="lid", how="left", maintain_order="left")
    i_user, i_client = inf.get_column("i_user"), inf.get_column("i_client")
    has_parent = lt.get_column("parent_proc_id").is_not_null()
    parent = pl.select(pl.when(has_parent).then(lt.get_column("parent_lid"))).to_series()
    not_launchd = (lt.get_column("ppid") != LAUNCHD_PID).fill_null(False)   # null ppid: no parent
    # responsible: the inferred client, else the parent's responsible (unless launchd), else self
    follow = i_client.is_null() & has_parent & not_launchd
    root = _jump(pl.select(pl.when(follow).then(parent)).to_series(), ~follow)
    proc_id = lt.get_column("proc_id")
    val = pl.select(pl.coalesce(i_client, proc_id)).to_series()
    resp = pl.select(pl.coalesce(val.gather(root), proc_id)).to_series()
    # inherited inference: through descendants that show no person and were born in the trail
    person_null = lt.get_column("person").is_null()
    born = lt.get_column("start_evidence") != "first seen"
    has_val = i_user.is_not_null()
    follow = ~has_val & person_null & born & has_parent
    src = _jump(pl.select(pl.when(follow).then(parent)).to_series(), has_val)
    lt = lt.with_columns(
        resp.alias("responsible_proc_id"),
        proc_id.gather(src).alias("inh_src"),
        i_user.gather(src).alias("h_user"),
        inf.get_column("i_conf").gather(src).alias("h_conf"),
        inf.get_column("i_evid").gather(src).alias("h_evid"),
        (src == pl.Series(range(n), dtype=pl.UInt32)).alias("_own"))
    own = pl.col("_own")
    by_ruid = pl.col("person").is_null() & pl.col("ruid").is_not_null() & is_person(pl.col("ruid"))
    auid_known = pl.col("auid").is_not_null()
    return lt.with_columns(
        pl.when(pl.col("person").is_not_null()).then("person")
        .when(pl.col("h_user").is_not_null()).then("h_user")
        .when(by_ruid).then("ruid").alias("user"),
        pl.when(pl.col("person").is_not_null()).then(pl.lit("direct"))
        .when(pl.col("h_user").is_not_null() | by_ruid).then(pl.lit("inferred"))
        .when(auid_known).then(pl.lit("direct")).alias("user_kind"),
        pl.when(pl.col("person").is_not_null()).then(pl.lit("high"))
        .when(pl.col("h_user").is_not_null()).then("h_conf")
        .when(by_ruid).then(pl.lit("medium"))
        .when(auid_known).then(pl.lit("high")).alias("user_confidence"),
        pl.when(pl.col("person").is_not_null())
        .then(pl.format("auid {} in the subject of {}.", "person", "person_ref"))
        .when(pl.col("h_user").is_not_null() & own).then("h_evid")
        .when(pl.col("h_user").is_not_null())
        .then(pl.format("Started by {} (through its parents), which is attributed so: {}",
                        "inh_src", "h_evid"))
        .when(by_ruid).then(pl.format("auid unset, but real uid {} in the subject of {}:{}.",
                                      "ruid", "first_source", "first_offset"))
        .when(auid_known).then(pl.lit("auid unset (4294967295) and nothing ties it to a person."))
        .otherwise(pl.lit("no record shows its credentials.")).alias("user_evidence"),
    ).drop("_own")


def _jump(ptr: pl.Series, has_val: pl.Series) -> pl.Series:
    """For every node (a row), the row at the end of its ``ptr`` chain that has a value: itself
    when ``has_val``, else the first node with a value along ``ptr`` (pointer jumping: log2(depth)
    gathers). Cycles and dead ends (a node with neither a value nor a pointer) give null."""
    n = len(ptr)
    idx = pl.Series(range(n), dtype=pl.UInt32)
    res = pl.select(pl.when(has_val).then(idx)).to_series()
    ptr = pl.select(pl.when(~has_val).then(ptr.cast(pl.UInt32))).to_series()
    for _ in range(64):
        if ptr.null_count() == n:
            break
        t_res, t_ptr = res.gather(ptr), ptr.gather(ptr)
        hit = ptr.is_not_null()
        res = pl.select(pl.when(hit).then(t_res).otherwise(res)).to_series()
        ptr = pl.select(pl.when(hit & t_res.is_null()).then(t_ptr)).to_series()
    return pl.select(pl.when(ptr.is_null()).then(res)).to_series()


_INFERRED = pl.Schema({"lid": pl.UInt32, "i_user": pl.UInt32, "i_conf": pl.String,
                       "i_evid": pl.String, "i_client": pl.String})


def _infer_helpers(helpers: pl.DataFrame, r: pl.DataFrame, pr: pl.DataFrame,
                   lid_of, names: pl.DataFrame, window: int) -> pl.DataFrame:
    """For launchd-spawned helpers with auid unset: who asked for them (see _responsible)."""
    if helpers.height == 0:
        return pl.DataFrame(schema=_INFERRED)
    human = is_person(pl.col("attr_uid"))
    auth = r.lazy().filter(pl.col("event").is_in(list(AUTH_EVENTS))
                           & pl.col("auid").is_not_null() & (pl.col("auid") != UNSET)
                           & pl.col("pid").is_not_null() & pl.col("t").is_not_null()).select(
        "seq", "t", "src", "offset", "pid", "auid", "asid", "text", "event").collect()
    auth = auth.with_columns(lid_of(auth.get_column("seq"))).join(
        names, on="lid", how="left").select(
        pl.col("t").alias("a_t"), "seq", pl.format("{}:{}", "src", "offset").alias("a_ref"),
        pl.col("pid").alias("a_pid"), pl.col("auid").alias("a_auid"),
        pl.col("asid").alias("a_asid"), pl.col("proc_id").alias("a_client"),
        pl.col("lid").alias("a_lid"), pl.col("lkey").alias("a_lkey"),
        pl.col("text").list.first().fill_null("?").alias("a_right"),
        _name_of(AUTH_EVENTS).alias("a_kind")).sort("a_t", "seq")
    # the last earlier authorization by somebody else: ambiguity in the window
    change = pl.col("a_auid") != pl.col("a_auid").shift(1)
    auth = auth.with_columns(
        pl.when(change).then(pl.col("a_t").shift(1)).forward_fill().alias("o_t"),
        pl.when(change).then(pl.col("a_auid").shift(1)).forward_fill().alias("o_auid"),
        pl.when(change).then(pl.col("a_ref").shift(1)).forward_fill().alias("o_ref"))
    h = helpers.filter(pl.col("start_ms").is_not_null()).with_columns(
        (pl.col("start_ms") + 1000).alias("probe")).sort("probe")
    h = h.join_asof(auth, left_on="probe", right_on="a_t", strategy="backward",
                    check_sortedness=False)
    h = h.filter(pl.col("a_t") >= pl.col("start_ms") - window)
    # corroboration from files
    touched = pr.lazy().filter(pl.col("lkey").is_in(helpers.get_column("lkey").implode())).select(
        "seq", "lkey").collect().join(helpers.select("lkey", "lid"), on="lkey").drop("lkey")
    touched = touched.with_columns(_rows(r, touched.get_column("seq"), "src", "offset", "paths",
                                         "attr_uid", "t").get_columns())
    owned = touched.filter(human).join(h.select("lid", "a_auid"), on="lid").filter(
        pl.col("attr_uid") == pl.col("a_auid")).sort("seq").group_by("lid").agg(
        pl.format("It touched {} owned by uid {} ({}:{}).",
                  pl.col("paths").list.last().fill_null("a file"), "attr_uid", "src",
                  "offset").first().alias("own_evid"))
    mine = touched.select("lid", "seq", "paths", pl.format("{}:{}", "src", "offset")
                          .alias("m_ref")).explode("paths").drop_nulls("paths")
    clients = h.select("lid", "a_client", "a_lid", "a_t", "a_lkey").drop_nulls("a_lid")
    theirs = pr.lazy().filter(pl.col("lkey").is_in(clients.get_column("a_lkey").implode())).select(
        pl.col("lkey").alias("a_lkey"), "seq", "t").collect().join(
        names.select(pl.col("lkey").alias("a_lkey"), pl.col("lid").alias("a_lid")), on="a_lkey"
    ).drop("a_lkey")
    theirs = theirs.with_columns(_rows(r, theirs.get_column("seq"), "paths", "src", "offset")
                                 .get_columns()).select(
        "a_lid", "t", "paths", pl.format("{}:{}", "src", "offset").alias("c_ref")).explode(
        "paths").drop_nulls("paths")
    shared = (mine.join(clients.drop("a_lkey"), on="lid").join(theirs, on=["a_lid", "paths"])
              .filter(pl.col("t") >= pl.col("a_t") - 60_000).sort("seq")
              .group_by("lid").agg(
                  pl.format("Its client touched {} too ({}; helper: {}).", "paths", "c_ref",
                            "m_ref").first().alias("shared_evid")))
    h = h.join(owned, on="lid", how="left").join(shared, on="lid", how="left")
    # the right's words against the helper's names: once per distinct pair, not per helper
    key = pl.concat_str([pl.col("a_right").fill_null(""),
                         pl.col("h_names").list.join("\x00").fill_null("")],
                        separator="\x01").alias("_rk")
    pairs = h.select(key, "a_right", "h_names").unique("_rk")
    pairs = pairs.select("_rk", pl.Series("right_evid", [
        _right_names_helper(right, names_) for right, names_ in
        zip(pairs.get_column("a_right").to_list(), pairs.get_column("h_names").to_list())],
        dtype=pl.String))
    h = h.with_columns(key).join(pairs, on="_rk", how="left", maintain_order="left").drop("_rk")
    other = pl.col("o_t").is_not_null() & (pl.col("o_t") >= pl.col("start_ms") - window)
    # corroborations: a file owned by that person, a path its client touched too, a right that
    # names the helper; none: low, one: medium, more: high; a client of another person in the
    # window lowers it one step
    score = (pl.col("own_evid").is_not_null().cast(pl.Int8)
             + pl.col("shared_evid").is_not_null().cast(pl.Int8)
             + pl.col("right_evid").is_not_null().cast(pl.Int8)).clip(0, 2) - other.cast(pl.Int8)
    by_auth = h.select(
        "lid", pl.col("a_auid").alias("i_user"),
        pl.when(score >= 2).then(pl.lit("high")).when(score == 1).then(pl.lit("medium"))
        .otherwise(pl.lit("low")).alias("i_conf"),
        pl.concat_str([
            pl.format("{} {}: client pid {} (auid {}, session {}) asked for '{}' {} s before "
                      "this helper started ({}).", "a_kind", "a_ref", "a_pid", "a_auid",
                      "a_asid", "a_right", _seconds(pl.col("start_ms") - pl.col("a_t")),
                      "start_ref"),
            pl.col("right_evid"), pl.col("own_evid"), pl.col("shared_evid"),
            pl.when(other).then(pl.format(
                "A client of another person (auid {}) asked in the same window ({}).",
                "o_auid", "o_ref"))], separator=" ", ignore_nulls=True).alias("i_evid"),
        pl.col("a_client").alias("i_client"))
    # no authorization: for an XPC service, the files it touched, if they all belong to one
    # person (a daemon reading everybody's files - Spotlight, backups - is nobody's work)
    rest = helpers.filter(~pl.col("lid").is_in(by_auth.get_column("lid").implode())
                          & pl.col("xpc"))
    by_files = touched.filter(pl.col("lid").is_in(rest.get_column("lid").implode())
                              & pl.col("attr_uid").is_not_null()).sort("seq").group_by(
        "lid").agg(
        pl.col("attr_uid").filter(human).unique().alias("owners"),
        pl.col("attr_uid").filter(human).len().alias("n"),
        pl.format("{}:{}", "src", "offset").filter(human).first().alias("ref"))
    by_files = by_files.filter(pl.col("owners").list.len() == 1).select(
        "lid", pl.col("owners").list.first().alias("i_user"), pl.lit("low").alias("i_conf"),
        pl.format("No authorization record before it started; the files it touched belong to "
                  "uid {} ({}).", pl.col("owners").list.first(), "ref").alias("i_evid"),
        pl.lit(None, pl.String).alias("i_client"))
    return pl.concat([by_auth.cast(dict(_INFERRED)), by_files.cast(dict(_INFERRED))])
