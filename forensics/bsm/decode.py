"""The pure-Python decoder: framing, resync, token walk and one records-frame row per record.

This module is the reference the C core (``csrc/bsm.c``) mirrors step for step:

Framing (``frame``)
    At each position: a header id (0x14 0x15 0x74 0x79) starts a record when its u32 size is at
    least 25, fits in the data, and lands on a trailer (0x13, magic 0xb105, the same size). A
    0x11 starts a bare file token when it fits. Anything else is damage: the decoder scans
    forward for the next valid record (or a valid file token that ends the data or is followed
    by a valid record) and reports the skipped span with one reason from
    ``schema.DAMAGE_REASONS``, named for what was wrong at the span's first byte.

Token walk (``walk``)
    Tokens are parsed from the header to the trailer. An unknown id or a token that does not
    fit stops the walk: the tokens before it are kept and the rest (up to the trailer) is a
    damaged span. ``exec_args``/``exec_env`` counts are not trusted: macOS 12+ cuts the strings
    at about 16 KiB but keeps the original count. When fewer strings than the count fit, or the
    rest of the record does not parse (and the count is a plausible argc, at most 2**20), the
    walk tries cutting after k = 0, 1, 2, ... strings, only where the next byte is a token xnu
    writes after exec strings (``EXEC_FOLLOWERS``), and takes the first cut after which the
    rest parses cleanly to the trailer: the longest clean tail wins, so a stray byte pattern
    near the end (a return token's zeros) cannot pass for the cut. No clean cut: the greedy
    parse stands and the record reports its damage.
"""

from __future__ import annotations

import re
import struct
from typing import Iterator, NamedTuple

from ..text import decode_bytes
from .tokens import HEADER_IDS, TOKENS, TokenError

__all__ = [
    "Item",
    "Token",
    "frame",
    "walk",
    "decode",
    "Decoded",
    "Decoder",
    "format_ip4",
    "format_ip6",
    "MIN_RECORD_SIZE",
]

MIN_RECORD_SIZE = 25          # header32 (18) + trailer (7)
REPAIR_WINDOW = 1 << 20       # how far a trailer is looked for behind a header with a bad size
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_HEADER_RE = re.compile(rb"[\x11\x14\x15\x74\x79]")
_STRINGS_IDS = (0x3C, 0x3D)
#: Tokens xnu writes after exec_args/exec_env: exec_env, path, attr32/64, data (cdhash),
#: subject32/64/_ex, return32/64. A cut is only taken where one of them follows.
EXEC_FOLLOWERS = frozenset((0x3D, 0x23, 0x3E, 0x73, 0x21, 0x24, 0x75, 0x7A, 0x7C, 0x27, 0x72))
#: A count above this is not a real argc (ARG_MAX is 1 MiB): no cut is searched for.
MAX_EXEC_COUNT = 1 << 20


class Item(NamedTuple):
    kind: str          # "record", "file" or "damage"
    offset: int
    length: int
    reason: str | None = None


class Token(NamedTuple):
    id: int
    offset: int
    length: int
    values: tuple


# --------------------------------------------------------------------------------------------
# framing

def _record_problem(buf, p: int, n: int) -> str | None:
    if n - p < 5:
        return "truncated record"
    size = _U32.unpack_from(buf, p + 1)[0]
    if size < MIN_RECORD_SIZE:
        return "bad record size"
    if size > n - p:
        return "truncated record"
    t = p + size - 7
    if buf[t] != 0x13 or _U16.unpack_from(buf, t + 1)[0] != 0xB105 or _U32.unpack_from(buf, t + 3)[0] != size:
        return "bad trailer"
    return None


def _file_size(buf, p: int, n: int) -> int | None:
    """Length of the bare file token at p, or None when it does not fit."""
    if n - p < 11:
        return None
    size = 11 + _U16.unpack_from(buf, p + 9)[0]
    return size if size <= n - p else None


def _resync(buf, p: int, n: int) -> int:
    """First position >= p where a valid record (or a trustworthy file token) starts, else n."""
    for m in _HEADER_RE.finditer(buf, p):
        q = m.start()
        if buf[q] == 0x11:
            size = _file_size(buf, q, n)
            if size is None or _U32.unpack_from(buf, q + 5)[0] >= 1000:
                continue
            after = q + size
            if after == n or (buf[after] in HEADER_IDS and _record_problem(buf, after, n) is None):
                return q
        elif _record_problem(buf, q, n) is None:
            return q
    return n


def _trailer_frame(buf, p: int, limit: int) -> int:
    """Length of the record at p as framed by the first trailer before ``limit`` whose size
    equals its distance from p (the header's own size field is wrong), or 0."""
    stop = min(limit, p + REPAIR_WINDOW)
    t = buf.find(b"\x13\xb1\x05", p + MIN_RECORD_SIZE - 7, stop)
    while t >= 0 and t + 7 <= stop:
        if _U32.unpack_from(buf, t + 3)[0] == t + 7 - p:
            return t + 7 - p
        t = buf.find(b"\x13\xb1\x05", t + 1, stop)
    return 0


def frame(buf, start: int = 0, end: int | None = None) -> Iterator[Item]:
    """Split a trail into records, bare file tokens and damaged spans.

    A record whose header size is wrong but whose trailer is intact (the trailer's size equals
    its distance from the header, before the next valid item) is kept, as a "record" item with
    the reason "repaired record size".
    """
    n = len(buf) if end is None else end
    pos = start
    while pos < n:
        b = buf[pos]
        if b in HEADER_IDS:
            reason = _record_problem(buf, pos, n)
            if reason is None:
                size = _U32.unpack_from(buf, pos + 1)[0]
                yield Item("record", pos, size)
                pos += size
                continue
            q = _resync(buf, pos + 1, n)
            size = _trailer_frame(buf, pos, q)
            if size:
                yield Item("record", pos, size, "repaired record size")
                pos += size
            else:
                yield Item("damage", pos, q - pos, reason)
                pos = q
            continue
        elif b == 0x11:
            size = _file_size(buf, pos, n)
            if size is not None:
                yield Item("file", pos, size)
                pos += size
                continue
            reason = "truncated file token"
        else:
            reason = "garbage"
        q = _resync(buf, pos + 1, n)
        yield Item("damage", pos, q - pos, reason)
        pos = q


# --------------------------------------------------------------------------------------------
# token walk

def _skip_strings(buf, pos: int, k: int) -> int:
    """Position after the u32 count and the first k NUL-terminated strings at pos."""
    pos += 4
    for _ in range(k):
        pos = buf.find(b"\0", pos) + 1
    return pos


def _scan(buf, p: int, end: int, memo: dict, choice: dict):
    """Generator: the walk status from p (None = clean to the trailer, else (offset, reason)).

    It yields a position whenever it needs that position's status (the rest after an exec
    strings token, or after a cut) and receives it; ``_status`` drives it without recursion.
    Every token start it passes shares its result (``memo``); for each exec strings token it
    records the chosen cut in ``choice`` (-1: the greedy parse).
    """
    visited = []
    status = None
    while p < end:
        if p in memo:
            status = memo[p]
            break
        visited.append(p)
        tid = buf[p]
        spec = TOKENS.get(tid)
        if spec is None:
            status = (p, "unknown token")
            break
        try:
            values, new = spec.parse(buf, p + 1, end)
        except TokenError:
            status = (p, "bad token")
            break
        if tid in _STRINGS_IDS:
            count, strings = values[0]
            greedy = _UNKNOWN
            if not (len(strings) < count and count <= MAX_EXEC_COUNT):
                greedy = yield new
                if greedy is None or count > MAX_EXEC_COUNT:
                    choice[p] = -1
                    status = greedy
                    break
            cut, chosen = p + 5, -1
            for k in range(len(strings)):
                if k:
                    cut = buf.find(b"\0", cut, end) + 1
                if buf[cut] in EXEC_FOLLOWERS and (yield cut) is None:
                    chosen = k
                    break
            choice[p] = chosen
            if chosen >= 0:
                status = None
            else:
                status = (yield new) if greedy is _UNKNOWN else greedy
            break
        p = new
    for v in visited:
        memo[v] = status
    return status


_UNKNOWN = object()


def _status(buf, p: int, end: int, memo: dict, choice: dict):
    """Run ``_scan`` from p with an explicit stack (no recursion, whatever the record holds)."""
    if p >= end:
        return None
    if p in memo:
        return memo[p]
    stack = [_scan(buf, p, end, memo, choice)]
    value, start = None, True
    while stack:
        try:
            want = next(stack[-1]) if start else stack[-1].send(value)
        except StopIteration as done:
            stack.pop()
            value, start = done.value, False
            continue
        if want >= end:
            value, start = None, False
        elif want in memo:
            value, start = memo[want], False
        else:
            stack.append(_scan(buf, want, end, memo, choice))
            start = True
    return value


def walk(buf, pos: int, end: int) -> tuple[list[Token], tuple[int, str] | None]:
    """Tokens from pos up to end (the trailer's offset); damage is (offset, reason) or None."""
    tokens: list[Token] = []
    memo = choice = None
    while pos < end:
        tid = buf[pos]
        spec = TOKENS.get(tid)
        if spec is None:
            return tokens, (pos, "unknown token")
        try:
            values, new = spec.parse(buf, pos + 1, end)
        except TokenError:
            return tokens, (pos, "bad token")
        if tid in _STRINGS_IDS:
            if memo is None:
                memo, choice = {}, {}
            _status(buf, pos, end, memo, choice)
            k = choice[pos]
            if k >= 0:
                count, strings = values[0]
                new = _skip_strings(buf, pos + 1, k)
                values = ((count, strings[:k]),)
        tokens.append(Token(tid, pos, new - pos, values))
        pos = new
    return tokens, None


# --------------------------------------------------------------------------------------------
# one row per record

def format_ip4(raw: bytes) -> str:
    return "%d.%d.%d.%d" % (raw[0], raw[1], raw[2], raw[3])


def format_ip6(raw: bytes) -> str:
    """RFC 5952 text; IPv4-mapped addresses (::ffff:a.b.c.d) keep the dotted tail."""
    groups = struct.unpack(">8H", raw)
    if groups[:6] == (0, 0, 0, 0, 0, 0xFFFF):
        return "::ffff:" + format_ip4(raw[12:])
    best, best_len, i = -1, 1, 0
    while i < 8:
        if groups[i] == 0:
            j = i
            while j < 8 and groups[j] == 0:
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    if best < 0:
        return ":".join("%x" % g for g in groups)
    head = ":".join("%x" % g for g in groups[:best])
    tail = ":".join("%x" % g for g in groups[best + best_len:])
    return head + "::" + tail


def _addr(atype: int, raw: bytes) -> str | None:
    if atype == 4:
        return format_ip4(raw)
    if atype == 16:
        return format_ip6(raw)
    return None


def _text(raw: bytes) -> str:
    """A length-prefixed string: drop the one terminating NUL, keep everything else."""
    if raw[-1:] == b"\0":
        raw = raw[:-1]
    return decode_bytes(raw)


def _signed32(v: int) -> int:
    return v - 0x100000000 if v & 0x80000000 else v


def _signed64(v: int) -> int:
    return v - 0x10000000000000000 if v & 0x8000000000000000 else v


from ..schema import RECORD_CORE  # noqa: E402  (schema imports polars; keep it after helpers)

COLUMNS = [name for name, _, _ in RECORD_CORE]
_I = {name: i for i, name in enumerate(COLUMNS)}
_NCOL = len(COLUMNS)
_MAX_SEC = 1 << 43
_BIND = 34


class Decoded(NamedTuple):
    columns: dict             # column name -> list of values (RECORD_CORE order; args as tuples)
    errors: list              # (offset, length, reason)
    records_seen: int         # records framed, including those the window skipped
    file_tokens: int


def _header_time(sec: int, msec: int):
    if sec >= _MAX_SEC or msec > 0xFFFFFFFF:
        return None
    return sec * 1000 + msec


def _row(buf, item: Item, tokens: list[Token], damage) -> list:
    row = [None] * _NCOL
    I = _I
    row[I["offset"]] = item.offset
    row[I["length"]] = item.length
    hdr = tokens[0]
    hv = hdr.values
    row[I["header_token"]] = hdr.id
    row[I["version"]] = hv[1]
    row[I["event"]] = hv[2]
    row[I["modifier"]] = hv[3]
    if hdr.id in (0x15, 0x79):
        row[I["host"]] = _addr(*hv[4])
        row[I["time"]] = _header_time(hv[5], hv[6])
    else:
        row[I["time"]] = _header_time(hv[4], hv[5])
    paths, args, texts = [], [], []
    for tok in tokens[1:]:
        tid, v = tok.id, tok.values
        if tid == 0x23:
            paths.append(_text(v[0]))
        elif tid == 0x2D or tid == 0x71:
            args.append((v[0], v[1], _text(v[2])))
        elif tid in (0x24, 0x75, 0x7A, 0x7C):
            if row[I["subject_token"]] is None:
                row[I["subject_token"]] = tid
                j = I["auid"]
                row[j:j + 7] = v[:7]
                row[I["terminal_port"]] = v[7]
                row[I["terminal_host"]] = format_ip4(v[8]) if tid in (0x24, 0x75) else _addr(*v[8])
        elif tid in (0x26, 0x77, 0x7B, 0x7D):
            if row[I["process_pid"]] is None:
                j = I["process_auid"]
                row[j:j + 7] = v[:7]
                row[I["process_terminal_port"]] = v[7]
                row[I["process_terminal_host"]] = format_ip4(v[8]) if tid in (0x26, 0x77) else _addr(*v[8])
        elif tid == 0x27 or tid == 0x72:
            if row[I["success"]] is None:
                row[I["return_errno"]] = v[0]
                row[I["return_value"]] = _signed32(v[1]) if tid == 0x27 else _signed64(v[1])
                row[I["success"]] = v[0] == 0
        elif tid == 0x28:
            texts.append(_text(v[0]))
        elif tid == 0x3C:
            if row[I["exec_argv"]] is None:
                count, strings = v[0]
                row[I["exec_argv"]] = [decode_bytes(s) for s in strings]
                row[I["exec_args_count"]] = count
        elif tid == 0x3D:
            if row[I["exec_env"]] is None:
                row[I["exec_env"]] = [decode_bytes(s) for s in v[0][1]]
        elif tid == 0x52:
            if row[I["exit_status"]] is None:
                row[I["exit_status"]] = v[0]
                row[I["exit_value"]] = v[1]
        elif tid == 0x3E or tid == 0x73:
            if row[I["attr_mode"]] is None:
                j = I["attr_mode"]
                row[j:j + 6] = v
        elif tid in (0x80, 0x81, 0x82, 0x7F, 0x2E):
            if row[I["socket_family"]] is None:
                if tid == 0x82:
                    row[I["socket_family"]] = "unix"
                    row[I["socket_path"]] = decode_bytes(v[1])
                elif tid == 0x7F:
                    domain = v[0]
                    atype, lport, laddr, rport, raddr = v[2]
                    row[I["socket_family"]] = ("inet" if domain == 2 else
                                               "inet6" if domain == 26 else str(domain))
                    row[I["socket_type"]] = v[1]
                    row[I["local_address"]] = _addr(atype, laddr)
                    row[I["local_port"]] = lport
                    row[I["remote_address"]] = _addr(atype, raddr)
                    row[I["remote_port"]] = rport
                elif tid == 0x2E:
                    row[I["socket_family"]] = "inet"
                    row[I["socket_type"]] = v[0]
                    row[I["local_port"]] = v[1]
                    row[I["local_address"]] = format_ip4(v[2])
                    row[I["remote_port"]] = v[3]
                    row[I["remote_address"]] = format_ip4(v[4])
                else:
                    row[I["socket_family"]] = "inet" if tid == 0x80 else "inet6"
                    address = format_ip4(v[2]) if tid == 0x80 else format_ip6(v[2])
                    side = "local" if hv[2] == _BIND else "remote"
                    row[I[side + "_address"]] = address
                    row[I[side + "_port"]] = v[1]
        elif tid == 0x2A or tid == 0x7E:
            if row[I["ip_address"]] is None:
                row[I["ip_address"]] = format_ip4(v[0]) if tid == 0x2A else _addr(*v[0])
        elif tid == 0xED:
            if row[I["identity_signer_type"]] is None:
                row[I["identity_signer_type"]] = v[0]
                row[I["signing_id"]] = _text(v[1])
                row[I["signing_id_truncated"]] = v[2] != 0
                row[I["team_id"]] = _text(v[3])
                row[I["team_id_truncated"]] = v[4] != 0
                row[I["cdhash"]] = v[5].hex()
        elif tid == 0x21:
            how, unit, count, payload = v[0]
            if unit == 0 and count == 20 and row[I["exec_cdhash"]] is None:
                row[I["exec_cdhash"]] = payload.hex()
        elif tid == 0x60:
            if row[I["zonename"]] is None:
                row[I["zonename"]] = _text(v[0])
        elif tid == 0x2F:
            if row[I["sequence"]] is None:
                row[I["sequence"]] = v[0]
        elif tid == 0x22:
            if row[I["ipc_type"]] is None:
                row[I["ipc_type"]] = v[0]
                row[I["ipc_id"]] = v[1]
    row[I["paths"]] = paths
    row[I["args"]] = args
    row[I["text"]] = texts
    row[I["token_count"]] = min(len(tokens) + 1, 0xFFFF)      # UInt16, as the C core caps it
    row[I["damage"]] = damage[1] if damage else None
    return row


class Decoder:
    """Decodes one trail held in memory, a batch of rows at a time.

    ``since_ms``/``until_ms`` (epoch ms, half-open) and ``events`` (a set of event numbers) drop
    records at the header, before their tokens are walked. After ``batches()`` is exhausted,
    ``errors``, ``records_seen`` and ``file_tokens`` hold the totals.
    """

    def __init__(self, buf, *, since_ms: int | None = None, until_ms: int | None = None,
                 events: frozenset | None = None) -> None:
        self.buf = buf.tobytes() if isinstance(buf, memoryview) else buf
        self.since_ms, self.until_ms, self.events = since_ms, until_ms, events
        self.errors: list[tuple[int, int, str]] = []
        self.records_seen = self.file_tokens = 0

    def batches(self, rows: int = 16384) -> Iterator[dict]:
        """Column dicts (RECORD_CORE order) of at most ``rows`` records each."""
        batch: list[list] = []
        for row in self._rows():
            batch.append(row)
            if len(batch) >= rows:
                yield _columns(batch)
                batch = []
        if batch:
            yield _columns(batch)

    def _rows(self) -> Iterator[list]:
        buf, errors, events = self.buf, self.errors, self.events
        since_ms, until_ms = self.since_ms, self.until_ms
        windowed = since_ms is not None or until_ms is not None
        for item in frame(buf):
            kind = item.kind
            if kind == "damage":
                errors.append((item.offset, item.length, item.reason))
                continue
            if kind == "file":
                self.file_tokens += 1
                continue
            self.records_seen += 1
            if item.reason:
                errors.append((item.offset, item.length, item.reason))
            p, end = item.offset, item.offset + item.length - 7
            try:
                tid, hv, body = _parse_header(buf, p, end)
            except TokenError:
                errors.append((p, item.length, "bad token"))
                continue
            if events is not None and hv[2] not in events:
                continue
            if windowed:
                t = _header_time(*((hv[5], hv[6]) if tid in (0x15, 0x79) else (hv[4], hv[5])))
                if (t is None or (since_ms is not None and t < since_ms)
                        or (until_ms is not None and t >= until_ms)):
                    continue
            tokens, damage = walk(buf, body, end)
            tokens.insert(0, Token(tid, p, body - p, hv))
            if damage is not None:
                errors.append((damage[0], end - damage[0], damage[1]))
            yield _row(buf, item, tokens, damage or (item.reason and (p, item.reason)))


def _columns(rows: list[list]) -> dict:
    if not rows:
        return {name: [] for name in COLUMNS}
    return {name: list(col) for name, col in zip(COLUMNS, zip(*rows))}


def decode(buf, *, since_ms: int | None = None, until_ms: int | None = None,
           events: frozenset | None = None) -> Decoded:
    """Decode a whole trail held in memory into one set of columns."""
    decoder = Decoder(buf, since_ms=since_ms, until_ms=until_ms, events=events)
    columns = _columns([])
    for batch in decoder.batches():
        for name, values in batch.items():
            columns[name].extend(values)
    return Decoded(columns, decoder.errors, decoder.records_seen, decoder.file_tokens)


def _parse_header(buf, p: int, end: int):
    tid = buf[p]
    values, body = TOKENS[tid].parse(buf, p + 1, end)
    return tid, values, body
