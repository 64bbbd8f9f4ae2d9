"""Who did it: every record tied to its process lifetime, its program and a person.

``events(records, processes, users)`` returns every records column plus:

==================== ==========================================================================
``proc_id``          the lifetime the record belongs to (``processes.build``)
``image``            the program at that moment (an exec record shows the image it loaded; its
                     subject and identity token still describe the caller)
``user``             uid of the person behind the record; null when nobody is known
``user_name``        that uid's name in the *evidence's* user tables (never this machine's)
``attribution_kind`` ``direct``: read from the subject's own auid (which may say that no person
                     is behind it); ``inferred``: rests on other records
``confidence``       high, medium or low
``elevated``         work done with euid 0, or with another effective or real uid than the
                     person's (sudo, su, set-user-id programs, launchd helpers)
``responsible_proc_id`` the lifetime that asked for this work (``processes``)
``evidence``         short sentences naming the records (file:offset) the conclusion rests on
==================== ==========================================================================

``sessions(records, users)`` lists logins, logouts, audit sessions and authentications.

The rules, the confidence levels and what BSM cannot tell are in ``docs/attribution.md``.
"""

from __future__ import annotations

import re

import polars as pl

from . import processes as proc
from .processes import UNSET, is_person, order

__all__ = ["events", "sessions", "EVENT_COLUMNS", "SESSIONS"]

EVENT_COLUMNS = pl.Schema({
    "proc_id": pl.String, "image": pl.String, "user": pl.UInt32, "user_name": pl.String,
    "attribution_kind": pl.String, "confidence": pl.String, "elevated": pl.Boolean,
    "responsible_proc_id": pl.String, "evidence": pl.String,
})

SESSIONS = pl.Schema({
    "how": pl.String,               # ssh, login, loginwindow, rlogin, su, sudo, logout (one
                                    # no login matched), authentication, authorization,
                                    # audit session, observed
    "user": pl.UInt32, "user_name": pl.String,
    "target_user": pl.UInt32, "target_user_name": pl.String,
    "success": pl.Boolean,
    "session_id": pl.UInt32,        # the kernel audit session (asid), when known
    "pid": pl.UInt32,               # the writer of the record (sshd, login, su, sudo, ...)
    "terminal_host": pl.String, "terminal_port": pl.UInt64,
    "start": pl.Datetime("ms", "UTC"), "end": pl.Datetime("ms", "UTC"),
    "first_seen": pl.Datetime("ms", "UTC"),  # kernel records of the session, when it is known
    "last_seen": pl.Datetime("ms", "UTC"),
    "text": pl.String, "command": pl.List(pl.String),
    "source": pl.String, "offset": pl.UInt64,
    "end_source": pl.String, "end_offset": pl.UInt64,
    "evidence": pl.String,
})

_SESSION_COLS = ("offset", "time", "event", "pid", "auid", "euid", "ruid", "asid", "success",
                 "return_value", "text", "args", "exec_argv", "terminal_port", "terminal_host")


def _user_names(uids: pl.Series, users) -> pl.Series:
    if users is None:
        return pl.Series(uids.name, [None] * len(uids), dtype=pl.String)
    mapping = {u: users.user_name(u) for u in uids.drop_nulls().unique().to_list()}
    return uids.replace_strict(mapping, default=None, return_dtype=pl.String)


def events(records: pl.DataFrame, processes: pl.DataFrame | None = None,
           users=None) -> pl.DataFrame:
    """Every record with its lifetime, program, person and the evidence for it."""
    if processes is None:
        processes = proc.build(records)
    r = order(records)
    lives = processes.with_row_index("lid")
    in_life = pl.col("pid").is_not_null() & ~pl.col("event").is_in(list(proc.SESSION_EVENTS))
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
    r = r.join_asof(imgs, left_on="seq", right_on="image_seq", by="lid",
                    strategy="backward", check_sortedness=False).drop("image_seq")
    lid = r.get_column("lid")
    # the lifetime's inference applies when it does not rest on the real uid of its first
    # record (one flag per lifetime, read by gather: lid is the row of ``lives``)
    l_inferred = lives.select(
        ((pl.col("user_kind") == "inferred").fill_null(False) & pl.col("user").is_not_null()
         & ~(pl.col("ruid") == pl.col("user")).fill_null(False))).to_series()

    auid, euid, ruid = pl.col("auid"), pl.col("euid"), pl.col("ruid")
    subject = auid.is_not_null()
    set_ = subject & (auid != UNSET)
    # a failed login names the user that was claimed (sudo and su failures keep the real auid)
    failed_claim = (set_ & pl.col("event").is_in(list(LOGINS))
                    & (pl.col("success") == False))  # noqa: E712
    life_inferred = subject & ~set_ & pl.col("_li").fill_null(False)
    by_ruid = subject & ~set_ & is_person(ruid)
    case = (pl.when(failed_claim).then(0).when(set_).then(1).when(life_inferred).then(2)
            .when(by_ruid).then(3).when(subject).then(4).otherwise(5).cast(pl.UInt8))
    # everything but the record's own file:offset depends on a few values only (the case and
    # its subject's ids, or its lifetime): runs of records with the same values share them,
    # and each distinct combination is worked out once
    r = r.with_columns(l_inferred.gather(lid).alias("_li")).with_columns(case.alias("_case"))
    r = r.with_columns(pl.when(pl.col("_case") == 2).then("lid").alias("_l2"),
                       pl.when(pl.col("_case") == 0).then("event").alias("_e0"))
    run_cols = ["_case", "_e0", "auid", "euid", "ruid", "asid", "_l2"]
    new_run = pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1)) for c in run_cols])
    r = r.with_columns((new_run.fill_null(True).cast(pl.UInt32).cum_sum() - 1).alias("_run"))
    keys = ["_case", "_e", "_a", "_eu", "_ru", "_as", "_lid"]
    runs = r.filter(pl.col("_run").is_first_distinct()).select(
        "_run",
        pl.when(pl.col("_case") == 0).then("event").alias("_e"),
        pl.when(pl.col("_case") <= 1).then(auid).alias("_a"),
        pl.when(pl.col("_case") == 1).then(euid).alias("_eu"),
        pl.when(pl.col("_case").is_in([1, 3])).then(ruid).alias("_ru"),
        pl.when(pl.col("_case") == 1).then("asid").alias("_as"),
        pl.when(pl.col("_case") == 2).then("lid").alias("_lid"),
        "_case")
    msgs = runs.select(keys).unique(keys)
    ml = msgs.get_column("_lid")
    msgs = msgs.with_columns(
        lives.get_column("user_evidence").gather(ml).alias("l_evidence"),
        lives.get_column("user").gather(ml).alias("l_user"),
        lives.get_column("user_confidence").gather(ml).alias("l_conf"))
    c = pl.col("_case")
    msgs = msgs.with_columns(
        pl.when(c <= 1).then("_a").when(c == 2).then("l_user").when(c == 3).then("_ru")
        .cast(pl.UInt32).alias("user"),
        pl.when(c <= 1).then(pl.lit("direct")).when(c <= 3).then(pl.lit("inferred"))
        .when(c == 4).then(pl.lit("direct")).alias("attribution_kind"),
        pl.when(c == 0).then(pl.lit("low")).when(c == 1).then(pl.lit("high"))
        .when(c == 2).then("l_conf").when(c == 3).then(pl.lit("medium"))
        .when(c == 4).then(pl.lit("high")).alias("confidence"),
        pl.when(c == 0).then(pl.format(
            "a failed {} names auid {}; whoever tried need not be that person.",
            pl.coalesce(_event_label(pl.col("_e")), pl.col("_e").cast(pl.String)), "_a"))
        .when(c == 1).then(pl.format(
            "subject auid {}, euid {}, ruid {}, session {}.", "_a", "_eu", "_ru", "_as"))
        .when(c == 2).then(pl.format("subject auid unset. {}", "l_evidence"))
        .when(c == 3).then(pl.format("subject auid unset, but real uid {}.", "_ru"))
        .when(c == 4).then(pl.lit(
            "subject auid unset (4294967295) and nothing ties the work to a person."))
        .otherwise(pl.lit("the record has no subject.")).alias("_msg"))
    msgs = msgs.with_columns(_user_names(msgs.get_column("user"), users).alias("user_name"))
    runs = runs.join(msgs, on=keys, how="left", nulls_equal=True).select(
        "_run", "user", "user_name", "attribution_kind", "confidence", "_msg").sort("_run")
    run = r.get_column("_run")
    r = r.with_columns([runs.get_column(c).gather(run) for c in runs.columns[1:]])
    person = pl.col("user")
    r = r.with_columns(
        pl.format("{}:{}: {}", "src", "offset", "_msg").alias("evidence"),
        pl.when(person.is_not_null() & (pl.col("pid") != 0))
        .then((euid == 0) | (euid != person) | (ruid != person)).alias("elevated"),
        lives.get_column("proc_id").gather(lid),
        lives.get_column("responsible_proc_id").gather(lid))
    added = r.select("row", *EVENT_COLUMNS.names())
    if not added.get_column("row").is_sorted():
        added = added.sort("row")
    return records.hstack(added.drop("row").cast(dict(EVENT_COLUMNS)).get_columns())


def _event_label(event: pl.Expr | None = None) -> pl.Expr:
    names = {32800: "ssh login", 6152: "login", 6153: "logout", 45028: "sudo", 6300: "sudo",
             6159: "su", 45023: "authentication", 45021: "loginwindow login",
             45025: "authorization", 45026: "authentication"}
    event = pl.col("event") if event is None else event
    return event.replace_strict(names, default=None, return_dtype=pl.String)


# ---- sessions -----------------------------------------------------------------------------------

LOGINS = {32800: "ssh", 6152: "login", 45021: "loginwindow", 6600: "loginwindow",
          6155: "rlogin"}
LOGOUTS = {6153: "logout", 45022: "loginwindow", 6601: "loginwindow"}
SU, SUDO = (6159,), (45028, 6300)
AUTHN = (45023, 7000, 45026, 7003)       # auth_user, ssauthint: somebody authenticated
AUTHZ = (45025, 7002)                     # ssauthorize: a right was asked for
_BAD_SU = re.compile(r"bad su (\S+) to (\S+)(?: on (\S+))?")


def _asid_is_real(row) -> bool:
    """User-space writers put their pid in the session-id field; a real asid differs."""
    sid = row["asid"]
    return sid is not None and sid not in (0, UNSET) and sid != row["pid"]


def sessions(records: pl.DataFrame, users=None) -> pl.DataFrame:
    """Logins, logouts, audit sessions and authentications, one row each (see ``SESSIONS``)."""
    r = order(records, _SESSION_COLS)
    if r.height == 0:
        return pl.DataFrame(schema=SESSIONS)
    user_ev = proc._is_user_event(pl.col("event"))
    kernel = r.lazy().filter(~user_ev & pl.col("auid").is_not_null()
                             & ~pl.col("event").is_in(list(proc.SESSION_EVENTS)))
    seen = kernel.filter(~pl.col("asid").is_in([0, UNSET])).group_by("asid").agg(
        pl.col("time").min().alias("first_seen"), pl.col("time").max().alias("last_seen"),
        pl.col("auid").filter(pl.col("auid") != UNSET).first().alias("auid"),
        pl.col("seq").min().alias("seq"), pl.col("pid").first().alias("pid")).collect()
    at = r.select(pl.col("terminal_host", "terminal_port", "src", "offset")
                  .gather(seen.get_column("seq")))
    seen = seen.with_columns(at.get_columns())
    seen_by = {row["asid"]: row for row in seen.to_dicts()}
    wanted = list(LOGINS) + list(LOGOUTS) + list(SU) + list(SUDO) + list(AUTHN) + list(AUTHZ)
    cols = ["seq", "t", "time", "src", "offset", "event", "pid", "auid", "euid", "ruid", "asid",
            "terminal_host", "terminal_port", "success", "text", "args", "exec_argv"]
    authz_kept = ~pl.col("event").is_in(list(AUTHZ)) | (pl.col("success") == False) | (  # noqa: E712
        pl.col("args").list.eval(pl.element().struct.field("text")
                                 .str.starts_with("authenticated as")).list.any().fill_null(False))
    recs_df = r.filter(pl.col("event").is_in(wanted) & authz_kept).select(cols)
    recs = recs_df.to_dicts()
    sess_ev = r.filter(pl.col("event").is_in(list(proc.SESSION_EVENTS))).select(cols).to_dicts()
    # kernel records of a (uid, terminal) after a given seq: the session a login opened
    kern_term = kernel.filter((pl.col("auid") != UNSET) & ~pl.col("asid").is_in([0, UNSET])
                              ).select("seq", "pid", "auid", "asid", "terminal_port")
    rows: list[dict] = []
    logouts = [x for x in recs if x["event"] in LOGOUTS]
    used_logouts: set[int] = set()

    def name_uid(name: str | None):
        if name is None or users is None:
            return None
        return users.uid(name)

    def person_of(x) -> int | None:
        if x["auid"] is not None and x["auid"] != UNSET:
            return x["auid"]
        if x["ruid"] is not None and x["ruid"] not in (UNSET,) and x["ruid"] >= 500:
            return x["ruid"]
        return None

    def ref(x) -> str:
        return f"{x['src']}:{x['offset']}"

    # the kernel session each login opened: the first later kernel record with the login's
    # auid from the same terminal, else from the writer itself (as-of joins, all logins at once)
    logins = recs_df.filter(pl.col("event").is_in(list(LOGINS))
                            & (pl.col("auid") != UNSET)).select(
        "seq", "pid", "auid", "terminal_port", "terminal_host").sort("seq")
    if logins.height:
        kt = kern_term.filter(pl.col("auid").is_in(logins.get_column("auid").unique().implode())
                              & (pl.col("seq") > logins.get_column("seq").min())
                              ).select(pl.col("seq").alias("k_seq"), "pid", "auid", "asid",
                                       "terminal_port").collect()
        by_term = logins.join_asof(kt.drop("pid"), left_on="seq", right_on="k_seq",
                                   by=["auid", "terminal_port"], strategy="forward",
                                   allow_exact_matches=False, check_sortedness=False)
        by_writer = logins.join_asof(kt.drop("terminal_port"), left_on="seq",
                                     right_on="k_seq", by=["pid", "auid"], strategy="forward",
                                     allow_exact_matches=False, check_sortedness=False)
        hits = pl.concat([by_term.drop_nulls("asid").with_columns(pl.lit("t").alias("rule")),
                          by_writer.drop_nulls("asid").with_columns(pl.lit("w").alias("rule"))],
                         how="diagonal_relaxed")
        at = r.select(pl.col("terminal_host", "src", "offset").gather(hits.get_column("k_seq")))
        hits = hits.with_columns(at.select(
            pl.col("terminal_host").alias("k_host"),
            pl.format("{}:{}", "src", "offset").alias("k_ref")).get_columns())
        # the same terminal means the same port and address
        term_hit = {row["seq"]: row for row in hits.filter(
            (pl.col("rule") == "t") & (pl.col("k_host") == pl.col("terminal_host"))).to_dicts()}
        writer_hit = {row["seq"]: row for row in hits.filter(pl.col("rule") == "w").to_dicts()}
    else:
        term_hit, writer_hit = {}, {}

    def find_session(x, uid):
        """asid of the kernel session a login opened, and the record showing it."""
        if _asid_is_real(x):
            return x["asid"], f"the record's session field ({ref(x)})"
        if uid is None:
            return None, None
        h = term_hit.get(x["seq"])
        if h is not None and (x["terminal_port"] or x["terminal_host"] not in (None, "0.0.0.0",
                                                                                "::")):
            return h["asid"], (f"the first later kernel record from the same terminal with "
                               f"auid {uid} ({h['k_ref']})")
        h = writer_hit.get(x["seq"])
        if h is not None:
            return h["asid"], f"the writer's next kernel record with auid {uid} ({h['k_ref']})"
        return None, None

    writers = recs_df.filter(pl.col("event").is_in(list(SU) + list(SUDO))).get_column("pid")
    forks = r.filter(pl.col("event").is_in(list(proc.ANNOUNCE))
                     & pl.col("pid").is_in(writers.implode())).select(
        "seq", "pid", "args", "return_value").to_dicts()
    kids = {a["value"] for f in forks for a in f["args"] or [] if a["number"] == 0} | {
        f["return_value"] for f in forks if f["return_value"]}
    setuids = r.filter(pl.col("event").is_in([200, 40, 43057]) & (pl.col("success") != False)  # noqa: E712
                       & pl.col("pid").is_in(list(set(writers.to_list()) | kids))
                       ).select("seq", "t", "pid", "args", "src", "offset").to_dicts()

    def run_as(x):
        """The uid su/sudo (or a child it forked) switched to next, within a minute."""
        pids = {x["pid"]}
        for f in forks:
            if f["seq"] > x["seq"] and f["pid"] in pids:
                kids = [a["value"] for a in f["args"] or [] if a["number"] == 0]
                pids.update(kids or ([f["return_value"]] if f["return_value"] else []))
        for s_ in setuids:
            if s_["seq"] > x["seq"] and s_["pid"] in pids and x["t"] is not None \
                    and s_["t"] is not None and s_["t"] - x["t"] <= 60_000:
                vals = [a["value"] for a in s_["args"] or [] if a["value"] != UNSET]
                if vals:
                    return vals[-1], f"{s_['src']}:{s_['offset']}"
        return None, None

    claimed: set[int] = set()
    for x in recs:
        ev = x["event"]
        text = (x["text"] or [None])[0]
        base = dict(pid=x["pid"], terminal_host=x["terminal_host"],
                    terminal_port=x["terminal_port"], start=x["time"], success=x["success"],
                    text=text, source=x["src"], offset=x["offset"], _seq=x["seq"])
        if ev in LOGINS:
            uid = x["auid"] if x["auid"] not in (None, UNSET) else None
            if uid is None and x["success"] is False:
                uid = x["euid"] if x["euid"] not in (None, UNSET) else None
            how = LOGINS[ev]
            evid = [f"{how} record {ref(x)}"
                    + (" (failed)" if x["success"] is False else "") + f" for uid {uid}."]
            sid, why = (None, None)
            if x["success"] is not False:
                sid, why = find_session(x, uid)
            if sid is not None:
                evid.append(f"Session {sid}: {why}.")
                claimed.add(sid)
            end = None
            if x["success"] is not False:
                for lo in logouts:
                    if lo["seq"] <= x["seq"] or id(lo) in used_logouts:
                        continue
                    same_writer = lo["pid"] == x["pid"] and not _asid_is_real(lo)
                    same_session = sid is not None and _asid_is_real(lo) and lo["asid"] == sid
                    if same_writer or same_session:
                        end = lo
                        used_logouts.add(id(lo))
                        break
                if end is None and how == "loginwindow":
                    # loginwindow's logout may come from another pid: the user's next logout
                    for lo in logouts:
                        if lo["seq"] > x["seq"] and id(lo) not in used_logouts \
                                and lo["auid"] == uid:
                            end = lo
                            used_logouts.add(id(lo))
                            break
                if end is None and sid is not None:
                    ends = [s for s in sess_ev if s["asid"] == sid and s["event"] in (44903, 44904)
                            and s["seq"] > x["seq"]]
                    end = ends[0] if ends else None
            if end is not None:
                evid.append(f"Ended by {ref(end)}.")
            s = seen_by.get(sid) if sid is not None else None
            rows.append(dict(base, how=how, user=uid, session_id=sid,
                             end=end["time"] if end else None,
                             end_source=end["src"] if end else None,
                             end_offset=end["offset"] if end else None,
                             first_seen=s["first_seen"] if s else None,
                             last_seen=s["last_seen"] if s else None,
                             evidence=" ".join(evid)))
        elif ev in SU:
            uid = person_of(x)
            target = None
            m = _BAD_SU.search(text or "")
            why = ""
            if m:
                uid = name_uid(m.group(1)) if name_uid(m.group(1)) is not None else uid
                target = name_uid(m.group(2))
            elif x["success"] is not False:
                target, at = run_as(x)
                why = f" It then switched to uid {target} ({at})." if at else ""
            rows.append(dict(base, how="su", user=uid, target_user=target,
                             evidence=f"su record {ref(x)}: auid {_id(x['auid'])}, "
                                      f"ruid {_id(x['ruid'])}, euid {_id(x['euid'])}"
                                      + (f", text '{text}'" if text else "") + "." + why))
        elif ev in SUDO:
            uid = person_of(x)
            target, at = run_as(x) if x["success"] is not False else (None, None)
            rows.append(dict(base, how="sudo", user=uid, command=x["exec_argv"],
                             target_user=target,
                             evidence=f"sudo record {ref(x)}: auid {_id(x['auid'])}, "
                                      f"ruid {_id(x['ruid'])}, euid {_id(x['euid'])}."
                                      + (f" Its command switched to uid {target} ({at})."
                                         if at else " The run-as user is not recorded.")))
        elif ev in AUTHN:
            name = None
            if text:
                m = re.search(r"Users '([^']+)'", text)
                name = m.group(1) if m else (text if ev in (45026, 7003) else None)
            uid = name_uid(name)
            rows.append(dict(base, how="authentication", user=uid, target_user=None,
                             evidence=f"authentication record {ref(x)}"
                                      + (f" names '{name}'" if name else "")
                                      + (f" (uid {uid})" if uid is not None else "")
                                      + f"; the asker is pid {x['pid']}."))
        elif ev in AUTHZ:
            as_ = [a for a in (x["args"] or []) if (a["text"] or "").startswith("authenticated as")]
            if not as_ and x["success"] is not False:
                continue
            uid = as_[0]["value"] if as_ else None
            rows.append(dict(base, how="authorization", user=uid,
                             session_id=x["asid"] if _asid_is_real(x) else None,
                             evidence=f"authorization record {ref(x)}: right '{text}' for client "
                                      f"pid {x['pid']} (auid {_id(x['auid'])})"
                                      + (f", {as_[0]['text']} (uid {uid})" if as_ else "")
                                      + ("; refused" if x["success"] is False else "") + "."))
    for lo in logouts:
        if id(lo) in used_logouts:
            continue
        uid = lo["auid"] if lo["auid"] not in (None, UNSET) else None
        rows.append(dict(how="logout", user=uid, pid=lo["pid"], terminal_host=lo["terminal_host"],
                         terminal_port=lo["terminal_port"], end=lo["time"], success=lo["success"],
                         text=(lo["text"] or [None])[0], end_source=lo["src"],
                         end_offset=lo["offset"], source=lo["src"], offset=lo["offset"],
                         session_id=lo["asid"] if _asid_is_real(lo) else None, _seq=lo["seq"],
                         evidence=f"logout record {ref(lo)} for uid {_id(lo['auid'])}; "
                                  "no login record found for it."))
    # kernel session records (only sessions whose auid is unset reach the trail)
    by_asid: dict[int, list[dict]] = {}
    for s in sess_ev:
        by_asid.setdefault(s["asid"], []).append(s)
    for asid, evs in by_asid.items():
        start = next((s for s in evs if s["event"] == 44901), None)
        end = next((s for s in reversed(evs) if s["event"] in (44903, 44904)), None)
        first = start or evs[0]
        seen_s = seen_by.get(asid)
        uid = first["auid"] if first["auid"] not in (None, UNSET) else None
        claimed.add(asid)
        rows.append(dict(how="audit session", user=uid, session_id=asid, pid=None,
                         terminal_host=first["terminal_host"],
                         terminal_port=first["terminal_port"],
                         start=start["time"] if start else None,
                         end=end["time"] if end else None, success=None,
                         source=first["src"], offset=first["offset"],
                         end_source=end["src"] if end else None,
                         end_offset=end["offset"] if end else None,
                         first_seen=seen_s["first_seen"] if seen_s else None,
                         last_seen=seen_s["last_seen"] if seen_s else None, _seq=first["seq"],
                         evidence=f"kernel session records {', '.join(ref(s) for s in evs)}"
                                  + (f"; auid {uid}" if uid is not None else "; auid unset")
                                  + "."))
    # sessions seen only through their processes' records
    for asid, s in seen_by.items():
        if asid in claimed or s["auid"] is None:
            continue
        rows.append(dict(how="observed", user=s["auid"], session_id=asid, pid=None,
                         terminal_host=s["terminal_host"], terminal_port=s["terminal_port"],
                         first_seen=s["first_seen"], last_seen=s["last_seen"],
                         source=s["src"], offset=s["offset"], _seq=s["seq"],
                         evidence=f"kernel records with session {asid} and auid {s['auid']}, "
                                  f"first {s['src']}:{s['offset']}; no login record for it."))
    if not rows:
        return pl.DataFrame(schema=SESSIONS)
    for row in rows:
        row.setdefault("_seq", None)
    rows.sort(key=lambda x: (x["_seq"] is None, x["_seq"] or 0))
    out = pl.DataFrame([{k: row.get(k) for k in SESSIONS.names()} for row in rows],
                       schema=SESSIONS)
    out = out.with_columns(_user_names(out.get_column("user"), users).alias("user_name"),
                           _user_names(out.get_column("target_user"), users)
                           .alias("target_user_name"))
    return out.select(SESSIONS.names())


def _id(value) -> str:
    if value is None:
        return "none"
    return "unset" if value == UNSET else str(value)
