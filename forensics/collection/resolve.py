"""auditreduce's option values resolved into :class:`~.selection.Selection` fields.

Numbers are compared as auditreduce compares them (32 bits, -1 is 4294967295); event, class,
user and group names resolve through the evidence's tables; ``-a/-b/-d`` dates are read in the
analyst's zone and become the one time window of :mod:`forensics.window` (half-open, integer
milliseconds). A value auditreduce would silently ignore is a one-line :class:`SelectionError`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from ..errors import SelectionError, TableError
from ..ids import UNSET
from ..window import to_ms
from .patterns import Socket, check_regex, glob_regex, split_regexes

__all__ = ["resolve_options", "USER_OPTIONS"]

_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(\d{2})?)?)?")
_DAY = re.compile(r"(\d{4})(\d{2})(\d{2})")
_INT = re.compile(r"[+-]?[0-9]+")
_IPC_TYPES = {"msgqid": 1, "semid": 2, "shmid": 3}
_OBJECT_TYPES = ("file", "pid", "msgqid", "semid", "shmid", "sock")
#: user options: from_options keyword -> (subject column, process column, kind of name, flag)
USER_OPTIONS = {
    "auid": ("auid", "process_auid", "user", "-u"),
    "euid": ("euid", "process_euid", "user", "-e"),
    "egid": ("egid", "process_egid", "group", "-f"),
    "ruid": ("ruid", "process_ruid", "user", "-r"),
    "rgid": ("rgid", "process_rgid", "group", "-g"),
}


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
    if not -(1 << 31) <= number <= UNSET:
        raise SelectionError(f"{flag}: {value} is out of range for a 32-bit id")
    return number & UNSET


def _number(value, flag: str, what: str, maximum: int = UNSET) -> int:
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


def _next_midnight(t: datetime) -> datetime:
    """Midnight of the following day in t's zone (days of 23 or 25 hours stay correct)."""
    following = (t.replace(tzinfo=None) + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    return following.replace(tzinfo=t.tzinfo)


def _resolve_tz(tz) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    from . import timewords

    try:
        return timewords.resolve_zone(tz)
    except timewords.TimeError as exc:
        raise SelectionError(str(exc)) from None




class _Tables:
    """The evidence's tables, loaded (bundled ones) only when a name needs them."""

    def __init__(self, tables) -> None:
        self._tables = tables

    def __call__(self):
        if self._tables is None:
            from ..tables import Tables
            self._tables = Tables.from_files()
        return self._tables


def resolve_options(*, tables=None, tz=None, event=(), klass=None, auid=(), euid=(), egid=(),
                    ruid=(), rgid=(), pid=(), objects=(), zone=None, after=None, before=None,
                    date=None, invert=False, all=False) -> dict:
    """The fields of a :class:`~.selection.Selection` (see its ``from_options``)."""
    need_tables = _Tables(tables)
    fields: dict = {"invert": bool(invert), "all": bool(all)}
    fields.update(_events(event, need_tables))
    fields.update(_classes(klass, need_tables))
    given = {"auid": auid, "euid": euid, "egid": egid, "ruid": ruid, "rgid": rgid}
    fields["users"] = _users(given, need_tables)
    pids = {_number(v, "-j", "a pid") for v in _many(pid)}
    if pids:
        fields["subject_pids"] = frozenset(pids)
    fields.update(_objects(objects))
    if zone is not None:
        zone = _one(zone, "-z")
    if zone is not None:
        glob = str(zone)
        check_regex(glob_regex(glob), "-z")
        fields["zone"] = glob
    fields.update(_times(after, before, date, tz, all))
    return fields


def _events(event, need_tables) -> dict:
    """-m: event numbers or names."""
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
    return {"events": frozenset(numbers)} if numbers else {}


def _classes(klass, need_tables) -> dict:
    """-c: audit_control-style class flags."""
    if klass is not None and not isinstance(klass, str):
        klass = ",".join(klass) if klass else None
    if klass is None:
        return {}
    try:
        return {"classes": tuple(need_tables().classes.parse_flags(klass))}
    except TableError as exc:
        raise SelectionError(f"-c: {exc}") from None


def _users(given: dict, need_tables) -> tuple:
    """-u -e -f -r -g: ids or names, per option."""
    users = []
    for key, (_s, _p, kind, flag) in USER_OPTIONS.items():
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
    return tuple(users)


def _objects(objects) -> dict:
    """-o TYPE=VALUE: file regexes, process pids, IPC ids, sockets."""
    file_res: list[tuple[str, bool]] = []
    process_pids: set[int] = set()
    ipc: dict[int, set[int]] = {}
    sockets: list[Socket] = []
    for obj in _many(objects):
        kind, sep, value = str(obj).partition("=")
        kind = kind.strip()
        if not sep:
            raise SelectionError(f"-o {obj}: expected TYPE=VALUE with TYPE one of "
                                 + ", ".join(_OBJECT_TYPES))
        if kind == "file":
            for regex, negated in split_regexes(value):
                check_regex(regex, "-o file=")
                file_res.append((regex, negated))
        elif kind == "pid":
            process_pids.add(_number(value, "-o pid=", "a pid"))
        elif kind in _IPC_TYPES:
            ipc.setdefault(_IPC_TYPES[kind], set()).add(
                _number(value, f"-o {kind}=", "an IPC id"))
        elif kind == "sock":
            sockets.append(Socket.parse(value))
        else:
            raise SelectionError(f"-o {obj}: unknown object type {kind!r} "
                                 "(use " + ", ".join(_OBJECT_TYPES) + ")")
    fields: dict = {"ipc": tuple(sorted((t, frozenset(ids)) for t, ids in ipc.items()))}
    if file_res:
        fields["paths"] = tuple(file_res)
    if process_pids:
        fields["process_pids"] = frozenset(process_pids)
    if sockets:
        fields["sockets"] = tuple(sockets)
    return fields


def _times(after, before, date, tz, all) -> dict:
    """-a -b -d as a half-open integer-ms window (``-b`` includes its whole second)."""
    after, before, date = _one(after, "-a"), _one(before, "-b"), _one(date, "-d")
    if date is not None and (after is not None or before is not None):
        raise SelectionError("-d is exclusive with -a and -b")
    if after is None and before is None and date is None:
        return {}
    fields: dict = {}
    zone_info = _resolve_tz(tz)
    if date is not None:
        start = _stamp(date, zone_info, "-d", day=True)
        fields["after_ms"] = to_ms(start)
        fields["before_ms"] = to_ms(_next_midnight(start))
    if after is not None:
        fields["after_ms"] = to_ms(_stamp(after, zone_info, "-a"))
    if before is not None:
        fields["before_ms"] = to_ms(_stamp(before, zone_info, "-b")) + 1000
    if all:    # auditreduce: -A overrides -a, -b and -d
        return {}
    return fields
