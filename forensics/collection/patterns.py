"""The pattern values of auditreduce's options: ``file=`` regex lists, ``-z`` globs, ``sock=``.

Each becomes something Polars can evaluate: regexes are checked once (a bad one is a one-line
:class:`SelectionError`), an fnmatch(3) glob becomes an anchored regex, a socket value becomes
an expression over both ends of a connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SelectionError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["split_regexes", "glob_regex", "check_regex", "Socket"]


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


def check_regex(pattern: str, flag: str) -> None:
    if _in_posix_subset(pattern):
        return          # valid in Rust's syntax: no need to load Polars to ask
    import polars as pl

    try:
        pl.select(pl.lit("", pl.String).str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("error:")]
        why = lines[0][len("error:"):].strip() if lines else "invalid"
        raise SelectionError(f"{flag}: bad regular expression {pattern!r}: {why}") from None


def _in_posix_subset(pattern: str) -> bool:
    try:
        from ..bsm.cselect import posix_form
    except ImportError:         # the C core is not built
        return False
    return posix_form(pattern) is not None


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
class Socket:
    """One ``sock=`` value: a port, an address, both, or a unix socket path."""
    address: str | None = None
    port: int | None = None
    path: str | None = None

    @classmethod
    def parse(cls, value: str) -> "Socket":
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
        import polars as pl

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
    import ipaddress    # only a sock= address needs it

    from ..bsm.addresses import format_ip4, format_ip6
    try:
        packed = ipaddress.ip_address(text).packed
    except ValueError:
        raise SelectionError(f"-o sock={whole}: not a port, address, ADDRESS:PORT or "
                             "unix socket path") from None
    return format_ip4(packed) if len(packed) == 4 else format_ip6(packed)

