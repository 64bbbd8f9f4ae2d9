"""Logins, logouts, audit sessions and authentications: ``sessions(records, users)``.

One row per (``how``): ``ssh``, ``login``, ``loginwindow``, ``rlogin`` (a login record; its
``end`` from the matching logout), ``su`` and ``sudo`` (``target_user``: the uid su/sudo or a
child it forked switched to within a minute, or named in "bad su X to Y"), ``authentication``,
``authorization`` (refused, or "authenticated as"), ``logout`` (no login found for it),
``audit session`` (kernel session records) and ``observed`` (kernel records of a session no
row above explains).

sshd, login and sudo put their pid in the session-id field of their records, so those records
are never joined to kernel sessions by that field. The kernel session a login opened is the
session of the first later kernel record with the login's auid from the same terminal (port
and address), else of the writer's own next kernel record with that auid.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_right
from dataclasses import dataclass, field

import polars as pl

from ..schema import SESSIONS, UNSET
from .order import ensure
from .people import id_text, user_names
from .vocab import (
    ANNOUNCE,
    AUTHINT,
    AUTHN,
    AUTHZ,
    LOGINS,
    LOGOUTS,
    SESSION_ENDS,
    SESSION_EVENTS,
    SESSION_START,
    SETUIDS,
    SU,
    SUDO,
    is_user_event,
)

__all__ = ["SESSIONS", "sessions"]

SWITCH_MS = 60_000   # su/sudo's switch of uid counts this long after its record

_SESSION_COLS = ("offset", "time", "event", "pid", "auid", "euid", "ruid", "asid", "success",
                 "return_value", "text", "args", "exec_argv", "terminal_port", "terminal_host")
_COLS = ["seq", "t", "time", "src", "offset", "event", "pid", "auid", "euid", "ruid", "asid",
         "terminal_host", "terminal_port", "success", "text", "args", "exec_argv"]
_BAD_SU = re.compile(r"bad su (\S+) to (\S+)(?: on (\S+))?")
_USERS = re.compile(r"Users '([^']+)'")


def sessions(records: pl.DataFrame, users=None,
             ordered: pl.DataFrame | None = None) -> pl.DataFrame:
    """Logins, logouts, audit sessions and authentications, one row each (see ``SESSIONS``).
    ``ordered``: ``order.order(records)`` when the caller already has it."""
    r = ensure(records, ordered, _SESSION_COLS)
    if r.height == 0:
        return pl.DataFrame(schema=SESSIONS)
    kernel = r.lazy().filter(~is_user_event(pl.col("event")) & pl.col("auid").is_not_null()
                             & ~pl.col("event").is_in(list(SESSION_EVENTS)))
    recs_df = _session_records(r)
    ctx = _Context(users=users, seen_by=_seen(r, kernel),
                   sess_ev=r.lazy().filter(pl.col("event").is_in(list(SESSION_EVENTS)))
                   .select(_COLS).collect().to_dicts())
    recs = recs_df.to_dicts()
    ctx.logouts = _Logouts([x for x in recs if x["event"] in LOGOUTS])
    ctx.term_hit, ctx.writer_hit = _login_sessions(r, recs_df, kernel)
    ctx.switches = _Switches(r, recs_df)
    rows = []
    for x in recs:
        row = _row(ctx, x)
        if row is not None:
            rows.append(row)
    rows += _orphan_logouts(ctx)
    rows += _audit_sessions(ctx)
    rows += _observed(ctx)
    return _frame(rows, users)


def _session_records(r: pl.DataFrame) -> pl.DataFrame:
    """The records rows are made of: logins, logouts, su, sudo, authentications, and
    authorizations that were refused or name who authenticated."""
    wanted = [*LOGINS, *LOGOUTS, *SU, *SUDO, *AUTHN, *AUTHZ]
    authz_kept = ~pl.col("event").is_in(list(AUTHZ)) | (pl.col("success") == False) | (
        pl.col("args").list.eval(pl.element().struct.field("text")
                                 .str.starts_with("authenticated as")).list.any().fill_null(False))
    # lazy: filtering the eager frame first would copy every one of its columns
    return r.lazy().filter(pl.col("event").is_in(wanted) & authz_kept).select(_COLS).collect()


def _seen(r: pl.DataFrame, kernel: pl.LazyFrame) -> dict[int, dict]:
    """asid -> first and last time, first set auid, first record of the kernel records of
    that session."""
    seen = kernel.filter(~pl.col("asid").is_in([0, UNSET])).group_by("asid").agg(
        pl.col("time").min().alias("first_seen"), pl.col("time").max().alias("last_seen"),
        pl.col("auid").filter(pl.col("auid") != UNSET).first().alias("auid"),
        pl.col("seq").min().alias("seq"), pl.col("pid").first().alias("pid")).collect()
    at = r.select(pl.col("terminal_host", "terminal_port", "src", "offset")
                  .gather(seen.get_column("seq")))
    seen = seen.with_columns(at.get_columns())
    return {row["asid"]: row for row in seen.to_dicts()}


def _login_sessions(r: pl.DataFrame, recs_df: pl.DataFrame,
                    kernel: pl.LazyFrame) -> tuple[dict, dict]:
    """(by terminal, by writer): login seq -> the first later kernel record with the login's
    auid from the same terminal, and from the writer itself (as-of joins, all logins at once)."""
    logins = recs_df.filter(pl.col("event").is_in(list(LOGINS))
                            & (pl.col("auid") != UNSET)).select(
        "seq", "pid", "auid", "terminal_port", "terminal_host").sort("seq")
    if not logins.height:
        return {}, {}
    kern_term = kernel.filter((pl.col("auid") != UNSET) & ~pl.col("asid").is_in([0, UNSET])
                              ).select("seq", "pid", "auid", "asid", "terminal_port")
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
    return term_hit, writer_hit


class _Logouts:
    """Logout records in seq order, each used by at most one login. ``first(keys, after)``
    finds the first unused logout after a seq among those filed under any of ``keys``
    (indexes by key with a skip pointer over used ones: linear overall, not logins x
    logouts)."""

    def __init__(self, logouts: list[dict]):
        self.all = logouts
        self.used: set[int] = set()
        self._index: dict[tuple, list[int]] = {}
        for i, lo in enumerate(logouts):
            keys = [("auid", lo["auid"])]
            keys.append(("asid", lo["asid"]) if _asid_is_real(lo) else ("pid", lo["pid"]))
            for key in keys:
                self._index.setdefault(key, []).append(i)
        self._seqs = {k: [logouts[i]["seq"] for i in v] for k, v in self._index.items()}
        self._skip: dict[tuple, list[int]] = {k: list(range(len(v)))
                                              for k, v in self._index.items()}

    def _next(self, key: tuple, after: int) -> int | None:
        """Position in the all-list of the first unused logout filed under key after seq."""
        idx = self._index.get(key)
        if idx is None:
            return None
        skip = self._skip[key]
        j = bisect_right(self._seqs[key], after)
        path = []
        while j < len(idx) and idx[j] in self.used:
            path.append(j)
            j = skip[j] if skip[j] != j else j + 1
        for p in path:          # path compression: later searches jump over used runs
            skip[p] = j
        return idx[j] if j < len(idx) else None

    def first(self, keys: list[tuple], after: int) -> dict | None:
        """The first unused logout (in seq order) after seq under any key; marks it used."""
        found = [i for i in (self._next(k, after) for k in keys) if i is not None]
        if not found:
            return None
        i = min(found)
        self.used.add(i)
        return self.all[i]

    def unused(self) -> list[dict]:
        return [lo for i, lo in enumerate(self.all) if i not in self.used]


class _Switches:
    """The uid su/sudo (or a child it forked) switched to next, within ``SWITCH_MS``.

    Forks and set*id calls of the writers (and their children) are indexed by pid, so each
    su/sudo record looks only at its own pids' records, not at every fork and set*id."""

    def __init__(self, r: pl.DataFrame, recs_df: pl.DataFrame):
        writers = recs_df.filter(pl.col("event").is_in([*SU, *SUDO])).get_column("pid")
        forks = r.lazy().filter(pl.col("event").is_in(list(ANNOUNCE))
                                & pl.col("pid").is_in(writers.implode())).select(
            "seq", "pid", "args", "return_value").collect().to_dicts()
        self.forks: dict[int, list[tuple[int, list]]] = {}    # pid -> [(seq, children)]
        for f in forks:
            kids = [a["value"] for a in f["args"] or [] if a["number"] == 0]
            kids = kids or ([f["return_value"]] if f["return_value"] else [])
            self.forks.setdefault(f["pid"], []).append((f["seq"], kids))
        all_kids = {k for v in self.forks.values() for _, kids in v for k in kids}
        setuids = r.lazy().filter(pl.col("event").is_in(list(SETUIDS))
                                  & (pl.col("success") != False)
                                  & pl.col("pid").is_in(list(set(writers.to_list()) | all_kids))
                                  ).select("seq", "t", "pid", "args", "src", "offset"
                                           ).collect().to_dicts()
        self.setuids: dict[int, list[tuple[int, int, int, str]]] = {}  # pid -> [(seq, t, uid, ref)]
        for s_ in setuids:
            vals = [a["value"] for a in s_["args"] or [] if a["value"] != UNSET]
            if vals and s_["t"] is not None:
                self.setuids.setdefault(s_["pid"], []).append(
                    (s_["seq"], s_["t"], vals[-1], f"{s_['src']}:{s_['offset']}"))
        self._fork_seqs = {pid: [s for s, _ in v] for pid, v in self.forks.items()}
        self._call_seqs = {pid: [c[0] for c in v] for pid, v in self.setuids.items()}
        # per pid: the least time from each position on (no match at all: one comparison)
        self._least = {pid: _suffix_min([c[1] for c in v]) for pid, v in self.setuids.items()}

    def _pids(self, x: dict) -> set:
        """x's pid and the pids forked, after x, by a pid already in the set (earliest first)."""
        best: dict = {}
        heap = [(x["seq"], 0, x["pid"])]
        n = 0
        while heap:
            since, _, pid = heapq.heappop(heap)
            if pid in best:
                continue
            best[pid] = since
            forks = self.forks.get(pid, ())
            for seq, kids in forks[bisect_right(self._fork_seqs[pid], since) if forks else 0:]:
                for kid in kids:
                    if kid not in best:
                        n += 1
                        heapq.heappush(heap, (seq, n, kid))
        return set(best)

    def run_as(self, x: dict) -> tuple[int | None, str | None]:
        """(uid, file:offset of the set*id record) or (None, None): the first set*id call after
        x by one of its pids, within ``SWITCH_MS`` of x's time."""
        if x["t"] is None:
            return None, None
        bound = x["t"] + SWITCH_MS
        found = None
        for pid in self._pids(x):
            calls = self.setuids.get(pid)
            if not calls:
                continue
            i = bisect_right(self._call_seqs[pid], x["seq"])
            least = self._least[pid]
            while i < len(calls) and least[i] <= bound:
                if calls[i][1] <= bound:
                    if found is None or calls[i][0] < found[0]:
                        found = calls[i]
                    break
                i += 1
        return (found[2], found[3]) if found else (None, None)


def _suffix_min(values: list[int]) -> list[int]:
    out = list(values)
    for i in range(len(out) - 2, -1, -1):
        out[i] = min(out[i], out[i + 1])
    return out


@dataclass
class _Context:
    users: object
    seen_by: dict[int, dict]
    sess_ev: list[dict]
    logouts: _Logouts | None = None
    term_hit: dict = field(default_factory=dict)
    writer_hit: dict = field(default_factory=dict)
    switches: _Switches | None = None
    claimed: set[int] = field(default_factory=set)   # sessions a row explains
    _ends: dict | None = None

    def session_ends(self) -> dict[int, tuple[list[int], list[dict]]]:
        """asid -> (seqs, records) of its kernel session end and close records."""
        if self._ends is None:
            by: dict[int, list[dict]] = {}
            for s in self.sess_ev:
                if s["event"] in SESSION_ENDS:
                    by.setdefault(s["asid"], []).append(s)
            self._ends = {a: ([s["seq"] for s in v], v) for a, v in by.items()}
        return self._ends

    def uid(self, name: str | None) -> int | None:
        if name is None or self.users is None:
            return None
        return self.users.uid(name)


def _asid_is_real(row) -> bool:
    """User-space writers put their pid in the session-id field; a real asid differs."""
    sid = row["asid"]
    return sid is not None and sid not in (0, UNSET) and sid != row["pid"]


def _ref(x) -> str:
    return f"{x['src']}:{x['offset']}"


def _person(x) -> int | None:
    if x["auid"] is not None and x["auid"] != UNSET:
        return x["auid"]
    if x["ruid"] is not None and x["ruid"] not in (UNSET,) and x["ruid"] >= 500:
        return x["ruid"]
    return None


def _row(ctx: _Context, x: dict) -> dict | None:
    ev = x["event"]
    text = (x["text"] or [None])[0]
    base = dict(pid=x["pid"], terminal_host=x["terminal_host"],
                terminal_port=x["terminal_port"], start=x["time"], success=x["success"],
                text=text, source=x["src"], offset=x["offset"], _seq=x["seq"])
    if ev in LOGINS:
        return _login(ctx, x, base)
    if ev in SU:
        return _su(ctx, x, base, text)
    if ev in SUDO:
        return _sudo(ctx, x, base)
    if ev in AUTHN:
        return _authentication(ctx, x, base, text)
    if ev in AUTHZ:
        return _authorization(x, base, text)
    return None


def _find_session(ctx: _Context, x: dict, uid):
    """asid of the kernel session a login opened, and the record showing it."""
    if _asid_is_real(x):
        return x["asid"], f"the record's session field ({_ref(x)})"
    if uid is None:
        return None, None
    h = ctx.term_hit.get(x["seq"])
    if h is not None and (x["terminal_port"] or x["terminal_host"] not in (None, "0.0.0.0",
                                                                            "::")):
        return h["asid"], (f"the first later kernel record from the same terminal with "
                           f"auid {uid} ({h['k_ref']})")
    h = ctx.writer_hit.get(x["seq"])
    if h is not None:
        return h["asid"], f"the writer's next kernel record with auid {uid} ({h['k_ref']})"
    return None, None


def _login_end(ctx: _Context, x: dict, how: str, uid, sid) -> dict | None:
    """The record that ended a successful login: the next unused logout of the same writer
    (pid in its session field) or of its session, else for loginwindow the user's next
    logout, else the end of its kernel session."""
    keys = [("pid", x["pid"])] + ([("asid", sid)] if sid is not None else [])
    end = ctx.logouts.first(keys, x["seq"])
    if end is None and how == "loginwindow":
        # loginwindow's logout may come from another pid: the user's next logout
        end = ctx.logouts.first([("auid", uid)], x["seq"])
    if end is None and sid is not None:
        seqs, ends = ctx.session_ends().get(sid, ((), ()))
        i = bisect_right(seqs, x["seq"])
        end = ends[i] if i < len(ends) else None
    return end


def _login(ctx: _Context, x: dict, base: dict) -> dict:
    uid = x["auid"] if x["auid"] not in (None, UNSET) else None
    if uid is None and x["success"] is False:
        uid = x["euid"] if x["euid"] not in (None, UNSET) else None
    how = LOGINS[x["event"]]
    evid = [f"{how} record {_ref(x)}"
            + (" (failed)" if x["success"] is False else "") + f" for uid {uid}."]
    sid, why, end = None, None, None
    if x["success"] is not False:
        sid, why = _find_session(ctx, x, uid)
    if sid is not None:
        evid.append(f"Session {sid}: {why}.")
        ctx.claimed.add(sid)
    if x["success"] is not False:
        end = _login_end(ctx, x, how, uid, sid)
    if end is not None:
        evid.append(f"Ended by {_ref(end)}.")
    s = ctx.seen_by.get(sid) if sid is not None else None
    return dict(base, how=how, user=uid, session_id=sid,
                end=end["time"] if end else None,
                end_source=end["src"] if end else None,
                end_offset=end["offset"] if end else None,
                first_seen=s["first_seen"] if s else None,
                last_seen=s["last_seen"] if s else None,
                evidence=" ".join(evid))


def _su(ctx: _Context, x: dict, base: dict, text) -> dict:
    uid = _person(x)
    target = None
    m = _BAD_SU.search(text or "")
    why = ""
    if m:
        uid = ctx.uid(m.group(1)) if ctx.uid(m.group(1)) is not None else uid
        target = ctx.uid(m.group(2))
    elif x["success"] is not False:
        target, at = ctx.switches.run_as(x)
        why = f" It then switched to uid {target} ({at})." if at else ""
    return dict(base, how="su", user=uid, target_user=target,
                evidence=f"su record {_ref(x)}: auid {id_text(x['auid'])}, "
                         f"ruid {id_text(x['ruid'])}, euid {id_text(x['euid'])}"
                         + (f", text '{text}'" if text else "") + "." + why)


def _sudo(ctx: _Context, x: dict, base: dict) -> dict:
    uid = _person(x)
    target, at = ctx.switches.run_as(x) if x["success"] is not False else (None, None)
    return dict(base, how="sudo", user=uid, command=x["exec_argv"], target_user=target,
                evidence=f"sudo record {_ref(x)}: auid {id_text(x['auid'])}, "
                         f"ruid {id_text(x['ruid'])}, euid {id_text(x['euid'])}."
                         + (f" Its command switched to uid {target} ({at})."
                            if at else " The run-as user is not recorded."))


def _authentication(ctx: _Context, x: dict, base: dict, text) -> dict:
    name = None
    if text:
        m = _USERS.search(text)
        name = m.group(1) if m else (text if x["event"] in AUTHINT else None)
    uid = ctx.uid(name)
    return dict(base, how="authentication", user=uid, target_user=None,
                evidence=f"authentication record {_ref(x)}"
                         + (f" names '{name}'" if name else "")
                         + (f" (uid {uid})" if uid is not None else "")
                         + f"; the asker is pid {x['pid']}.")


def _authorization(x: dict, base: dict, text) -> dict | None:
    as_ = [a for a in (x["args"] or []) if (a["text"] or "").startswith("authenticated as")]
    if not as_ and x["success"] is not False:
        return None
    uid = as_[0]["value"] if as_ else None
    return dict(base, how="authorization", user=uid,
                session_id=x["asid"] if _asid_is_real(x) else None,
                evidence=f"authorization record {_ref(x)}: right '{text}' for client "
                         f"pid {x['pid']} (auid {id_text(x['auid'])})"
                         + (f", {as_[0]['text']} (uid {uid})" if as_ else "")
                         + ("; refused" if x["success"] is False else "") + ".")


def _orphan_logouts(ctx: _Context) -> list[dict]:
    """Logouts no login was found for."""
    rows = []
    for lo in ctx.logouts.unused():
        uid = lo["auid"] if lo["auid"] not in (None, UNSET) else None
        rows.append(dict(how="logout", user=uid, pid=lo["pid"], terminal_host=lo["terminal_host"],
                         terminal_port=lo["terminal_port"], end=lo["time"], success=lo["success"],
                         text=(lo["text"] or [None])[0], end_source=lo["src"],
                         end_offset=lo["offset"], source=lo["src"], offset=lo["offset"],
                         session_id=lo["asid"] if _asid_is_real(lo) else None, _seq=lo["seq"],
                         evidence=f"logout record {_ref(lo)} for uid {id_text(lo['auid'])}; "
                                  "no login record found for it."))
    return rows


def _audit_sessions(ctx: _Context) -> list[dict]:
    """Kernel session records (only sessions whose auid is unset reach the trail)."""
    by_asid: dict[int, list[dict]] = {}
    for s in ctx.sess_ev:
        by_asid.setdefault(s["asid"], []).append(s)
    rows = []
    for asid, evs in by_asid.items():
        start = next((s for s in evs if s["event"] == SESSION_START), None)
        end = next((s for s in reversed(evs) if s["event"] in SESSION_ENDS), None)
        first = start or evs[0]
        seen_s = ctx.seen_by.get(asid)
        uid = first["auid"] if first["auid"] not in (None, UNSET) else None
        ctx.claimed.add(asid)
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
                         evidence=f"kernel session records {', '.join(_ref(s) for s in evs)}"
                                  + (f"; auid {uid}" if uid is not None else "; auid unset")
                                  + "."))
    return rows


def _observed(ctx: _Context) -> list[dict]:
    """Sessions seen only through their processes' records."""
    rows = []
    for asid, s in ctx.seen_by.items():
        if asid in ctx.claimed or s["auid"] is None:
            continue
        rows.append(dict(how="observed", user=s["auid"], session_id=asid, pid=None,
                         terminal_host=s["terminal_host"], terminal_port=s["terminal_port"],
                         first_seen=s["first_seen"], last_seen=s["last_seen"],
                         source=s["src"], offset=s["offset"], _seq=s["seq"],
                         evidence=f"kernel records with session {asid} and auid {s['auid']}, "
                                  f"first {s['src']}:{s['offset']}; no login record for it."))
    return rows


def _frame(rows: list[dict], users) -> pl.DataFrame:
    """The rows in the order of their records, as a ``SESSIONS`` frame with user names."""
    if not rows:
        return pl.DataFrame(schema=SESSIONS)
    for row in rows:
        row.setdefault("_seq", None)
    rows.sort(key=lambda x: (x["_seq"] is None, x["_seq"] or 0))
    out = pl.DataFrame([{k: row.get(k) for k in SESSIONS.names()} for row in rows],
                       schema=SESSIONS)
    out = out.with_columns(user_names(out.get_column("user"), users).alias("user_name"),
                           user_names(out.get_column("target_user"), users)
                           .alias("target_user_name"))
    return out.select(SESSIONS.names())
