"""The renderer: frames a trail, walks each record's tokens and streams praudit's output.

Records come from :func:`forensics.bsm.decode.frame` and tokens from
:func:`forensics.bsm.decode.walk`; each token is printed by its text form (``text_forms``) or
XML form (``xml_forms``). Damage is reported through ``warn`` (one line each), never in the
record stream.
"""

from __future__ import annotations

import io
import os
import struct
from typing import Callable, NamedTuple

from ..framing import frame
from ..tokens import HEADER_IDS, TOKENS, TRAILER, TokenError
from ..tokenwalk import walk_record
from ...tables import EventTable, Users
from ...text import encode_text
from .clock import Clock
from .escape import attrs, xml_escape
from .text_forms import TEXT_FORMS
from .values import mem, return_text, signed32, signed64
from .xml_forms import XML_FORMS

__all__ = ["render", "Renderer", "Summary"]

if not set(TEXT_FORMS) == set(TOKENS) == set(XML_FORMS):
    raise ImportError("every token in the table needs a text and an XML rendering")


class Summary(NamedTuple):
    records: int
    file_tokens: int
    damaged_spans: int
    damaged_bytes: int


_LABELS = {tid: spec.label.encode() for tid, spec in TOKENS.items() if spec.label}
_LABELS.update({tid: TOKENS[tid].name.encode() for tid in TOKENS if tid not in _LABELS})


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
        self.clock = Clock(tz)
        self.warn = warn
        self._ucache: dict[int, bytes] = {}
        self._gcache: dict[int, bytes] = {}
        self._ecache: dict[int, bytes] = {}
        self._rcache: dict[int, bytes] = {}
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._label = self._labels()
        self._base = 0

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
                b"%d" % signed32(value)
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
        return self.clock.ctime(signed64(sec) if bits64 else sec)

    def msec(self, ms: int) -> bytes:
        ms &= 0xFFFFFFFF
        return b"%u" % ms if self.raw else b" + %u msec" % ms

    def retval(self, status: int) -> bytes:
        if self.raw:
            return b"%u" % status
        s = self._rcache.get(status)
        if s is None:
            s = return_text(status)
            if self.xml:
                s = xml_escape(s, True)
            self._rcache[status] = s
        return s

    def label(self, tid: int) -> bytes:
        return b"%u" % tid if self.raw else _LABELS.get(tid, b"unknown")

    def _labels(self) -> dict[int, bytes]:
        return {tid: self.label(tid) for tid in TOKENS}

    # -- records ------------------------------------------------------------------------------

    def trail(self, buf, source: str = "<stdin>", base: int = 0) -> Summary:
        """Render every record and file token of one trail held in ``buf``; ``base``: the
        offset of ``buf`` in its input (a piece of a stream), for the offsets reported."""
        self._base = base
        records = files = spans = damaged = 0
        end_nl = b"\n"
        for item in frame(buf):
            if item.kind == "record":
                records += 1
                if item.reason:
                    damaged += item.length
                    self._say(source, f"record at offset {item.offset + base}: {item.reason} (its header "
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
                    self._say(source, f"skipped {item.length} bytes at offset {item.offset + base}: "
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
        self._say(source, f"record at offset {p + self._base} ({n - p} bytes) has no valid trailer "
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
            self._say(source, f"skipped {n - p} bytes at offset {p + self._base}: bad record header")
            return
        sep = self._sep()
        parts = [self._token(tid, values), sep]
        tokens, damage, guessed = walk_record(buf, body, end)
        if guessed is not None:
            self._say(source, f"record at offset {p + self._base}: the exec strings at offset "
                              f"{guessed + self._base} can be "
                              f"cut more than one way and another cut gives another subject; "
                              f"printed as the first clean cut (ambiguous exec cut)")
        closed = False
        for tok in tokens:
            parts.append(self._token(tok.id, tok.values))
            parts.append(sep)
            closed = tok.id == TRAILER
        if damage is not None:
            off, reason = damage
            bad = buf[off]
            what = f"unknown token id 0x{bad:02x}" if reason == "unknown token" else \
                f"token 0x{bad:02x} does not fit its layout"
            self._say(source, f"record at offset {p + self._base}: {what} at offset "
                              f"{off + self._base}; "
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
            return attrs(b"unknown", ((b"id", b"%u" % tid), (b"data", mem(data))))
        return (b"%u" % tid if self.raw else b"unknown") + self.delim + mem(data)

    def _token(self, tid: int, v: tuple) -> bytes:
        if self.xml:
            return XML_FORMS[tid](self, tid, v)
        fields = TEXT_FORMS[tid](self, tid, v)
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
