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
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
import click
import polars as pl

from ..errors import SelectionError

__all__ = ["SelectionError", "Selection", "click_options", "split_regexes", "glob_regex"]

_UNSET = 0xFFFFFFFF
_UTC_MS = pl.Datetime("ms", "UTC")
_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(\d{2})?)?)?")
_DAY = re.compile(r"(\d{4})(\d{2})(\d{2})")
_INT = re.compile(r"[+-]?[0-9]+")
_IPC_TYPES = {"msgqid": 1, "semid": 2, "shmid": 3}
_OBJECT_TYPES = ("file", "pid", "msgqid", "semid", "shmid", "sock")
#: user options: from_options keyword -> (subject column, process column, kind of name)
_USER_OPTIONS = {
    "auid": ("auid", "process_auid", "user", "-u"),
    "euid": ("euid", "process_euid", "user", "-e"),
    "egid": ("egid", "process_egid", "group", "-f"),
    "ruid": ("ruid", "process_ruid", "user", "-r"),
    "rgid": ("rgid", "process_rgid", "group", "-g"),
}


# --------------------------------------------------------------------------------------------
# small parsers


def _many(value) -> tuple:
    """None, a scalar or an iterable of scalars -> a tuple of scalars."""
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        return (value,)
    return tuple(value)


def _one(value, flag: str):
    """At most one value: auditreduce refuses ``-a``/``-b``/``-d`` given twice."""
    values = _many(value) if not isinstance(value, datetime) else (value,)
    if len(values) > 1:
        raise SelectionError(f"{flag} given more than once")
    return values[0] if values else None


def _id32(value, flag: str) -> int | None:
    """A number as auditreduce compares it: 32 bits, -1 is 4294967295. None: not a number."""
    if isinstance(value, bool):
        raise SelectionError(f"{flag}: not a number: {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not _INT.fullmatch(text):
            return None
        number = int(text)
    if not -(1 << 31) <= number <= _UNSET:
        raise SelectionError(f"{flag}: {value} is out of range for a 32-bit id")
    return number & _UNSET


def _number(value, flag: str, what: str, maximum: int = _UNSET) -> int:
    number = _id32(value, flag)
    if number is None:
        raise SelectionError(f"{flag}: {what} must be a number, not {str(value)!r}")
    if number > maximum:
        raise SelectionError(f"{flag}: {what} {value} is out of range (0-{maximum})")
    return number


def _stamp(text, tz: tzinfo, flag: str, *, day: bool = False) -> datetime:
    """auditreduce's YYYYMMDD[HH[MM[SS]]] (``-d``: YYYYMMDD) as an aware datetime in tz."""
    if isinstance(text, datetime):
        if text.tzinfo is None:
            raise SelectionError(f"{flag}: a datetime needs a time zone")
        return text
    raw = str(text).strip()
    m = (_DAY if day else _STAMP).fullmatch(raw)
    if m is None:
        form = "YYYYMMDD" if day else "YYYYMMDD[HH[MM[SS]]]"
        raise SelectionError(f"{flag}: {raw!r} is not a date of the form {form}")
    parts = [int(g) if g is not None else 0 for g in m.groups()]
    try:
        return datetime(*parts, tzinfo=tz)
    except ValueError as exc:
        raise SelectionError(f"{flag}: {raw!r} is not a valid date ({exc})") from None


def _ms(t: datetime) -> int:
    return int(round(t.timestamp() * 1000))


def _next_midnight(t: datetime) -> datetime:
    """Midnight of the following day in t's zone (days of 23 or 25 hours stay correct)."""
    following = (t.replace(tzinfo=None) + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    return following.replace(tzinfo=t.tzinfo)


def split_regexes(value: str) -> list[tuple[str, bool]]:
    """auditreduce's ``file=`` list: split at commas, ``\\,`` is a literal comma, ``~`` negates.

    Returns ``(regex, negated)`` pairs in order.
    """
    items, current, i = [], [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and value[i + 1:i + 2] == ",":
            current.append(",")
            i += 2
            continue
        if c == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    items.append("".join(current))
    out = []
    for item in items:
        negated = item.startswith("~")
        out.append((item[1:] if negated else item, negated))
    return out


def _check_regex(pattern: str, flag: str) -> None:
    try:
        pl.select(pl.lit("", pl.String).str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("error:")]
        why = lines[0][len("error:"):].strip() if lines else "invalid"
        raise SelectionError(f"{flag}: bad regular expression {pattern!r}: {why}") from None


def _char(c: str) -> str:
    return "\\x{%x}" % ord(c)


_POSIX_CLASSES = {"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
                  "punct", "space", "upper", "xdigit"}


def glob_regex(pattern: str) -> str:
    """An fnmatch(3) pattern (flags 0) as an anchored regex for Polars.

    ``*`` and ``?`` match any characters (``/`` and a leading ``.`` included), ``[...]`` and
    ``[!...]`` (or ``[^...]``) are bracket expressions with ranges and ``[:class:]``, a
    backslash quotes the next character, and an unterminated ``[`` is a literal.
    """
    out, i, n = ["^(?s:"], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i < n:
            out.append(_char(pattern[i]))
            i += 1
        elif c == "[":
            bracket = _bracket(pattern, i)
            if bracket is None:
                out.append(_char("["))
            else:
                text, i = bracket
                out.append(text)
        else:
            out.append(_char(c))
    out.append(")$")
    return "".join(out)


def _bracket(p: str, j: int) -> tuple[str, int] | None:
    """The bracket expression starting after '[' at j: (regex class, position after ']')."""
    n = len(p)
    negate = j < n and p[j] in "!^"
    if negate:
        j += 1
    items, first = [], True
    while j < n:
        c = p[j]
        if c == "]" and not first:
            body = "".join(items)
            if not body:     # only empty ranges: nothing matches (negated: any character)
                return ("(?s:.)" if negate else r"\b\B"), j + 1
            return "[" + ("^" if negate else "") + body + "]", j + 1
        first = False
        if c == "[" and p.startswith("[:", j):
            end = p.find(":]", j + 2)
            if end != -1 and p[j + 2:end] in _POSIX_CLASSES:
                items.append("[:%s:]" % p[j + 2:end])
                j = end + 2
                continue
        if c == "\\" and j + 1 < n:
            c, j = p[j + 1], j + 2
        else:
            j += 1
        if j + 1 < n and p[j] == "-" and p[j + 1] != "]":
            hi, j = p[j + 1], j + 2
            if hi == "\\" and j < n:
                hi, j = p[j], j + 1
            if ord(hi) < ord(c):
                items.append("")          # an empty range matches nothing, as in fnmatch
            else:
                items.append(_char(c) + "-" + _char(hi))
        else:
            items.append(_char(c))
    return None


def _swap16(port: int) -> int:
    return ((port & 0xFF) << 8) | (port >> 8)


@dataclass(frozen=True)
class _Socket:
    """One ``sock=`` value: a port, an address, both, or a unix socket path."""
    address: str | None = None
    port: int | None = None
    path: str | None = None

    @classmethod
    def parse(cls, value: str) -> "_Socket":
        v = value.strip()
        if not v:
            raise SelectionError("-o sock=: give a port, an address, ADDRESS:PORT, "
                                 "[IPv6]:PORT or a unix socket path")
        if v.startswith("/"):
            return cls(path=v)
        if v.isdigit():
            return cls(port=_port(v))
        m = re.fullmatch(r"\[([^\]]+)\]:(\d+)", v) or re.fullmatch(r"([^:]+):(\d+)", v)
        if m:
            return cls(address=_address(m.group(1), v), port=_port(m.group(2)))
        return cls(address=_address(v, v))

    def expr(self) -> pl.Expr:
        if self.path is not None:
            return pl.col("socket_path") == self.path
        sides = []
        for side in ("local", "remote"):
            cond = pl.lit(True)
            if self.address is not None:
                cond = cond & (pl.col(f"{side}_address") == self.address)
            if self.port is not None:
                port = pl.col(f"{side}_port")
                # sockinet128 (inet6 without a socket_ex type): xnu stores the port byte-swapped
                swapped = ((pl.col("socket_family") == "inet6") & pl.col("socket_type").is_null()
                           & (port == _swap16(self.port)))
                cond = cond & ((port == self.port) | swapped)
            sides.append(cond)
        return sides[0] | sides[1]


def _port(text: str) -> int:
    port = int(text)
    if port > 0xFFFF:
        raise SelectionError(f"-o sock=: port {port} is out of range (0-65535)")
    return port


def _address(text: str, whole: str) -> str:
    from ..bsm.decode import format_ip4, format_ip6
    try:
        packed = ipaddress.ip_address(text).packed
    except ValueError:
        raise SelectionError(f"-o sock={whole}: not a port, address, ADDRESS:PORT or "
                             "unix socket path") from None
    return format_ip4(packed) if len(packed) == 4 else format_ip6(packed)


# --------------------------------------------------------------------------------------------
# the selection


def _resolve_tz(tz) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    from . import timewords
    try:
        return timewords.resolve_zone(tz)
    except timewords.TimeError as exc:
        raise SelectionError(str(exc)) from None


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
    sockets: tuple[_Socket, ...] | None = None         # -o sock=
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
        def need_tables():
            nonlocal tables
            if tables is None:
                from ..tables import Tables
                tables = Tables.from_files()
            return tables

        fields: dict = {"invert": bool(invert), "all": bool(all)}

        # -m
        numbers = set()
        for value in _many(event):
            number = _id32(value, "-m")
            if number is None:
                name = str(value).strip()
                number = need_tables().events.number(name)
                if number is None:
                    raise SelectionError(f"-m: unknown event name {name!r} "
                                         "(not in the audit_event table)")
            elif number > 0xFFFF:
                raise SelectionError(f"-m: event number {value} is out of range (0-65535)")
            numbers.add(number)
        if numbers:
            fields["events"] = frozenset(numbers)

        # -c
        if klass is not None and not isinstance(klass, str):
            klass = ",".join(klass) if klass else None
        if klass is not None:
            from ..errors import TableError
            try:
                fields["classes"] = tuple(need_tables().classes.parse_flags(klass))
            except TableError as exc:
                raise SelectionError(f"-c: {exc}") from None

        # -u -e -f -r -g
        users = []
        given = {"auid": auid, "euid": euid, "egid": egid, "ruid": ruid, "rgid": rgid}
        for key, (_s, _p, kind, flag) in _USER_OPTIONS.items():
            values = _many(given[key])
            if not values:
                continue
            ids = set()
            for value in values:
                number = _id32(value, flag)
                if number is None:
                    name = str(value).strip()
                    lookup = need_tables().users
                    number = lookup.uid(name) if kind == "user" else lookup.gid(name)
                    if number is None:
                        raise SelectionError(
                            f"{flag}: unknown {kind} name {name!r} (not in the evidence's "
                            f"{'passwd' if kind == 'user' else 'group'}/dslocal tables; "
                            "give them with --passwd/--group/--dslocal, or give a number)")
                ids.add(number)
            users.append((key, frozenset(ids)))
        fields["users"] = tuple(users)

        # -j
        pids = {_number(v, "-j", "a pid") for v in _many(pid)}
        if pids:
            fields["subject_pids"] = frozenset(pids)

        # -o
        file_res: list[tuple[str, bool]] = []
        process_pids: set[int] = set()
        ipc: dict[int, set[int]] = {}
        sockets: list[_Socket] = []
        for obj in _many(objects):
            kind, sep, value = str(obj).partition("=")
            kind = kind.strip()
            if not sep:
                raise SelectionError(f"-o {obj}: expected TYPE=VALUE with TYPE one of "
                                     + ", ".join(_OBJECT_TYPES))
            if kind == "file":
                for regex, negated in split_regexes(value):
                    _check_regex(regex, "-o file=")
                    file_res.append((regex, negated))
            elif kind == "pid":
                process_pids.add(_number(value, "-o pid=", "a pid"))
            elif kind in _IPC_TYPES:
                ipc.setdefault(_IPC_TYPES[kind], set()).add(
                    _number(value, f"-o {kind}=", "an IPC id"))
            elif kind == "sock":
                sockets.append(_Socket.parse(value))
            else:
                raise SelectionError(f"-o {obj}: unknown object type {kind!r} "
                                     "(use " + ", ".join(_OBJECT_TYPES) + ")")
        if file_res:
            fields["paths"] = tuple(file_res)
        if process_pids:
            fields["process_pids"] = frozenset(process_pids)
        fields["ipc"] = tuple(sorted((t, frozenset(ids)) for t, ids in ipc.items()))
        if sockets:
            fields["sockets"] = tuple(sockets)

        # -z
        if zone is not None:
            zone = _one(zone, "-z")
        if zone is not None:
            glob = str(zone)
            _check_regex(glob_regex(glob), "-z")
            fields["zone"] = glob

        # -a -b -d
        after, before, date = _one(after, "-a"), _one(before, "-b"), _one(date, "-d")
        if date is not None and (after is not None or before is not None):
            raise SelectionError("-d is exclusive with -a and -b")
        if after is not None or before is not None or date is not None:
            zone_info = _resolve_tz(tz)
            if date is not None:
                start = _stamp(date, zone_info, "-d", day=True)
                fields["after_ms"] = _ms(start)
                fields["before_ms"] = _ms(_next_midnight(start))
            if after is not None:
                fields["after_ms"] = _ms(_stamp(after, zone_info, "-a"))
            if before is not None:
                fields["before_ms"] = _ms(_stamp(before, zone_info, "-b")) + 1000
            if all:    # auditreduce: -A overrides -a, -b and -d
                fields.pop("after_ms", None)
                fields.pop("before_ms", None)
        return cls(**fields)

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
        out: list[pl.Expr] = []
        if self.after_ms is not None:
            out.append(pl.col("time") >= pl.lit(self.after_ms, pl.Int64).cast(_UTC_MS))
        if self.before_ms is not None:
            out.append(pl.col("time") < pl.lit(self.before_ms, pl.Int64).cast(_UTC_MS))
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
        mask = pl.col("event_class_mask")

        def hits(bits: int) -> pl.Expr:
            return (mask & pl.lit(bits, pl.UInt32)) != 0

        by_return = (pl.when(pl.col("success").is_null()).then(pl.lit(True))
                     .when(pl.col("success")).then(hits(success))
                     .otherwise(hits(failure)))
        return hits(success | failure) & by_return

    def _user_expr(self) -> pl.Expr:
        subject = pl.col("subject_token").is_not_null()
        process = pl.col("process_pid").is_not_null()
        s_match = p_match = pl.lit(True)
        for key, ids in self.users:
            s_col, p_col, _kind, _flag = _USER_OPTIONS[key]
            values = sorted(ids)
            s_match = s_match & pl.col(s_col).is_in(values).fill_null(False)
            p_match = p_match & pl.col(p_col).is_in(values).fill_null(False)
        return (subject | process) & (~subject | s_match) & (~process | p_match)

    def _path_expr(self) -> pl.Expr:
        decision = None
        for regex, negated in self.paths:
            hit = pl.element().str.contains(regex)
            decision = (pl.when(hit) if decision is None else decision.when(hit)).then(
                pl.lit(not negated))
        decision = decision.otherwise(pl.lit(False))
        paths = pl.col("paths")
        return (paths.list.len() > 0) & paths.list.eval(decision).list.all()


# --------------------------------------------------------------------------------------------
# click


def _merge_paths(f):
    """Fold ``--path RE`` into ``objects`` as ``file=RE`` before the command runs."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        extra = tuple("file=" + p.replace(",", "\\,") for p in kwargs.pop("path_regex", ()) or ())
        if extra or "objects" in kwargs:
            kwargs["objects"] = tuple(kwargs.get("objects", ()) or ()) + extra
        return f(*args, **kwargs)
    return wrapper


def click_options(f=None, *, object_short: bool = True):
    """Add auditreduce's options, the time window and the evidence's tables to a command.

    The keyword names match :func:`forensics.audit.load` (and so
    :meth:`Selection.from_options`): event, klass, auid, euid, egid, ruid, rgid, pid,
    objects, zone, after, before, date, invert, all, since, until, tz, audit_event,
    audit_class, passwd, group, dslocal. ``after``/``before``/``date`` arrive as tuples so
    that giving one twice is an error, as in auditreduce. ``object_short=False`` leaves out
    ``-o`` (only ``--object`` and ``--path`` remain) for commands that use ``-o`` otherwise.
    """
    if f is None:
        return functools.partial(click_options, object_short=object_short)

    def opt(*decls, **kw):
        kw.setdefault("show_default", False)
        return click.option(*decls, **kw)

    object_decls = ("-o", "--object") if object_short else ("--object",)
    options = [
        opt("-m", "--event", "event", multiple=True, metavar="EVENT",
            help="Event number or AUE_ name (repeatable, ORed)."),
        opt("-c", "--class", "klass", metavar="FLAGS",
            help="Audit classes, audit_control style: lo,+fr,-fw,^ex."),
        opt("-u", "--user", "auid", multiple=True, metavar="USER",
            help="Audit user (auid): number or name (repeatable, ORed)."),
        opt("-e", "--euid", "euid", multiple=True, metavar="USER", help="Effective user."),
        opt("-f", "--egid", "egid", multiple=True, metavar="GROUP", help="Effective group."),
        opt("-r", "--ruid", "ruid", multiple=True, metavar="USER", help="Real user."),
        opt("-g", "--rgid", "rgid", multiple=True, metavar="GROUP", help="Real group."),
        opt("-j", "--pid", "pid", multiple=True, metavar="PID", help="Subject pid."),
        opt(*object_decls, "objects", multiple=True, metavar="TYPE=VALUE",
            help="Object: file=RE[,~RE...], pid=N, msgqid=N, semid=N, shmid=N, "
                 "sock=PORT|ADDR|ADDR:PORT|/path (repeatable, ANDed across types)."),
        opt("--path", "path_regex", multiple=True, metavar="RE",
            help="Same as --object file=RE (a comma in RE is literal)."),
        opt("-z", "--zone", "zone", metavar="GLOB", help="Zone name (fnmatch glob)."),
        opt("-a", "--after", "after", multiple=True, metavar="YYYYMMDD[HH[MM[SS]]]",
            help="Records at or after this second (in --tz)."),
        opt("-b", "--before", "before", multiple=True, metavar="YYYYMMDD[HH[MM[SS]]]",
            help="Records at or before this second (in --tz)."),
        opt("-d", "--date", "date", multiple=True, metavar="YYYYMMDD",
            help="Records of this day (in --tz); exclusive with -a/-b."),
        opt("-v", "--invert", "invert", is_flag=True, help="Select the records that do NOT match."),
        opt("-A", "--all", "all", is_flag=True,
            help="All records (overrides -a/-b/-d, as in auditreduce)."),
        opt("--since", "since", metavar="WHEN",
            help="Window start: ISO time, epoch, 'yesterday', '2 hours ago', ..."),
        opt("--until", "until", metavar="WHEN", help="Window end (exclusive)."),
        opt("--tz", "tz", metavar="ZONE",
            help="Zone for dates without one (default: the local zone)."),
        opt("--audit-event", "audit_event", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/security/audit_event."),
        opt("--audit-class", "audit_class", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/security/audit_class."),
        opt("--passwd", "passwd", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/passwd (or master.passwd)."),
        opt("--group", "group", type=click.Path(exists=True, dir_okay=False),
            help="The evidence's /etc/group."),
        opt("--dslocal", "dslocal", type=click.Path(exists=True, file_okay=False),
            help="The evidence's /var/db/dslocal/nodes/Default folder."),
    ]
    f = _merge_paths(f)
    for option in reversed(options):
        f = option(f)
    return f


def selection_kwargs(options: dict) -> dict:
    """The keywords of :meth:`Selection.from_options` found in a dict of click values."""
    names = ("event", "klass", "auid", "euid", "egid", "ruid", "rgid", "pid", "objects",
             "zone", "after", "before", "date", "invert", "all")
    return {k: options[k] for k in names if k in options}
