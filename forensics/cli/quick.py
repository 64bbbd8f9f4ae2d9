"""A command line read against a table of options (:mod:`forensics.cli.flags`), without click.

``knox-report reduce`` starts in a few hundredths of a second, and importing click is a large
part of that. :func:`parse` reads the plain forms of a command line: ``-x VALUE``, ``-xVALUE``,
``--long VALUE``, ``--long=VALUE``, one flag per word, ``--`` and arguments between options.
Anything else (``--help``, an unknown option, flags run together, a missing value, a value that
looks like an option, a file option naming no file) returns None: the caller hands the command
line to click, which does the same thing or prints the one-line usage error. A command line
this module reads gives the keywords click would give (tests/cli/test_quick.py compares them).
"""

from __future__ import annotations

import os

__all__ = ["parse"]


def _value_ok(kind: str, value: str, choices) -> bool:
    if kind == "file":
        return os.path.isfile(value)
    if kind == "folder":
        return os.path.isdir(value)
    if kind == "output":                # click.Path(dir_okay=False, allow_dash=True)
        return value == "-" or not os.path.isdir(value)
    if kind == "choice":
        return value in choices
    return True


def parse(args: list[str], table) -> dict | None:
    """The keywords of ``args`` (positional arguments under ``"args"``), or None for click.

    ``table`` holds ``(declarations, keyword, kind, ...)`` entries as in flags.SELECTION,
    plus the kinds ``output`` (a path, ``-`` allowed, not a folder) and ``choice`` (its
    fifth field is then the tuple of choices instead of a help text).
    """
    by_name, out = {}, {"args": []}
    for entry in table:
        decls, keyword, kind = entry[:3]
        for name in decls:
            by_name[name] = entry
        out[keyword] = () if kind == "many" else False if kind == "flag" else None
    i, rest = 0, False
    while i < len(args):
        word = args[i]
        i += 1
        if rest or word == "-" or not word.startswith("-"):
            out["args"].append(word)
            continue
        if word == "--":
            rest = True
            continue
        if word.startswith("--"):
            name, eq, attached = word.partition("=")
        else:
            name, attached = word[:2], word[2:]
            eq = "=" if attached else ""
        entry = by_name.get(name)
        if entry is None:
            return None
        decls, keyword, kind = entry[:3]
        if kind == "flag":
            if eq:
                return None
            out[keyword] = True
            continue
        if not eq:
            if i >= len(args) or (args[i].startswith("-") and args[i] != "-"):
                return None
            attached = args[i]
            i += 1
        if not _value_ok(kind, attached, entry[4] if kind == "choice" else None):
            return None
        if kind == "many":
            out[keyword] = (*out[keyword], attached)
        else:
            out[keyword] = attached
    return out
