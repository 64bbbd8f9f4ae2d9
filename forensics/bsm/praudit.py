"""``knox-report praudit``: OpenBSM praudit's output, byte for byte, without its data loss.

The renderer reproduces upstream praudit (OpenBSM 1.2-alpha6) for every mode it has: the
default one-token-per-line form, ``-l`` (one record per line, each token followed by the
delimiter), ``-n`` (numeric uids/gids), ``-r`` (everything numeric), ``-s`` (event short
names), ``-d DELIM`` and ``-x`` (XML), in any combination. Parsing is not done here: records
come from :func:`forensics.decode.frame` and tokens from :func:`forensics.decode.walk`, both
driven by the token table in :mod:`forensics.tokens`. Output is bytes: strings from the trail
are written as the bytes they are (praudit prints them with ``%s``).

Where praudit loses data, knox-report prints more, and says so on stderr (never in the record
stream on stdout):

* **Damage between records.** praudit stops reading a file at the first byte that is not a
  record or a file token. knox-report resyncs (``decode.frame``), prints every good record
  after the damage and writes one line per skipped span to stderr::

      knox-report: FILE: skipped N bytes at offset O: REASON

  A damaged span that is exactly one header-framed record whose only fault is its trailer
  (missing, or size below the minimum, e.g. a bare header token) is printed as far as its
  tokens parse, the way praudit prints it, and reported on stderr too.
* **Apple tokens.** upstream cannot parse 0xED/0xEE/0xEF and swallows the rest of the record
  as ``unknown``. knox-report prints them, and every token after them:

  - identity (0xED): ``identity,<signer type>,<signing id>,complete|truncated,<team id>,
    complete|truncated,0x<cdhash hex>`` (``-r`` prints 237 as the label; an empty cdhash prints
    as nothing, like praudit's other empty hex fields). XML: ``<identity signer-type=".."
    signing-id=".." signing-id-truncated="no|yes" team-id=".." team-id-truncated="no|yes"
    cdhash="0x.." />`` (the form Apple's praudit prints).
  - krb5_principal (0xEE) and cert_hash (0xEF) are a count and NUL-terminated strings like
    exec_args, and print the same way: the label (``krb5_principal`` / ``cert_hash``, Apple's
    AUT_ names; ``-r``: 238 / 239) followed by each string; XML ``<krb5_principal><principal>
    ..</principal></krb5_principal>`` and ``<cert_hash><hash>..</hash></cert_hash>``.
* **Unknown token ids** print as upstream does (``unknown,0x<hex of the bytes after the id up
  to the trailer>``; ``-r`` prints the id instead of ``unknown``), and the record's trailer
  follows. In XML (where upstream prints an empty line) they print as ``<unknown id="N"
  data="0x.." />``. A known token that does not fit its layout is shown the same way instead
  of cutting the record short. Both are reported on stderr.
  The stderr line is ``knox-report: FILE: record at offset R: unknown token id 0xNN at offset
  O; N bytes after it printed as unknown``.
* **newgroups** prints every gid (upstream clamps the count to 16); exec_args/exec_env print
  every string (upstream keeps 128). A data (arbitrary) token with an unknown how-to-print
  code prints the code's number and its items in hex (upstream prints nothing after
  ``arbitrary,``).
* **XML is well-formed.** Every string is escaped the way praudit already escapes exec_args:
  ``& < > " '`` become entities and other bytes go through ``vis(3)`` (C style, so a control
  byte 0x01 is ``\\^A``, byte 0xe9 is ``\\M-i``, a backslash is doubled); in attribute values tab
  and newline are escaped as ``\\t``/``\\n`` too, since XML parsers would fold them into spaces.
  header32_ex prints the ``<record ...>`` element like header64_ex (and ``-r`` prints it in the
  comma form); ``group`` holds all its ``gid`` elements; ``IPC``, ``privilege`` (privset),
  ``use_of_privilege`` (upriv), ``arg_uuid`` and ``ret_uuid`` get proper elements; a record
  whose trailer is missing is still closed with ``</record>``.
* **return** failure texts are the BSD/macOS wording (``tables.bsm_errno``), as praudit prints
  on macOS; an unmapped BSM errno prints ``failure: Unknown error: N`` like upstream.

Not changed: tid in XML is ``"<port> <addr>"`` for subject32 and ``"<port><addr>"`` for the
other subject/process forms, the socket_ex XML attribute order, ``port=""`` in socket-unix.

Times are ``ctime`` in local time (the ``tz`` argument, else the ``TZ`` environment variable);
a time that cannot be represented prints as its number of seconds.
"""

from __future__ import annotations

import io
import os
import re
import struct
import time
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Callable, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .decode import format_ip6, frame, walk
from ..tables import EventTable, Users, bsm_errno
from ..text import encode_text
from .tokens import HEADER_IDS, TOKENS, TokenError

__all__ = ["render", "Renderer", "Summary", "xml_escape"]


class Summary(NamedTuple):
    records: int
    file_tokens: int
    damaged_spans: int
    damaged_bytes: int


# ---------------------------------------------------------------------------------------------
# small formatting helpers (each mirrors one printf of libbsm's bsm_io.c)

def _signed32(v: int) -> int:
    return v - 0x100000000 if v & 0x80000000 else v


def _signed64(v: int) -> int:
    return v - 0x10000000000000000 if v & 0x8000000000000000 else v


def _hashx(v: int) -> bytes:
    """printf("%#x"): 0 prints as "0", everything else with a 0x prefix."""
    return b"%#x" % v if v else b"0"


def _mem(data: bytes) -> bytes:
    """print_mem(): "0x" and two hex digits per byte; nothing at all for no bytes."""
    return b"0x" + data.hex().encode() if data else b""


def _nonul(s: bytes) -> bytes:
    """print_string(): every byte of a length-prefixed string except NULs."""
    return s.replace(b"\0", b"") if b"\0" in s else s


def _ip4(raw: bytes) -> bytes:
    return b"%d.%d.%d.%d" % (raw[0], raw[1], raw[2], raw[3])


def _ip6(raw: bytes) -> bytes:
    """glibc inet_ntop(AF_INET6): decode.format_ip6, plus the IPv4-compatible ::a.b.c.d form."""
    words = struct.unpack(">8H", raw)
    if words[:6] == (0, 0, 0, 0, 0, 0) and words[6] != 0:
        return b"::" + _ip4(raw[12:])
    return format_ip6(raw).encode("ascii")


def _ip_ex(atype: int, raw: bytes) -> bytes:
    if atype == 4:
        return _ip4(raw)
    if atype == 16:
        return _ip6(raw)
    return b"invalid"


def _uuid(raw: bytes) -> bytes:
    h = raw.hex().encode()
    return b"-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


# --------------------------------------------------------------------------------------------
# XML escaping: entities for & < > " ', then vis(3) with VIS_CSTYLE for everything else

def _vis_byte(c: int, nextc: int, attr: bool) -> bytes:
    if 0x21 <= c <= 0x7E or c == 0x20 or (not attr and c in (0x09, 0x0A)):
        return b"\\\\" if c == 0x5C else bytes((c,))
    cstyle = {0x0A: b"\\n", 0x0D: b"\\r", 0x08: b"\\b", 0x07: b"\\a", 0x0B: b"\\v",
              0x09: b"\\t", 0x0C: b"\\f"}
    if c in cstyle:
        return cstyle[c]
    if c == 0:
        return b"\\000" if 0x30 <= nextc <= 0x37 else b"\\0"
    if (c & 0x7F) == 0x20:
        return b"\\%03o" % c
    out = b"\\"
    if c & 0x80:
        c &= 0x7F
        out += b"M"
    if c < 0x20 or c == 0x7F:
        return out + b"^" + (b"?" if c == 0x7F else bytes((c + 0x40,)))
    return out + b"-" + bytes((c,))


_ENTITIES = {0x26: b"&amp;", 0x3C: b"&lt;", 0x3E: b"&gt;", 0x22: b"&quot;", 0x27: b"&apos;"}


def _entity(b: bytes) -> bytes:
    for ch, ent in ((b"&", b"&amp;"), (b"<", b"&lt;"), (b">", b"&gt;"), (b'"', b"&quot;"),
                    (b"'", b"&apos;")):
        b = b.replace(ch, ent)
    return b


def _build_table(attr: bool) -> list[bytes]:
    return [_ENTITIES.get(c) or _entity(_vis_byte(c, 0, attr)) for c in range(256)]


_XML_CONTENT = _build_table(False)
_XML_ATTR = _build_table(True)
_XML_UNSAFE = re.compile(rb"[^\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\x5b\x5d-\x7e]")


def xml_escape(s: bytes, attr: bool = False) -> bytes:
    """Escape trail bytes for praudit's XML (see the module docstring)."""
    if _XML_UNSAFE.search(s) is None:
        return s
    table = _XML_ATTR if attr else _XML_CONTENT

    def one(m: re.Match) -> bytes:
        c = s[m.start()]
        if c == 0 and m.end() < len(s) and 0x30 <= s[m.end()] <= 0x37:
            return b"\\000"
        return table[c]

    return _XML_UNSAFE.sub(one, s)


def _xstr(s: bytes, attr: bool = True) -> bytes:
    """A length-prefixed string for XML: its one terminating NUL dropped, the rest escaped."""
    if s[-1:] == b"\0":
        s = s[:-1]
    return xml_escape(s, attr)


def _attrs(tag: bytes, pairs) -> bytes:
    """``<tag a="v" b="w" />``, upstream's open_attr/close_attr/close_tag shape."""
    return b"<" + tag + b" " + b"".join(k + b'="' + v + b'" ' for k, v in pairs) + b"/>"


# --------------------------------------------------------------------------------------------
# times

_WDAY = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MON = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct",
        b"Nov", b"Dec")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class _Clock:
    """ctime(3) without its newline, in the given zone (None: the process's TZ)."""

    def __init__(self, tz):
        if isinstance(tz, str):
            tz = ZoneInfo(tz)
        elif tz is None and os.environ.get("TZ"):
            try:                                  # a zone name such as TZ=UTC or Europe/Paris
                tz = ZoneInfo(os.environ["TZ"].lstrip(":"))
            except (ValueError, OSError, ZoneInfoNotFoundError):
                if hasattr(time, "tzset"):        # a POSIX TZ string: let the C library read it
                    time.tzset()
        self.tz: tzinfo | None = tz
        self._cache: dict[int, bytes] = {}

    def ctime(self, sec: int) -> bytes:
        s = self._cache.get(sec)
        if s is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            s = self._cache[sec] = self._format(sec)
        return s

    def _format(self, sec: int) -> bytes:
        try:
            if self.tz is None:
                t = time.localtime(sec)
                fields = (t.tm_wday, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_year)
            else:
                d = (_EPOCH + timedelta(seconds=sec)).astimezone(self.tz)
                fields = (d.weekday(), d.month, d.day, d.hour, d.minute, d.second, d.year)
        except (OverflowError, OSError, ValueError):
            return b"%d" % sec
        wday, mon, mday, hour, minute, second, year = fields
        text = b"%s %s%3d %02d:%02d:%02d %d" % (_WDAY[wday], _MON[mon - 1], mday, hour, minute,
                                                 second, year)
        return text[:24]          # praudit cuts ctime's buffer at 24 characters


# --------------------------------------------------------------------------------------------
# the renderer

_LABELS = {tid: spec.label.encode() for tid, spec in TOKENS.items() if spec.label}
_LABELS.update({0xED: b"identity", 0xEE: b"krb5_principal", 0xEF: b"cert_hash"})
_XML_IDTAG = {0x24: b"subject", 0x75: b"subject", 0x7A: b"subject", 0x7C: b"subject",
              0x26: b"process", 0x77: b"process", 0x7B: b"process", 0x7D: b"process"}
_IPC_TYPES = {1: b"Message IPC", 2: b"Semaphore IPC", 3: b"Shared Memory IPC"}
_DATA_HOW = {0: (b"binary", "c"), 1: (b"octal", "o"), 2: (b"decimal", "d"), 3: (b"hex", "x"),
             4: (b"string", "s")}
_DATA_UNIT = {0: (b"byte", 1), 1: (b"short", 2), 2: (b"int", 4), 3: (b"int64", 8)}


class Renderer:
    """Streams praudit output for one or more trails to ``out``.

    Call :meth:`begin`, then :meth:`trail` once per input, then :meth:`end` (the XML wrapper
    is written once around all inputs, as praudit does).
    """

    def __init__(self, out, *, oneline: bool = False, numeric: bool = False, raw: bool = False,
                 short: bool = False, xml: bool = False, delim: bytes | str = b",",
                 events: EventTable | None = None, users: Users | None = None, tz=None,
                 warn: Callable[[str], None] | None = None):
        if raw and short:
            raise ValueError("raw and short are mutually exclusive (praudit -r / -s)")
        self._write = _binary_writer(out)
        self.oneline, self.raw, self.short, self.xml = oneline, raw, short, xml
        self.resolve = not (numeric or raw)
        self.delim = os.fsencode(delim) if isinstance(delim, str) else bytes(delim)
        self.events = events if events is not None else EventTable.bundled()
        self.users = users
        self.clock = _Clock(tz)
        self.warn = warn
        self._ucache: dict[int, bytes] = {}
        self._gcache: dict[int, bytes] = {}
        self._ecache: dict[int, bytes] = {}
        self._rcache: dict[int, bytes] = {}
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._label = self._labels()

    # -- output -------------------------------------------------------------------------------

    def _emit(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._write(b"".join(self._pending))
            self._pending.clear()
            self._pending_size = 0

    def begin(self) -> None:
        if self.xml:
            self._emit(b"<?xml version='1.0' ?>\n<audit>\n")

    def end(self) -> None:
        if self.xml:
            self._emit(b"</audit>\n")
        self.flush()

    # -- values -------------------------------------------------------------------------------

    def user(self, uid: int) -> bytes:
        return self._id_name(self._ucache, self.users.user_name if self.users else None, uid)

    def group(self, gid: int) -> bytes:
        return self._id_name(self._gcache, self.users.group_name if self.users else None, gid)

    def _id_name(self, cache: dict, lookup, value: int) -> bytes:
        """A uid or gid as praudit prints it: the evidence's name (unless -n), else the number."""
        s = cache.get(value)
        if s is None:
            name = lookup(value) if (self.resolve and lookup) else None
            s = name.encode("utf-8", "surrogateescape") if name is not None else \
                b"%d" % _signed32(value)
            if self.xml:
                s = xml_escape(s, True)
            cache[value] = s
        return s

    def event(self, ev: int) -> bytes:
        s = self._ecache.get(ev)
        if s is None:
            text = None
            if not self.raw:
                text = self.events.name(ev) if self.short else self.events.description(ev)
            s = b"%u" % ev if text is None else encode_text(text)
            if self.xml:
                s = xml_escape(s, True)
            self._ecache[ev] = s
        return s

    def sec(self, sec: int, bits64: bool = False) -> bytes:
        if self.raw:
            return b"%u" % (sec & 0xFFFFFFFF)
        return self.clock.ctime(_signed64(sec) if bits64 else sec)

    def msec(self, ms: int) -> bytes:
        ms &= 0xFFFFFFFF
        return b"%u" % ms if self.raw else b" + %u msec" % ms

    def retval(self, status: int) -> bytes:
        if self.raw:
            return b"%u" % status
        s = self._rcache.get(status)
        if s is None:
            if status == 0:
                s = b"success"
            else:
                known = bsm_errno(status)
                s = (b"failure: Unknown error: %d" % status if known is None
                     else b"failure : " + known[1].encode("utf-8", "surrogateescape"))
            if self.xml:
                s = xml_escape(s, True)
            self._rcache[status] = s
        return s

    def label(self, tid: int) -> bytes:
        return b"%u" % tid if self.raw else _LABELS.get(tid, b"unknown")

    def _labels(self) -> dict[int, bytes]:
        return {tid: self.label(tid) for tid in TOKENS}

    # -- records ------------------------------------------------------------------------------

    def trail(self, buf, source: str = "<stdin>") -> Summary:
        """Render every record and file token of one trail held in ``buf``."""
        records = files = spans = damaged = 0
        end_nl = b"\n"
        for item in frame(buf):
            if item.kind == "record":
                records += 1
                if item.reason:
                    damaged += item.length
                    self._say(source, f"record at offset {item.offset}: {item.reason} (its header "
                                      f"size is wrong; framed by its trailer: {item.length} bytes)")
                self._record(buf, item.offset, item.offset + item.length, source, True)
            elif item.kind == "file":
                files += 1
                tid, values, _ = _parse(buf, item.offset, item.offset + item.length)
                self._emit(self._token(tid, values) + self._sep())
                if self.oneline:
                    self._emit(end_nl)
            else:
                spans += 1
                damaged += item.length
                if self._lenient(buf, item, source):
                    records += 1
                else:
                    self._say(source, f"skipped {item.length} bytes at offset {item.offset}: "
                                      f"{item.reason}")
        self.flush()
        return Summary(records, files, spans, damaged)

    def _lenient(self, buf, item, source: str) -> bool:
        """A damaged span that is exactly one record by its header's size, lacking only a valid
        trailer: print it as praudit would (it never checks trailers)."""
        p, n = item.offset, item.offset + item.length
        if buf[p] not in HEADER_IDS or n - p < 5 or struct.unpack_from(">I", buf, p + 1)[0] != n - p:
            return False
        try:
            _parse(buf, p, n)
        except TokenError:
            return False
        self._say(source, f"record at offset {p} ({n - p} bytes) has no valid trailer "
                          f"({item.reason}); printed as far as its tokens parse")
        self._record(buf, p, n, source, False)
        return True

    def _sep(self) -> bytes:
        if self.oneline:
            return b"" if self.xml else self.delim
        return b"\n"

    def _record(self, buf, p: int, n: int, source: str, framed: bool) -> None:
        """One record: header, tokens, trailer. ``framed``: the last 7 bytes are a trailer."""
        end = n - 7 if framed else n
        try:
            tid, values, body = _parse(buf, p, end)
        except TokenError:
            self._say(source, f"skipped {n - p} bytes at offset {p}: bad record header")
            return
        sep = self._sep()
        parts = [self._token(tid, values), sep]
        tokens, damage = walk(buf, body, end)
        closed = False
        for tok in tokens:
            parts.append(self._token(tok.id, tok.values))
            parts.append(sep)
            closed = tok.id == 0x13
        if damage is not None:
            off, reason = damage
            bad = buf[off]
            what = f"unknown token id 0x{bad:02x}" if reason == "unknown token" else \
                f"token 0x{bad:02x} does not fit its layout"
            self._say(source, f"record at offset {p}: {what} at offset {off}; "
                              f"{end - off - 1} bytes after it printed as unknown")
            parts.append(self._unknown(bad, bytes(buf[off + 1:end])))
            parts.append(sep)
            closed = False
        if framed:
            ttid, tvalues, _ = _parse(buf, end, n)
            parts.append(self._token(ttid, tvalues))
            parts.append(sep)
        elif self.xml and not closed:
            parts.append(b"</record>")
            parts.append(sep)
        if self.oneline:
            parts.append(b"\n")
        self._emit(b"".join(parts))

    def _say(self, source: str, message: str) -> None:
        if self.warn is not None:
            self.warn(f"knox-report: {source}: {message}")

    # -- tokens -------------------------------------------------------------------------------

    def _unknown(self, tid: int, data: bytes) -> bytes:
        if self.xml:
            return _attrs(b"unknown", ((b"id", b"%u" % tid), (b"data", _mem(data))))
        return (b"%u" % tid if self.raw else b"unknown") + self.delim + _mem(data)

    def _token(self, tid: int, v: tuple) -> bytes:
        if self.xml:
            return _XML[tid](self, tid, v)
        fields = _TEXT[tid](self, tid, v)
        return self.delim.join([self._label[tid], *fields])


def _parse(buf, p: int, end: int):
    spec = TOKENS.get(buf[p])
    if spec is None:
        raise TokenError("unknown token")
    values, new = spec.parse(buf, p + 1, end)
    return spec.id, values, new


def _binary_writer(out) -> Callable[[bytes], None]:
    """A write(bytes) for ``out``: binary streams as they are, text streams through their
    ``.buffer`` (after flushing the text layer), or as str with surrogate escapes."""
    if isinstance(out, io.TextIOBase) or (hasattr(out, "encoding") and hasattr(out, "buffer")):
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            def write(data: bytes) -> None:
                out.flush()
                buffer.write(data)
            return write
        return lambda data: out.write(data.decode("utf-8", "surrogateescape"))
    return out.write


# --------------------------------------------------------------------------------------------
# text forms: each returns the fields after the label

def _t_header(r, tid, v):
    if tid in (0x15, 0x79):
        size, version, event, mod, (atype, addr), sec, ms = v
        return [b"%u" % size, b"%u" % version, r.event(event), b"%u" % mod, _ip_ex(atype, addr),
                r.sec(sec, tid == 0x79), r.msec(ms)]
    size, version, event, mod, sec, ms = v
    return [b"%u" % size, b"%u" % version, r.event(event), b"%u" % mod, r.sec(sec, tid == 0x74),
            r.msec(ms)]


def _t_trailer(r, tid, v):
    return [b"%u" % v[1]]


def _t_file(r, tid, v):
    return [r.sec(v[0]), r.msec(v[1]), _nonul(v[2])]


def _data_items(how: int, unit: int, count: int, payload: bytes) -> bytes:
    """praudit's data printing: items are read in x86 (little-endian) host order, 64-bit items
    go through an int-sized conversion, so only their low 32 bits print."""
    size = _DATA_UNIT[unit][1]
    conv = _DATA_HOW.get(how, (None, "x"))[1]
    out = []
    for i in range(count):
        item = int.from_bytes(payload[i * size:(i + 1) * size], "little")
        if size == 8:
            item &= 0xFFFFFFFF
        if conv == "s":
            out.append(bytes((item & 0xFF,)))
        elif conv == "c":
            out.append(b" " + bytes((item & 0xFF,)))
        elif conv == "d":
            out.append(b" %d" % (_signed32(item) if size >= 4 else item))
        elif conv == "o":
            out.append(b" %o" % item)
        else:
            out.append(b" %x" % item)
    return b"".join(out)


def _t_data(r, tid, v):
    how, unit, count, payload = v[0]
    word = _DATA_HOW[how][0] if how in _DATA_HOW else b"%u" % how
    return [word, _DATA_UNIT[unit][0], b"%u" % count, _data_items(how, unit, count, payload)]


def _t_ipc(r, tid, v):
    kind = b"%u" % v[0] if r.raw else _IPC_TYPES.get(v[0], b"%u" % v[0])
    return [kind, b"%u" % v[1]]


def _t_string(r, tid, v):
    return [_nonul(v[0])]


def _t_subject(r, tid, v):
    auid, euid, egid, ruid, rgid, pid, sid, port, addr = v
    if tid in (0x7A, 0x7B, 0x7C, 0x7D):
        host = _ip_ex(*addr)
    else:
        host = _ip4(addr)
    return [r.user(auid), r.user(euid), r.group(egid), r.user(ruid), r.group(rgid), b"%u" % pid,
            b"%u" % sid, b"%u" % port, host]


def _t_return(r, tid, v):
    value = b"%u" % v[1] if tid == 0x27 else b"%d" % _signed64(v[1])
    return [r.retval(v[0]), value]


def _t_opaque(r, tid, v):
    return [b"%u" % len(v[0]), _mem(v[0])]


def _t_in_addr(r, tid, v):
    return [_ip4(v[0])]


def _t_in_addr_ex(r, tid, v):
    return [_ip_ex(*v[0])]


def _t_ip(r, tid, v):
    version, tos, length, ident, offset, ttl, proto, chksm, src, dst = v
    return [b"0x%02x" % version, b"0x%02x" % tos, b"%u" % length, b"%u" % ident, b"%u" % offset,
            b"0x%02x" % ttl, b"0x%02x" % proto, b"%u" % chksm, _ip4(src), _ip4(dst)]


def _t_iport(r, tid, v):
    return [_hashx(v[0])]


def _t_arg(r, tid, v):
    return [b"%u" % v[0], b"0x%x" % v[1], _nonul(v[2])]


def _t_socket(r, tid, v):
    kind, lport, laddr, rport, raddr = v
    return [b"%u" % kind, b"%u" % lport, _ip4(laddr), b"%u" % rport, _ip4(raddr)]


def _t_seq(r, tid, v):
    return [b"%u" % v[0]]


def _t_ipc_perm(r, tid, v):
    uid, gid, puid, pgid, mode, seq, key = v
    return [r.user(uid), r.group(gid), r.user(puid), r.group(pgid), b"%o" % mode, b"%u" % seq,
            b"%u" % key]


def _t_privset(r, tid, v):
    return [_nonul(v[0]), _nonul(v[1])]


def _t_upriv(r, tid, v):
    word = b"successful use of priv" if v[0] else b"failed use of priv"
    return [word, _nonul(v[1])]


def _t_groups(r, tid, v):
    return [r.group(g) for g in v[0]]


def _t_strings(r, tid, v):
    return list(v[0][1])


def _t_attr(r, tid, v):
    mode, uid, gid, fsid, nodeid, dev = v
    return [b"%o" % mode, r.user(uid), r.group(gid), b"%u" % fsid, b"%d" % _signed64(nodeid),
            b"%u" % dev]


def _t_exit(r, tid, v):
    return [b"Error %u" % v[0], b"%u" % v[1]]


def _t_socket_ex(r, tid, v):
    domain, kind, (atype, lport, laddr, rport, raddr) = v
    return [_hashx(domain), _hashx(kind), _hashx(lport), _ip_ex(atype, laddr), _hashx(rport),
            _ip_ex(atype, raddr)]


def _t_sockinet(r, tid, v):
    family, port, addr = v
    return [b"%u" % family, b"%u" % port, _ip4(addr) if tid == 0x80 else _ip6(addr)]


def _t_sockunix(r, tid, v):
    return [b"%u" % v[0], v[1]]


def _t_uuid(r, tid, v):
    return [b"%u" % v[0], _uuid(v[1]), _nonul(v[2])]


def _t_identity(r, tid, v):
    signer, signing_id, sid_trunc, team_id, tid_trunc, cdhash = v
    return [b"%u" % signer, _nonul(signing_id), b"truncated" if sid_trunc else b"complete",
            _nonul(team_id), b"truncated" if tid_trunc else b"complete", _mem(cdhash)]


_TEXT = {
    0x11: _t_file, 0x13: _t_trailer, 0x14: _t_header, 0x15: _t_header, 0x74: _t_header,
    0x79: _t_header, 0x21: _t_data, 0x22: _t_ipc, 0x23: _t_string, 0x24: _t_subject,
    0x26: _t_subject, 0x27: _t_return, 0x28: _t_string, 0x29: _t_opaque, 0x2A: _t_in_addr,
    0x2B: _t_ip, 0x2C: _t_iport, 0x2D: _t_arg, 0x2E: _t_socket, 0x2F: _t_seq,
    0x32: _t_ipc_perm, 0x38: _t_privset, 0x39: _t_upriv, 0x3B: _t_groups, 0x3C: _t_strings,
    0x3D: _t_strings, 0x3E: _t_attr, 0x52: _t_exit, 0x60: _t_string, 0x71: _t_arg,
    0x72: _t_return, 0x73: _t_attr, 0x75: _t_subject, 0x77: _t_subject, 0x7A: _t_subject,
    0x7B: _t_subject, 0x7C: _t_subject, 0x7D: _t_subject, 0x7E: _t_in_addr_ex,
    0x7F: _t_socket_ex, 0x80: _t_sockinet, 0x81: _t_sockinet, 0x82: _t_sockunix,
    0x84: _t_uuid, 0x85: _t_uuid, 0xED: _t_identity, 0xEE: _t_strings, 0xEF: _t_strings,
}


# --------------------------------------------------------------------------------------------
# XML forms: each returns the whole element

def _x_header(r, tid, v):
    if tid in (0x15, 0x79):
        size, version, event, mod, (atype, addr), sec, ms = v
        pairs = [(b"version", b"%u" % version), (b"event", r.event(event)),
                 (b"modifier", b"%u" % mod), (b"host", _ip_ex(atype, addr)),
                 (b"time", r.sec(sec, tid == 0x79)), (b"msec", r.msec(ms))]
    else:
        size, version, event, mod, sec, ms = v
        pairs = [(b"version", b"%u" % version), (b"event", r.event(event)),
                 (b"modifier", b"%u" % mod), (b"time", r.sec(sec, tid == 0x74)),
                 (b"msec", r.msec(ms))]
    return b"<record " + b"".join(k + b'="' + val + b'" ' for k, val in pairs) + b">"


def _x_trailer(r, tid, v):
    return b"</record>"


def _x_file(r, tid, v):
    return (b'<file time="' + r.sec(v[0]) + b'" msec="' + r.msec(v[1]) + b'" >'
            + _xstr(v[2], False) + b"</file>")


def _x_data(r, tid, v):
    how, unit, count, payload = v[0]
    word = _DATA_HOW[how][0] if how in _DATA_HOW else b"%u" % how
    items = xml_escape(_data_items(how, unit, count, payload))
    return (b'<arbitrary print="' + word + b'" type="%u" count="%u" >' % (_DATA_UNIT[unit][1], count)
            + items + b"</arbitrary>")


def _x_ipc(r, tid, v):
    return _attrs(b"IPC", [(b"ipc-type", _t_ipc(r, tid, v)[0]), (b"ipc-id", b"%u" % v[1])])


def _content(tag: bytes):
    def element(r, tid, v):
        return b"<" + tag + b">" + _xstr(v[0], False) + b"</" + tag + b">"
    return element


def _x_subject(r, tid, v):
    auid, euid, egid, ruid, rgid, pid, sid, port, addr = v
    if tid == 0x24:
        tid_text = b"%u " % port + _ip4(addr)
    elif tid in (0x7A, 0x7B, 0x7C, 0x7D):
        tid_text = b"%u" % port + _ip_ex(*addr)
    else:
        tid_text = b"%u" % port + _ip4(addr)
    return _attrs(_XML_IDTAG[tid], [
        (b"audit-uid", r.user(auid)), (b"uid", r.user(euid)), (b"gid", r.group(egid)),
        (b"ruid", r.user(ruid)), (b"rgid", r.group(rgid)), (b"pid", b"%u" % pid),
        (b"sid", b"%u" % sid), (b"tid", tid_text)])


def _x_return(r, tid, v):
    errval, value = _t_return(r, tid, v)
    return _attrs(b"return", [(b"errval", errval), (b"retval", value)])


def _x_opaque(r, tid, v):
    return b"<opaque>" + _mem(v[0]) + b"</opaque>"


def _x_in_addr(r, tid, v):
    addr = _ip4(v[0]) if tid == 0x2A else _ip_ex(*v[0])
    return b"<ip_address>" + addr + b"</ip_address>"


def _x_ip(r, tid, v):
    names = (b"version", b"service_type", b"len", b"id", b"offset", b"time_to_live", b"protocol",
             b"cksum", b"src_addr", b"dest_addr")
    return _attrs(b"ip", zip(names, _t_ip(r, tid, v)))


def _x_iport(r, tid, v):
    return b"<ip_port>" + _hashx(v[0]) + b"</ip_port>"


def _x_arg(r, tid, v):
    return _attrs(b"argument", [(b"arg-num", b"%u" % v[0]), (b"value", b"0x%x" % v[1]),
                                (b"desc", _xstr(v[2]))])


def _x_socket(r, tid, v):
    kind, lport, laddr, rport, raddr = v
    return _attrs(b"socket", [(b"sock_type", b"%u" % kind), (b"lport", b"%u" % lport),
                              (b"laddr", _ip4(laddr)), (b"fport", b"%u" % rport),
                              (b"faddr", _ip4(raddr))])


def _x_seq(r, tid, v):
    return _attrs(b"sequence", [(b"seq-num", b"%u" % v[0])])


def _x_ipc_perm(r, tid, v):
    uid, gid, puid, pgid, mode, seq, key = v
    return _attrs(b"IPC_perm", [
        (b"uid", r.user(uid)), (b"gid", r.group(gid)), (b"creator-uid", r.user(puid)),
        (b"creator-gid", r.group(pgid)), (b"mode", b"%o" % mode), (b"seq", b"%u" % seq),
        (b"key", b"%u" % key)])


def _x_privset(r, tid, v):
    return _attrs(b"privilege", [(b"type", _xstr(v[0])), (b"priv", _xstr(v[1]))])


def _x_upriv(r, tid, v):
    word = b"successful use of priv" if v[0] else b"failed use of priv"
    return _attrs(b"use_of_privilege", [(b"status", word), (b"name", _xstr(v[1]))])


def _x_groups(r, tid, v):
    return b"<group>" + b"".join(b"<gid>" + r.group(g) + b"</gid>" for g in v[0]) + b"</group>"


_XML_LISTS = {0x3C: (b"exec_args", b"arg"), 0x3D: (b"exec_env", b"env"),
              0xEE: (b"krb5_principal", b"principal"), 0xEF: (b"cert_hash", b"hash")}


def _x_strings(r, tid, v):
    tag, item = _XML_LISTS[tid]
    inner = b"".join(b"<" + item + b">" + xml_escape(s) + b"</" + item + b">" for s in v[0][1])
    return b"<" + tag + b">" + inner + b"</" + tag + b">"


def _x_attr(r, tid, v):
    mode, uid, gid, fsid, nodeid, dev = v
    return _attrs(b"attribute", [
        (b"mode", b"%o" % mode), (b"uid", r.user(uid)), (b"gid", r.group(gid)),
        (b"fsid", b"%u" % fsid), (b"nodeid", b"%d" % _signed64(nodeid)), (b"device", b"%u" % dev)])


def _x_exit(r, tid, v):
    return _attrs(b"exit", [(b"errval", b"Error %u" % v[0]), (b"retval", b"%u" % v[1])])


def _x_zone(r, tid, v):
    return _attrs(b"zone", [(b"name", _xstr(v[0]))])


def _x_socket_ex(r, tid, v):
    domain, kind, (atype, lport, laddr, rport, raddr) = v
    return _attrs(b"socket", [
        (b"sock_dom", _hashx(domain)), (b"sock_type", _hashx(kind)), (b"lport", _hashx(lport)),
        (b"laddr", _ip_ex(atype, laddr)), (b"faddr", _ip_ex(atype, raddr)),
        (b"fport", _hashx(rport))])


def _x_sockinet(r, tid, v):
    family, port, addr = v
    tag = b"socket-inet" if tid == 0x80 else b"socket-inet6"
    return _attrs(tag, [(b"type", b"%u" % family), (b"port", b"%u" % port),
                        (b"addr", _ip4(addr) if tid == 0x80 else _ip6(addr))])


def _x_sockunix(r, tid, v):
    return _attrs(b"socket-unix", [(b"type", b"%u" % v[0]), (b"port", b""),
                                   (b"addr", xml_escape(v[1], True))])


def _x_uuid(r, tid, v):
    tag = b"arg_uuid" if tid == 0x84 else b"ret_uuid"
    return _attrs(tag, [(tag + b"-num", b"%u" % v[0]), (b"uuid", _uuid(v[1])),
                        (b"desc", _xstr(v[2]))])


def _x_identity(r, tid, v):
    signer, signing_id, sid_trunc, team_id, tid_trunc, cdhash = v
    return _attrs(b"identity", [
        (b"signer-type", b"%u" % signer), (b"signing-id", _xstr(signing_id)),
        (b"signing-id-truncated", b"yes" if sid_trunc else b"no"),
        (b"team-id", _xstr(team_id)), (b"team-id-truncated", b"yes" if tid_trunc else b"no"),
        (b"cdhash", _mem(cdhash))])


_XML = {
    0x11: _x_file, 0x13: _x_trailer, 0x14: _x_header, 0x15: _x_header, 0x74: _x_header,
    0x79: _x_header, 0x21: _x_data, 0x22: _x_ipc, 0x23: _content(b"path"), 0x24: _x_subject,
    0x26: _x_subject, 0x27: _x_return, 0x28: _content(b"text"), 0x29: _x_opaque,
    0x2A: _x_in_addr, 0x2B: _x_ip, 0x2C: _x_iport, 0x2D: _x_arg, 0x2E: _x_socket,
    0x2F: _x_seq, 0x32: _x_ipc_perm, 0x38: _x_privset, 0x39: _x_upriv, 0x3B: _x_groups,
    0x3C: _x_strings, 0x3D: _x_strings, 0x3E: _x_attr, 0x52: _x_exit, 0x60: _x_zone,
    0x71: _x_arg, 0x72: _x_return, 0x73: _x_attr, 0x75: _x_subject, 0x77: _x_subject,
    0x7A: _x_subject, 0x7B: _x_subject, 0x7C: _x_subject, 0x7D: _x_subject, 0x7E: _x_in_addr,
    0x7F: _x_socket_ex, 0x80: _x_sockinet, 0x81: _x_sockinet, 0x82: _x_sockunix,
    0x84: _x_uuid, 0x85: _x_uuid, 0xED: _x_identity, 0xEE: _x_strings, 0xEF: _x_strings,
}

assert set(_TEXT) == set(TOKENS) == set(_XML), "every token in the table needs a rendering"


# --------------------------------------------------------------------------------------------

def render(buf, *, out, oneline: bool = False, numeric: bool = False, raw: bool = False,
           short: bool = False, xml: bool = False, delim: bytes | str = b",",
           events: EventTable | None = None, users: Users | None = None, tz=None,
           source: str = "<stdin>", warn: Callable[[str], None] | None = None) -> Summary:
    """Render one trail (bytes, mmap, ...) the way ``praudit`` would, streaming to ``out``.

    ``out`` takes bytes (a binary stream) or, for a text stream, its ``.buffer``; a text stream
    without one receives str with undecodable bytes as surrogate escapes. Damage is reported
    through ``warn`` (one line each), never to ``out``.
    """
    r = Renderer(out, oneline=oneline, numeric=numeric, raw=raw, short=short, xml=xml,
                 delim=delim, events=events, users=users, tz=tz, warn=warn)
    r.begin()
    summary = r.trail(buf, source)
    r.end()
    return summary
