"""Lookup tables: audit events, audit classes, user and group names, BSM errno texts.

The bundled tables (``forensics/data/*.tsv``) describe a stock macOS system. An evidence
machine's own files replace them: ``EventTable.from_file`` / ``ClassTable.from_file`` read
``/etc/security/audit_event`` and ``audit_class`` exactly as libbsm does, and ``Users`` reads
its passwd/group files or a collected dslocal folder. The analyst's own user database is
never consulted.

libbsm rules reproduced here (see docs/bsm-format.md §8):

* a file is read with ``fgets`` into a 256-byte buffer: a line longer than 255 bytes is seen
  as several lines, and a NUL byte ends the line early;
* fields are split like ``strtok(":")``, so empty fields collapse;
* an event line needs a number and a name (name < 30 bytes, description < 50); the number is
  ``atoi`` stored in 16 bits; its classes go through ``getauditflagsbin`` and an unknown class
  name anywhere in the list makes the whole mask 0;
* a class line needs mask, name and description (name < 8, description < 72), the mask is
  ``strtoul(..., 0)`` (hex and octal work) stored in 32 bits;
* lookups by event number or name (praudit) scan every line, comment lines included, skip
  lines that do not parse and take the FIRST match;
* the event -> class cache of ``auditreduce -c`` enumerates lines (skipping ``#`` lines) until
  the first line that does not parse, and the LAST entry for a number wins (insert-at-head
  list); class lookups by name enumerate the same way and take the first match.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from functools import cached_property
import re
from typing import TYPE_CHECKING, NamedTuple

from .errors import TableError
from .text import decode_bytes

if TYPE_CHECKING:
    import polars as pl

__all__ = ["TableError", "EventTable", "ClassTable", "Users", "Tables", "bsm_errno"]

#: the bundled tables' folder (``DATA_DIR``, a Path, is made on first use: pathlib is not
#: imported by the commands that only read the bundled tables)
_DATA = os.path.join(os.path.dirname(os.path.realpath(__file__)), "data")


def __getattr__(name: str):
    if name == "DATA_DIR":
        from pathlib import Path

        return Path(_DATA)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# libbsm limits (bsm/libbsm.h).
_LINE_MAX = 256
_EVENT_NAME_MAX = 30
_EVENT_DESC_MAX = 50
_CLASS_NAME_MAX = 8
_CLASS_DESC_MAX = 72

_C_SPACE = rb"[ \t\n\v\f\r]*"
_ATOI = re.compile(_C_SPACE + rb"([+-]?[0-9]+)")
_STRTOUL = re.compile(_C_SPACE + rb"([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))?")
_ULONG_MAX = (1 << 64) - 1




#: The largest table file read (a real passwd, audit_event or dslocal plist is kilobytes).
MAX_TABLE_BYTES = 16 << 20


def _read_bytes(path, what: str) -> bytes:
    """A table file's bytes: a regular file of at most MAX_TABLE_BYTES, else one TableError.

    A FIFO, a device (/dev/zero) or a socket is refused before any read, so nothing blocks or
    grows without end; opening never waits for a FIFO's writer (O_NONBLOCK).
    """
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise TableError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise TableError(f"cannot read {what} file {path}: not a regular file")
        if st.st_size > MAX_TABLE_BYTES:
            raise TableError(f"cannot read {what} file {path}: larger than "
                             f"{MAX_TABLE_BYTES >> 20} MiB, not a table")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_TABLE_BYTES + 1)
    except OSError as exc:
        raise TableError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_TABLE_BYTES:
        raise TableError(f"cannot read {what} file {path}: larger than "
                         f"{MAX_TABLE_BYTES >> 20} MiB, not a table")
    return data


def _fgets_lines(data: bytes):
    """Yield each line as libbsm's ``fgets(buf, 256)`` loop sees it (newline removed)."""
    pos, end = 0, len(data)
    while pos < end:
        nl = data.find(b"\n", pos, pos + _LINE_MAX - 1)
        if nl == -1:
            line = data[pos:pos + _LINE_MAX - 1]
            pos += len(line)
        else:
            line = data[pos:nl]
            pos = nl + 1
        nul = line.find(b"\0")
        yield line if nul == -1 else line[:nul]


def _strtok(data: bytes, delim: bytes) -> list[bytes]:
    return [part for part in data.split(delim) if part]


def _atoi(data: bytes) -> int:
    m = _ATOI.match(data)
    if not m:
        return 0
    value = int(m.group(1))  # strtol clamps to a long, the cast to int keeps the low bits
    return max(min(value, (1 << 63) - 1), -(1 << 63))


def _strtoul0(data: bytes) -> int:
    m = _STRTOUL.match(data)
    sign, hexd, octd, decd = m.groups()
    if hexd is not None:
        value = int(hexd, 16)
    elif octd is not None:
        value = int(octd, 8)
    elif decd is not None:
        value = int(decd)
    else:
        return 0
    if value > _ULONG_MAX:
        return _ULONG_MAX
    return (-value) & _ULONG_MAX if sign == b"-" else value


def _text(data: bytes) -> str:
    return decode_bytes(data)


# --------------------------------------------------------------------------- classes


class AuditClass(NamedTuple):
    mask: int
    name: str
    description: str


class ClassTable:
    """audit_class: class short names and their mask bits."""

    def __init__(self, classes: list[AuditClass]):
        self.classes = list(classes)  # in enumeration order
        self._by_name: dict[str, int] = {}
        for c in self.classes:
            self._by_name.setdefault(c.name, c.mask)

    @classmethod
    def bundled(cls) -> "ClassTable":
        return _bundled_classes()

    @classmethod
    def from_file(cls, path) -> "ClassTable":
        classes = []
        for line in _fgets_lines(_read_bytes(path, "audit_class")):
            if line.startswith(b"#"):
                continue
            fields = _strtok(line, b":")
            if (len(fields) < 3 or len(fields[1]) >= _CLASS_NAME_MAX
                    or len(fields[2]) >= _CLASS_DESC_MAX):
                break  # getauclassent() ends the enumeration at the first bad line
            mask = _strtoul0(fields[0]) & 0xFFFFFFFF
            classes.append(AuditClass(mask, _text(fields[1]), _text(fields[2])))
        if not classes:
            raise TableError(f"no audit classes in {path}")
        return cls(classes)

    def mask(self, name: str) -> int | None:
        return self._by_name.get(name)

    def names(self, mask: int) -> list[str]:
        """Names of the classes whose bits are all in ``mask``: one-bit classes in bit
        order, then any multi-bit class (such as ``all``) that the mask covers."""
        hits = sorted(
            (c for c in self.classes if c.mask and c.mask & mask == c.mask),
            key=lambda c: (c.mask & (c.mask - 1) != 0, c.mask),
        )
        return list(dict.fromkeys(c.name for c in hits))

    def _flags(self, spec: str) -> tuple[int, int, str | None]:
        """getauditflagsbin(): returns (success, failure, first unknown name or None)."""
        success = failure = 0
        for token in filter(None, spec.split(",")):
            remove = token.startswith("^")
            if remove:
                token = token[1:]
            to_success = to_failure = True
            if token.startswith("+"):
                token, to_failure = token[1:], False
            elif token.startswith("-"):
                token, to_success = token[1:], False
            bits = self._by_name.get(token)
            if bits is None:
                return 0, 0, token
            if remove:
                success = success & ~bits if to_success else success
                failure = failure & ~bits if to_failure else failure
            else:
                success = success | bits if to_success else success
                failure = failure | bits if to_failure else failure
        return success, failure, None

    def parse_flags(self, spec: str) -> tuple[int, int]:
        """audit_control-style flags (``lo,+fr,-fw,^ex``) -> (success mask, failure mask)."""
        success, failure, unknown = self._flags(spec)
        if unknown is not None:
            raise TableError(f"unknown audit class '{unknown}'")
        return success, failure

    def event_mask(self, spec: str) -> int:
        """The class mask of an audit_event class list: 0 if any class is unknown."""
        success, _failure, unknown = self._flags(spec)
        return 0 if unknown is not None else success


@functools.cache
def _bundled_classes() -> ClassTable:
    rows = _read_tsv(os.path.join(_DATA, "audit_class.tsv"), "mask")
    return ClassTable([AuditClass(int(m, 16), n, d) for m, n, d in rows])


def _read_tsv(path: str, first_column: str) -> list[list[str]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for line in text.splitlines():
        if not line or line.startswith("#") or line.startswith(first_column + "\t"):
            continue
        rows.append(line.split("\t"))
    return rows


# --------------------------------------------------------------------------- events


class AuditEvent(NamedTuple):
    number: int
    name: str
    description: str
    class_mask: int


class EventTable:
    """audit_event: event number -> AUE_ name, description and class mask."""

    def __init__(self, lookup: list[AuditEvent], enumerated: list[AuditEvent] | None = None,
                 classes: ClassTable | None = None):
        """``lookup``: every line that parses, in file order (number/name lookups);
        ``enumerated``: the lines auditreduce's class cache holds (default: ``lookup``)."""
        self.classes = classes if classes is not None else ClassTable.bundled()
        self._first: dict[int, AuditEvent] = {}
        self._by_name: dict[str, int] = {}
        for event in lookup:
            self._first.setdefault(event.number, event)
            self._by_name.setdefault(event.name, event.number)
        self._mask = {e.number: e.class_mask for e in (lookup if enumerated is None else enumerated)}

    @classmethod
    def bundled(cls) -> "EventTable":
        return _bundled_events()

    @classmethod
    def from_file(cls, path, classes: ClassTable | None = None) -> "EventTable":
        """Read an audit_event file; class names resolve through ``classes`` (default: bundled)."""
        classes = classes if classes is not None else ClassTable.bundled()
        lookup, enumerated, enumerating = [], [], True
        for line in _fgets_lines(_read_bytes(path, "audit_event")):
            event = _parse_event_line(line, classes)
            if line.startswith(b"#"):
                if event is not None:  # getauevnum() does not skip comments; getauevent() does
                    lookup.append(event)
                continue
            if event is None:
                enumerating = False
                continue
            lookup.append(event)
            if enumerating:
                enumerated.append(event)
        if not lookup:
            raise TableError(f"no audit events in {path}")
        return cls(lookup, enumerated, classes)

    def name(self, number: int) -> str | None:
        event = self._first.get(number)
        return None if event is None else event.name

    def description(self, number: int) -> str | None:
        event = self._first.get(number)
        return None if event is None else event.description

    def class_mask(self, number: int) -> int:
        return self._mask.get(number, 0)

    def number(self, name: str) -> int | None:
        return self._by_name.get(name)

    def frame(self, classes: ClassTable | None = None) -> pl.DataFrame:
        """One row per distinct event number, for joining onto the records frame."""
        import polars as pl        # here, not at the top: praudit reads tables without Polars

        classes = classes if classes is not None else self.classes
        numbers = sorted(self._first)
        masks = [self.class_mask(n) for n in numbers]
        return pl.DataFrame(
            {
                "event": numbers,
                "event_name": [self._first[n].name for n in numbers],
                "event_description": [self._first[n].description for n in numbers],
                "event_class_mask": masks,
                "event_classes": [classes.names(m) for m in masks],
            },
            schema={
                "event": pl.UInt16,
                "event_name": pl.String,
                "event_description": pl.String,
                "event_class_mask": pl.UInt32,
                "event_classes": pl.List(pl.String),
            },
        )


def _parse_event_line(line: bytes, classes: ClassTable) -> AuditEvent | None:
    fields = _strtok(line, b":")
    if len(fields) < 2 or len(fields[1]) >= _EVENT_NAME_MAX:
        return None
    description = fields[2] if len(fields) > 2 else b""
    if len(description) >= _EVENT_DESC_MAX:
        return None
    mask = classes.event_mask(_text(fields[3])) if len(fields) > 3 else 0
    return AuditEvent(_atoi(fields[0]) & 0xFFFF, _text(fields[1]), _text(description), mask)


@functools.cache
def _bundled_events() -> EventTable:
    classes = ClassTable.bundled()
    events = [
        AuditEvent(int(num), name, desc, classes.event_mask(cls))
        for num, name, desc, cls in _read_tsv(os.path.join(_DATA, "audit_event.tsv"), "number")
    ]
    return EventTable(events, events, classes)


# --------------------------------------------------------------------------- users


def _id32(text: str) -> int | None:
    """A uid/gid field: decimal, negative values wrap (macOS lists nobody as -2)."""
    text = text.strip()
    if not re.fullmatch(r"-?[0-9]+", text):
        return None
    value = int(text)
    if not -(1 << 31) <= value <= 0xFFFFFFFF:
        return None
    return value & 0xFFFFFFFF


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


class Users:
    """uid/gid <-> name, from the evidence's own files only."""

    def __init__(self):
        self._user_name: dict[int, str] = {}
        self._uid: dict[str, int] = {}
        self._group_name: dict[int, str] = {}
        self._gid: dict[str, int] = {}

    @classmethod
    def from_files(cls, passwd=None, group=None, dslocal=None) -> "Users":
        """dslocal (what macOS itself resolves through) is consulted before passwd/group."""
        users = cls()
        if dslocal is not None:
            from pathlib import Path

            users._load_dslocal(Path(dslocal))
        if passwd is not None:
            for name, number in _colon_file(passwd, "passwd"):
                users._add(users._user_name, users._uid, [name], number)
        if group is not None:
            for name, number in _colon_file(group, "group"):
                users._add(users._group_name, users._gid, [name], number)
        return users

    @staticmethod
    def _add(by_id: dict, by_name: dict, names: list[str], number: int | None) -> None:
        if number is None or not names:
            return
        by_id.setdefault(number, names[0])
        for name in names:
            by_name.setdefault(name, number)

    def _load_dslocal(self, folder: Path) -> None:
        if not folder.is_dir():
            raise TableError(f"cannot read dslocal folder {folder}: not a directory")
        users_dir, groups_dir = folder / "users", folder / "groups"
        if users_dir.is_dir() or groups_dir.is_dir():
            sources = [(users_dir, "user"), (groups_dir, "group")]
        else:  # a bare users/ or groups/ folder: tell records apart by their keys
            sources = [(folder, None)]
        for directory, kind in sources:
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.plist")):
                data = _read_bytes(path, "dslocal")  # a FIFO or device: one TableError
                try:
                    record = _plist(data)
                except Exception:  # AppleDouble "._x.plist", damaged copies: not records
                    continue
                if not isinstance(record, dict):
                    continue
                names = _strings(record.get("name"))
                is_user = kind == "user" or (kind is None and "uid" in record)
                key = "uid" if is_user else "gid"
                numbers = [n for n in map(_id32, _strings(record.get(key))) if n is not None]
                if not numbers:
                    continue
                if is_user:
                    self._add(self._user_name, self._uid, names, numbers[0])
                else:
                    self._add(self._group_name, self._gid, names, numbers[0])

    def user_name(self, uid: int) -> str | None:
        return self._user_name.get(uid)

    def group_name(self, gid: int) -> str | None:
        return self._group_name.get(gid)

    def uid(self, name: str) -> int | None:
        return self._uid.get(name)

    def gid(self, name: str) -> int | None:
        return self._gid.get(name)


def _colon_file(path, what: str):
    """(name, id) pairs of a passwd, master.passwd or group file; the id is field 3."""
    for line in _text(_read_bytes(path, what)).splitlines():
        if not line or line[0] in "#+-":
            continue
        fields = line.split(":")
        if len(fields) < 3 or not fields[0]:
            continue
        number = _id32(fields[2])
        if number is not None:
            yield fields[0], number


# --------------------------------------------------------------------------- errno


@functools.cache
def _errno_table() -> dict[int, tuple[str, str]]:
    return {int(num): (name, text)
            for num, name, text in _read_tsv(os.path.join(_DATA, "bsm_errno.tsv"), "number")}


def bsm_errno(number: int) -> tuple[str, str] | None:
    """BSM errno (a return token's status byte) -> (symbolic name, BSD/macOS message)."""
    return _errno_table().get(number)


@dataclass(frozen=True)
class Tables:
    """The evidence machine's tables (bundled macOS ones unless files are given)."""
    events: EventTable
    classes: ClassTable
    users: Users

    @classmethod
    def from_files(cls, audit_event=None, audit_class=None, passwd=None, group=None,
                   dslocal=None) -> "Tables":
        classes = ClassTable.from_file(audit_class) if audit_class else ClassTable.bundled()
        events = (EventTable.from_file(audit_event, classes=classes) if audit_event
                  else EventTable.bundled())
        return cls(events, classes, Users.from_files(passwd=passwd, group=group, dslocal=dslocal))

    @cached_property
    def event_frame(self) -> pl.DataFrame:
        return self.events.frame(self.classes)


def _plist(data: bytes):
    """A dslocal record (plistlib is imported only when a dslocal folder is read)."""
    import plistlib

    return plistlib.loads(data)
