"""Who is behind a lifetime: its person, launchd helpers' clients, the responsible process.

``responsible(lt, r, pr, lid_of, auth_window_ms)`` adds ``user``, ``user_kind``,
``user_confidence``, ``user_evidence`` and ``responsible_proc_id`` to the lifetimes built by
``processes``:

* its own auid, when set: direct, high;
* a helper launchd started (parent launchd, or xpcproxy among its images) with auid unset:
  the client of the closest authorization record (authd's subject is the client) in the
  ``auth_window_ms`` before it started; its confidence counts the corroborations (a file it
  touched owned by that person, a path that client touched too, a right that names it) and
  drops a step when a client of another person asked in the window. Without authorization,
  an XPC service whose person-owned files all belong to one person: low. The client is its
  responsible process;
* a descendant with auid unset of such a helper inherits its attribution;
* otherwise, auid unset and a real uid that can be a person (500 and up): inferred, medium.

Parent chains are followed by pointer jumping (repeated gathers over lid, the row of a
lifetime in ``lt``), not per-process Python.
"""

from __future__ import annotations

import re

import polars as pl

from ..schema import UNSET
from .order import at
from .vocab import AUTH_EVENTS, LAUNCHD_PID, is_person, name_of

__all__ = ["jump", "responsible", "right_names_helper"]

CLIENT_TOUCH_MS = 60_000   # a path the client touched this long before its authorization counts

_INFERRED = pl.Schema({"lid": pl.UInt32, "i_user": pl.UInt32, "i_conf": pl.String,
                       "i_evid": pl.String, "i_client": pl.String})


def responsible(lt: pl.DataFrame, r: pl.DataFrame, pr: pl.DataFrame, lid_of,
                auth_window_ms: int) -> pl.DataFrame:
    """user / user_kind / user_confidence / user_evidence / responsible_proc_id (see the
    module text). ``r``: the ordered records; ``pr``: (seq, lkey, ...) of records in a life;
    ``lid_of``: seqs -> lid."""
    if not lt.get_column("lid").is_sorted():
        lt = lt.sort("lid")
    inferred = _infer_helpers(_helpers(lt), r, pr, lid_of, lt.select("lid", "proc_id", "lkey"),
                              auth_window_ms)
    return _user_columns(_inherit(lt, inferred))


def _helpers(lt: pl.DataFrame) -> pl.DataFrame:
    """Lives that can be a launchd helper: no person, born in the trail, started by launchd
    or running xpcproxy (xpcproxy is looked for in those only)."""
    cand = lt.lazy().filter(pl.col("person").is_null()
                            & (pl.col("start_evidence") != "first seen")).select(
        "proc_id", "lid", "lkey", "ppid", "images", "signing_id", "start", "first_seen",
        "first_source", "first_offset").collect()
    xpc = pl.col("images").list.eval(pl.element().str.ends_with("/xpcproxy")).list.any()
    return cand.with_columns(xpc.fill_null(False).alias("xpc")).filter(
        (pl.col("ppid") == LAUNCHD_PID) | pl.col("xpc")).select(
        "proc_id", "lid", "lkey",
        pl.coalesce("start", "first_seen").cast(pl.Int64).alias("start_ms"),
        pl.concat_list(pl.col("images").list.eval(pl.element().str.split("/").list.last()),
                       pl.col("signing_id")).alias("h_names"), "xpc",
        pl.format("{}:{}", "first_source", "first_offset").alias("start_ref"))


def _inherit(lt: pl.DataFrame, inferred: pl.DataFrame) -> pl.DataFrame:
    """The responsible process, and the inferred person of each life (its own, or the nearest
    ancestor's through descendants that show no person and were born in the trail)."""
    n = lt.height
    inf = pl.DataFrame({"lid": pl.Series(range(n), dtype=pl.UInt32)}).join(
        inferred, on="lid", how="left", maintain_order="left")
    i_user, i_client = inf.get_column("i_user"), inf.get_column("i_client")
    has_parent = lt.get_column("parent_proc_id").is_not_null()
    parent = pl.select(pl.when(has_parent).then(lt.get_column("parent_lid"))).to_series()
    not_launchd = (lt.get_column("ppid") != LAUNCHD_PID).fill_null(False)   # null ppid: no parent
    # responsible: the inferred client, else the parent's responsible (unless launchd), else self
    follow = i_client.is_null() & has_parent & not_launchd
    root = jump(pl.select(pl.when(follow).then(parent)).to_series(), ~follow)
    proc_id = lt.get_column("proc_id")
    val = pl.select(pl.coalesce(i_client, proc_id)).to_series()
    resp = pl.select(pl.coalesce(val.gather(root), proc_id)).to_series()
    person_null = lt.get_column("person").is_null()
    born = lt.get_column("start_evidence") != "first seen"
    has_val = i_user.is_not_null()
    follow = ~has_val & person_null & born & has_parent
    src = jump(pl.select(pl.when(follow).then(parent)).to_series(), has_val)
    return lt.with_columns(
        resp.alias("responsible_proc_id"),
        proc_id.gather(src).alias("inh_src"),
        i_user.gather(src).alias("h_user"),
        inf.get_column("i_conf").gather(src).alias("h_conf"),
        inf.get_column("i_evid").gather(src).alias("h_evid"),
        (src == pl.Series(range(n), dtype=pl.UInt32)).alias("_own"))


def _user_columns(lt: pl.DataFrame) -> pl.DataFrame:
    """user, user_kind, user_confidence, user_evidence from the person, the inherited
    inference and the real uid."""
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


def jump(ptr: pl.Series, has_val: pl.Series) -> pl.Series:
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


# ---- helper inference -----------------------------------------------------------------------------

def _infer_helpers(helpers: pl.DataFrame, r: pl.DataFrame, pr: pl.DataFrame,
                   lid_of, names: pl.DataFrame, window: int) -> pl.DataFrame:
    """For launchd-spawned helpers with auid unset: who asked for them (``_INFERRED`` rows)."""
    if helpers.height == 0:
        return pl.DataFrame(schema=_INFERRED)
    h = _closest_authorization(helpers, _authorizations(r, lid_of, names), window)
    touched = _touched(helpers, r, pr)
    h = h.join(_owned(touched, h), on="lid", how="left").join(
        _shared(touched, h, r, pr, names), on="lid", how="left")
    by_auth = _by_authorization(_right_evidence(h), window)
    by_files = _by_files(helpers, touched, by_auth)
    return pl.concat([by_auth.cast(dict(_INFERRED)), by_files.cast(dict(_INFERRED))])


def _authorizations(r: pl.DataFrame, lid_of, names: pl.DataFrame) -> pl.DataFrame:
    """Authorization records with a set auid (their subject is the client), in time order, with
    the last earlier one by somebody else (``o_*``: ambiguity in the window)."""
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
        name_of(AUTH_EVENTS).alias("a_kind")).sort("a_t", "seq")
    change = pl.col("a_auid") != pl.col("a_auid").shift(1)
    return auth.with_columns(
        pl.when(change).then(pl.col("a_t").shift(1)).forward_fill().alias("o_t"),
        pl.when(change).then(pl.col("a_auid").shift(1)).forward_fill().alias("o_auid"),
        pl.when(change).then(pl.col("a_ref").shift(1)).forward_fill().alias("o_ref"))


def _closest_authorization(helpers: pl.DataFrame, auth: pl.DataFrame,
                           window: int) -> pl.DataFrame:
    """One row per helper with the closest authorization in the window before it started."""
    h = helpers.filter(pl.col("start_ms").is_not_null()).with_columns(
        (pl.col("start_ms") + 1000).alias("probe")).sort("probe")
    h = h.join_asof(auth, left_on="probe", right_on="a_t", strategy="backward",
                    check_sortedness=False)
    return h.filter(pl.col("a_t") >= pl.col("start_ms") - window)


def _touched(helpers: pl.DataFrame, r: pl.DataFrame, pr: pl.DataFrame) -> pl.DataFrame:
    """The helpers' records: lid, seq, src, offset, paths, attr_uid, t."""
    touched = pr.lazy().filter(pl.col("lkey").is_in(helpers.get_column("lkey").implode())).select(
        "seq", "lkey").collect().join(helpers.select("lkey", "lid"), on="lkey").drop("lkey")
    return touched.with_columns(at(r, touched.get_column("seq"), "src", "offset", "paths",
                                   "attr_uid", "t").get_columns())


def _owned(touched: pl.DataFrame, h: pl.DataFrame) -> pl.DataFrame:
    """lid -> the first file the helper touched that its client's person owns."""
    return touched.filter(is_person(pl.col("attr_uid"))).join(
        h.select("lid", "a_auid"), on="lid").filter(
        pl.col("attr_uid") == pl.col("a_auid")).sort("seq").group_by("lid").agg(
        pl.format("It touched {} owned by uid {} ({}:{}).",
                  pl.col("paths").list.last().fill_null("a file"), "attr_uid", "src",
                  "offset").first().alias("own_evid"))


def _shared(touched: pl.DataFrame, h: pl.DataFrame, r: pl.DataFrame, pr: pl.DataFrame,
            names: pl.DataFrame) -> pl.DataFrame:
    """lid -> the first path the helper touched that its client touched too (at most
    ``CLIENT_TOUCH_MS`` before the authorization), citing the client's first such record.

    Linear in the records: each side is cut to what can be cited before anything is joined
    (the helper's first record per path; per client and path, the records that are later than
    all its earlier ones), and the time condition is an as-of join, so a helper and a client
    that touch one path N times each give N rows, not N x N."""
    clients = h.select("lid", "a_lid", "a_lkey", (pl.col("a_t") - CLIENT_TOUCH_MS).alias("since")
                       ).drop_nulls("a_lid").drop_nulls("since")
    mine = touched.filter(pl.col("lid").is_in(clients.get_column("lid").implode())).select(
        "lid", "seq", "paths", pl.int_ranges(0, pl.col("paths").list.len()).alias("pos"),
        pl.format("{}:{}", "src", "offset").alias("m_ref"))
    mine = (mine.explode(["paths", "pos"]).drop_nulls("paths").sort("seq", "pos")
            .unique(["lid", "paths"], keep="first", maintain_order=True)
            .join(clients.drop("a_lkey"), on="lid"))
    theirs = pr.lazy().filter(pl.col("lkey").is_in(clients.get_column("a_lkey").implode())).select(
        pl.col("lkey").alias("a_lkey"), "seq", "t").collect().join(
        names.select(pl.col("lkey").alias("a_lkey"), pl.col("lid").alias("a_lid")), on="a_lkey"
    ).drop("a_lkey")
    theirs = theirs.with_columns(at(r, theirs.get_column("seq"), "paths", "src", "offset")
                                 .get_columns()).select(
        "a_lid", "seq", "t", "paths", pl.format("{}:{}", "src", "offset").alias("c_ref")
    ).explode("paths").drop_nulls(["paths", "t"]).sort("seq")
    # the first record at or after any time is one that is later than every earlier one
    before = pl.col("t").cum_max().shift(1).over("a_lid", "paths")
    theirs = theirs.filter(before.is_null() | (pl.col("t") > before)).select(
        "a_lid", "paths", "t", "c_ref").sort("t")
    both = mine.sort("since").join_asof(theirs, left_on="since", right_on="t",
                                        by=["a_lid", "paths"], strategy="forward",
                                        check_sortedness=False)
    return (both.filter(pl.col("c_ref").is_not_null()).sort("seq", "pos")
            .group_by("lid", maintain_order=True).agg(
                pl.format("Its client touched {} too ({}; helper: {}).", "paths", "c_ref",
                          "m_ref").first().alias("shared_evid")))


def _right_evidence(h: pl.DataFrame) -> pl.DataFrame:
    """``right_evid``: the right's words against the helper's names, once per distinct pair."""
    key = pl.concat_str([pl.col("a_right").fill_null(""),
                         pl.col("h_names").list.join("\x00").fill_null("")],
                        separator="\x01").alias("_rk")
    pairs = h.select(key, "a_right", "h_names").unique("_rk")
    pairs = pairs.select("_rk", pl.Series("right_evid", [
        right_names_helper(right, names_) for right, names_ in
        zip(pairs.get_column("a_right").to_list(), pairs.get_column("h_names").to_list())],
        dtype=pl.String))
    return h.with_columns(key).join(pairs, on="_rk", how="left", maintain_order="left").drop("_rk")


def _by_authorization(h: pl.DataFrame, window: int) -> pl.DataFrame:
    """Attribution of helpers with an authorization: corroborations (a file owned by that
    person, a path its client touched too, a right that names the helper): none low, one
    medium, more high; a client of another person in the window lowers it one step."""
    other = pl.col("o_t").is_not_null() & (pl.col("o_t") >= pl.col("start_ms") - window)
    score = (pl.col("own_evid").is_not_null().cast(pl.Int8)
             + pl.col("shared_evid").is_not_null().cast(pl.Int8)
             + pl.col("right_evid").is_not_null().cast(pl.Int8)).clip(0, 2) - other.cast(pl.Int8)
    return h.select(
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


def _by_files(helpers: pl.DataFrame, touched: pl.DataFrame,
              by_auth: pl.DataFrame) -> pl.DataFrame:
    """No authorization: for an XPC service, the files it touched, if they all belong to one
    person (a daemon reading everybody's files - Spotlight, backups - is nobody's work)."""
    human = is_person(pl.col("attr_uid"))
    rest = helpers.filter(~pl.col("lid").is_in(by_auth.get_column("lid").implode())
                          & pl.col("xpc"))
    by_files = touched.filter(pl.col("lid").is_in(rest.get_column("lid").implode())
                              & pl.col("attr_uid").is_not_null()).sort("seq").group_by(
        "lid").agg(
        pl.col("attr_uid").filter(human).unique().alias("owners"),
        pl.col("attr_uid").filter(human).len().alias("n"),
        pl.format("{}:{}", "src", "offset").filter(human).first().alias("ref"))
    return by_files.filter(pl.col("owners").list.len() == 1).select(
        "lid", pl.col("owners").list.first().alias("i_user"), pl.lit("low").alias("i_conf"),
        pl.format("No authorization record before it started; the files it touched belong to "
                  "uid {} ({}).", pl.col("owners").list.first(), "ref").alias("i_evid"),
        pl.lit(None, pl.String).alias("i_client"))


_GENERIC = {"com", "apple", "system", "privilege", "services", "service", "helper", "admin",
            "right", "rights", "modify", "daemons", "login"}


def right_names_helper(right: str | None, names: list | None) -> str | None:
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
