"""auditreduce-style selection as Polars expressions, plus cheap decoder pre-checks.

:class:`Selection` holds what auditreduce's options ask for, resolved once (event and user
names through the evidence's tables, dates in the analyst's zone, regexes checked).
:meth:`Selection.expr` turns it into one boolean expression over the records frame
(``schema.RECORDS``), :meth:`Selection.prefilter` into what the decoder can reject at the
header. ``docs/selection.md`` documents every option.

The rules are auditreduce's (docs/bsm-format.md §7), applied to every record whatever the kind
of its header, subject, process or return token: auditreduce only looks at header32,
subject32, process32 and return32, so it misses records knox-report keeps. Kept on purpose:

* ``-a``/``-b`` are inclusive and compare whole seconds; ``-d`` is one calendar day;
* ``-c``: the header's event -> class mask from audit_event (the last line for a number
  wins); with ``+``/``-`` flags the return status decides (a record without a return token
  is decided by the event alone); events missing from the table never match;
* user options (``-u -e -f -g -r``) need a subject or a process token, and when a record has
  both, BOTH must match (the target of kill(2) counts): ``-e 0`` does not select root killing
  a user's process. ``-j`` is the subject's pid, ``-o pid=`` the process token's;
* ``-o file=``: the record must have a path token and every path must be accepted; the first
  regex that matches a path decides, ``~`` negates, a path no regex matches is rejected;
* ``-v`` inverts the final decision;
* bare ``file`` tokens (not records) are selected only when no option is given (see
  :meth:`Selection.keeps_file_tokens`).

Where auditreduce silently ignores an unknown user or group name, an ``-o`` value without
``=`` or an impossible date, :class:`SelectionError` says so in one line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SelectionError
from .patterns import Socket, glob_regex, split_regexes
from .resolve import USER_OPTIONS, resolve_options

__all__ = ["SelectionError", "Selection", "split_regexes", "glob_regex"]

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class Selection:
    """auditreduce's options, resolved. Build it with :meth:`from_options`."""

    events: frozenset | None = None                    # -m
    classes: tuple[int, int] | None = None             # -c: (success mask, failure mask)
    users: tuple[tuple[str, frozenset], ...] = ()      # -u -e -f -r -g: (option key, ids)
    subject_pids: frozenset | None = None              # -j
    paths: tuple[tuple[str, bool], ...] | None = None  # -o file=: (regex, negated)
    process_pids: frozenset | None = None              # -o pid=
    ipc: tuple[tuple[int, frozenset], ...] = ()        # -o msgqid= semid= shmid=
    sockets: tuple[Socket, ...] | None = None         # -o sock=
    zone: str | None = None                            # -z glob
    after_ms: int | None = None                        # -a (inclusive), epoch ms
    before_ms: int | None = None                       # -b: first excluded ms (T + 1 s)
    invert: bool = False                               # -v
    all: bool = False                                  # -A

    @classmethod
    def from_options(cls, *, tables=None, tz=None, event=(), klass=None, auid=(), euid=(),
                     egid=(), ruid=(), rgid=(), pid=(), objects=(), zone=None, after=None,
                     before=None, date=None, invert=False, all=False) -> "Selection":
        """Resolve auditreduce-style options; raises :class:`SelectionError` on a bad one.

        ``tables`` is a :class:`forensics.audit.Tables` (names of events, classes, users and
        groups resolve through it); ``tz`` a tzinfo or a zone name (``-a/-b/-d`` are read
        in it; None: the local zone).
        """
        return cls(**resolve_options(
            tables=tables, tz=tz, event=event, klass=klass, auid=auid, euid=euid, egid=egid,
            ruid=ruid, rgid=rgid, pid=pid, objects=objects, zone=zone, after=after,
            before=before, date=date, invert=invert, all=all))

    # ---------------------------------------------------------------------------------------

    @property
    def has_criteria(self) -> bool:
        """True when any option other than -v was given (-A counts)."""
        return bool(self.all or self.events is not None or self.classes is not None
                    or self.users or self.subject_pids is not None or self.paths is not None
                    or self.process_pids is not None or self.ipc or self.sockets is not None
                    or self.zone is not None or self.after_ms is not None
                    or self.before_ms is not None)

    def keeps_file_tokens(self) -> bool:
        """Whether bare ``file`` tokens are selected: only when no option is given, inverted
        by -v (so ``-v -m X`` keeps them, and ``-v`` alone keeps nothing at all)."""
        return (not self.has_criteria) != self.invert

    def conditions(self) -> list[pl.Expr]:
        """One boolean expression per requested option (never null), before -v."""
        import polars as pl     # here: ``reduce`` selects without Polars when it can

        utc_ms = pl.Datetime("ms", "UTC")
        out: list[pl.Expr] = []
        if self.after_ms is not None:
            out.append(pl.col("time") >= pl.lit(self.after_ms, pl.Int64).cast(utc_ms))
        if self.before_ms is not None:
            out.append(pl.col("time") < pl.lit(self.before_ms, pl.Int64).cast(utc_ms))
        if self.events is not None:
            out.append(pl.col("event").is_in(sorted(self.events)))
        if self.classes is not None:
            out.append(self._class_expr(*self.classes))
        if self.users:
            out.append(self._user_expr())
        if self.subject_pids is not None:
            out.append(pl.col("subject_token").is_not_null()
                       & pl.col("pid").is_in(sorted(self.subject_pids)))
        if self.process_pids is not None:
            out.append(pl.col("process_pid").is_in(sorted(self.process_pids)))
        for kind, ids in self.ipc:
            out.append((pl.col("ipc_type") == kind) & pl.col("ipc_id").is_in(sorted(ids)))
        if self.paths is not None:
            out.append(self._path_expr())
        if self.sockets is not None:
            out.append(functools.reduce(lambda a, b: a | b, [s.expr() for s in self.sockets]))
        if self.zone is not None:
            out.append(pl.col("zonename").str.contains(glob_regex(self.zone)))
        return [c.fill_null(False) for c in out]

    def expr(self) -> pl.Expr | None:
        """The selection over the records frame; None when every record is kept."""
        import polars as pl

        conds = self.conditions()
        if not conds:
            return pl.lit(False) if self.invert else None
        combined = functools.reduce(lambda a, b: a & b, conds)
        return ~combined if self.invert else combined

    def prefilter(self) -> dict:
        """Cheap checks for the decoder: ``{"events": frozenset}`` for -m without -v."""
        if self.events is not None and not self.invert:
            return {"events": self.events}
        return {}

    def window_ms(self) -> tuple[int | None, int | None]:
        """(since, until) epoch ms, half-open, that every selected record lies in (-a/-b/-d
        without -v); the decoder can skip records outside it at the header."""
        if self.invert:
            return None, None
        return self.after_ms, self.before_ms

    # ---------------------------------------------------------------------------------------

    @staticmethod
    def _class_expr(success: int, failure: int) -> pl.Expr:
        import polars as pl

        mask = pl.col("event_class_mask")

        def hits(bits: int) -> pl.Expr:
            return (mask & pl.lit(bits, pl.UInt32)) != 0

        by_return = (pl.when(pl.col("success").is_null()).then(pl.lit(True))
                     .when(pl.col("success")).then(hits(success))
                     .otherwise(hits(failure)))
        return hits(success | failure) & by_return

    def _user_expr(self) -> pl.Expr:
        import polars as pl

        subject = pl.col("subject_token").is_not_null()
        process = pl.col("process_pid").is_not_null()
        s_match = p_match = pl.lit(True)
        for key, ids in self.users:
            s_col, p_col, _kind, _flag = USER_OPTIONS[key]
            values = sorted(ids)
            s_match = s_match & pl.col(s_col).is_in(values).fill_null(False)
            p_match = p_match & pl.col(p_col).is_in(values).fill_null(False)
        return (subject | process) & (~subject | s_match) & (~process | p_match)

    def _path_expr(self) -> pl.Expr:
        import polars as pl

        decision = None
        for regex, negated in self.paths:
            hit = pl.element().str.contains(regex)
            decision = (pl.when(hit) if decision is None else decision.when(hit)).then(
                pl.lit(not negated))
        decision = decision.otherwise(pl.lit(False))
        paths = pl.col("paths")
        return (paths.list.len() > 0) & paths.list.eval(decision).list.all()
