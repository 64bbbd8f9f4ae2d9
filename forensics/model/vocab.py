"""Event numbers by meaning, one definition each, and the uids that can be a person.

Each family maps the BSM event numbers (macOS, FreeBSD and the older Darwin numbers) to the
short name evidence sentences use. Numbers are from ``forensics/data/audit_event.tsv``.
"""

from __future__ import annotations

import polars as pl

from ..schema import UNSET

__all__ = [
    "ANNOUNCE",
    "AUTHINT",
    "AUTHMECH",
    "AUTHN",
    "AUTHORIZE",
    "AUTHZ",
    "AUTH_EVENTS",
    "AUTH_USER",
    "CREDS",
    "EXECS",
    "EXIT",
    "LABELS",
    "LAUNCHD_PID",
    "LOGINS",
    "LOGOUTS",
    "NOT_PEOPLE",
    "SESSION_ENDS",
    "SESSION_EVENTS",
    "SESSION_START",
    "SETUIDS",
    "SPAWN",
    "SU",
    "SUDO",
    "is_person",
    "is_user_event",
    "name_of",
]

# ---- process lifecycle (kernel) -----------------------------------------------------------------
#: calls that announce a child pid (arg32 "child PID"; fork's return value too)
ANNOUNCE = {2: "fork", 25: "vfork", 241: "fork", 353: "rfork", 43043: "rfork",
            43197: "pdfork", 43190: "posix_spawn"}
SPAWN = 43190                     # posix_spawn: a child, or (no child pid) an exec in place
EXECS = {7: "exec", 23: "execve", 43131: "mac_execve", 43144: "fexecve"}
EXIT = 1
#: calls that change (or ask to change) credentials
CREDS = {200: "setuid", 215: "seteuid", 40: "setreuid", 43057: "setresuid", 205: "setgid",
         214: "setegid", 41: "setregid", 43059: "setresgid", 131: "setauid", 133: "setaudit",
         266: "setaudit_addr", 43116: "setaudit_addr"}
#: the CREDS calls that set the real uid (what su and sudo's commands switch with)
SETUIDS = (200, 40, 43057)

# ---- kernel audit sessions (pid 0, all ids 0 but the auid) --------------------------------------
SESSION_START = 44901
SESSION_ENDS = (44903, 44904)     # session end, session close
SESSION_EVENTS = (SESSION_START, 44902, *SESSION_ENDS)

# ---- authorization and authentication (authd, user space) -------------------------------------
AUTHORIZE = {45025: "ssauthorize", 7002: "ssauthorize"}   # a right was asked for
AUTHINT = {45026: "ssauthint", 7003: "ssauthint"}         # authd's internal mechanism
AUTHMECH = {45030: "ssauthmech"}
#: records whose subject is the client that asked authd for a right
AUTH_EVENTS = {**AUTHORIZE, **AUTHINT, **AUTHMECH}
AUTH_USER = (45023, 7000)
AUTHN = (*AUTH_USER, *AUTHINT)    # somebody authenticated
AUTHZ = tuple(AUTHORIZE)

# ---- logins and switches (user space) ---------------------------------------------------------
LOGINS = {32800: "ssh", 6152: "login", 45021: "loginwindow", 6600: "loginwindow",
          6155: "rlogin"}
LOGOUTS = {6153: "logout", 45022: "loginwindow", 6601: "loginwindow"}
SU = (6159,)
SUDO = (45028, 6300)
#: how evidence sentences name these records
LABELS = {32800: "ssh login", 6152: "login", 6153: "logout", 45028: "sudo", 6300: "sudo",
          6159: "su", 45023: "authentication", 45021: "loginwindow login",
          45025: "authorization", 45026: "authentication"}

# ---- pids and uids -------------------------------------------------------------------------------
LAUNCHD_PID = 1
NOT_PEOPLE = (65534, 4294967294, UNSET)   # nobody (FreeBSD, macOS), unset


def is_person(uid: pl.Expr) -> pl.Expr:
    """uids that can be a person: 500 and up, except nobody and unset."""
    return (uid >= 500) & ~uid.is_in(list(NOT_PEOPLE))


def is_user_event(event: pl.Expr) -> pl.Expr:
    """Events written by user space (audit(2)); the kernel's are below 6144 and 43000-44999."""
    return ((event >= 6144) & (event < 8000)) | ((event >= 32768) & (event < 43000)) | (event >= 45000)


def name_of(mapping: dict[int, str], event: pl.Expr | None = None) -> pl.Expr:
    """The name ``mapping`` gives the event (null for other events)."""
    event = pl.col("event") if event is None else event
    return event.replace_strict(mapping, default=None, return_dtype=pl.String)
