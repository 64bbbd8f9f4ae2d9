"""forensics.filters: every auditreduce option as a Polars expression over the records frame.

Small trails are built with forensics.bsm.writer (every header, subject and process kind, ipc,
zonename, sockets); the shared realistic trail checks the same options on auditreduce's
fixture.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from forensics.bsm import backends
from forensics.bsm import writer as w
from forensics.audit import derive_records
from forensics.tables import Tables
from forensics.cli.options import click_options
from forensics.collection.selection import Selection, SelectionError, glob_regex, split_regexes
from forensics.tables import ClassTable, EventTable, Users
from forensics.bsm.tokens import encode

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
OPENBSM = SHARED / "openbsm"
needs_shared = pytest.mark.skipif(not (OPENBSM / "trail").is_dir(),
                                  reason="../shared/fixtures (openbsm trails) is absent")

T0 = 1710493200          # 2024-03-15 09:00:00 UTC
UTC = timezone.utc


def _subject64(auid, euid, pid) -> bytes:
    return encode("subject64", (auid, euid, 20, euid, 20, pid, 100, 1 << 33, bytes([10, 0, 0, 1])))


def _process32(auid, pid) -> bytes:
    return encode("process32", (auid, 0, 0, 0, 0, pid, 100000, 0, bytes(4)))


# index -> record; comments say what each one is for
RECORDS = [
    # 0: header32 execve by alice (subject32)
    (w.AUE_EXECVE, [w.path("/bin/ls"), w.subject(auid=501, pid=100), w.return32()],
     dict(time=T0)),
    # 1: header32_ex open_r by alice, failed; subject32_ex (IPv6 terminal), euid 0
    (w.AUE_OPEN_R, [w.path("/Users/alice/secret"), w.subject(auid=501, euid=0, pid=101,
                                                             host="2001:db8::5"),
                    w.return32(13, -1)],
     dict(time=T0 + 1.5, header="header32_ex", host="10.0.0.1")),
    # 2: header64 unlink by bob (subject64), two paths
    (w.AUE_UNLINK, [w.path("/Users/bob/x"), w.path("/tmp/y,z"), _subject64(502, 502, 102),
                    w.return32()],
     dict(time=T0 + 3600, header="header64")),
    # 3: header64_ex kill: bob as root kills alice's pid 77 (process32_ex)
    (w.AUE_KILL, [w.arg(2, 9, "signal"), w.process(auid=501, euid=501, pid=77),
                  w.subject(auid=502, euid=0, pid=103), w.return32()],
     dict(time=T0 + 86400, header="header64_ex", host="2001:db8::2")),
    # 4: msgget, ipc msg 42
    (88, [w.ipc(1, 42), w.subject(auid=0, pid=104), w.return32(0, 42)], dict(time=T0 + 10)),
    # 5: shmget, ipc shm 7
    (95, [w.ipc(3, 7), w.subject(auid=0, pid=104), w.return32(0, 7)], dict(time=T0 + 11)),
    # 6: chmod in zone web-1
    (10, [w.path("/etc/hosts"), w.subject(auid=0, pid=105), w.return32(), w.zonename("web-1")],
     dict(time=T0 + 12)),
    # 7: connect to 93.184.216.34:443
    (w.AUE_CONNECT, [w.sockinet("93.184.216.34", 443), w.subject(auid=501, pid=106),
                     w.return32()], dict(time=T0 + 13)),
    # 8: connect to [2001:db8::1]:443 (sockinet128, port byte-swapped as xnu does)
    (w.AUE_CONNECT, [w.sockinet("2001:db8::1", 443), w.subject(auid=501, pid=106),
                     w.return32(61, -1)], dict(time=T0 + 14)),
    # 9: bind of a unix socket
    (w.AUE_BIND, [w.sockunix("/var/run/x.sock"), w.subject(auid=0, pid=107), w.return32()],
     dict(time=T0 + 15)),
    # 10: event 60001 (in no table), no subject at all
    (60001, [w.text("third party")], dict(time=T0 + 16)),
    # 11: task_for_pid by alice on pid 1 (process32 with auid -1)
    (43048, [_process32(w.UNSET, 1), w.subject(auid=501, pid=108), w.return32(1, -1)],
     dict(time=T0 + 17)),
    # 12: accept (socket_ex) 10.0.0.1:22 <- 198.51.100.7:51544
    (w.AUE_ACCEPT, [w.socket_ex("10.0.0.1", 22, "198.51.100.7", 51544),
                    w.subject(auid=0, pid=109), w.return32(0, 5)], dict(time=T0 + 18)),
    # 13: AUE_openssh (class lo), no return token
    (w.AUE_openssh, [w.subject(auid=502, pid=110, host="2001:db8::9"), w.text("login bob")],
     dict(time=T0 + 19)),
]


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Tables:
    d = tmp_path_factory.mktemp("etc")
    (d / "passwd").write_text("root:*:0:0::/root:/bin/sh\nalice:*:501:20::/Users/alice:/bin/zsh\n"
                              "bob:*:502:20::/Users/bob:/bin/zsh\n")
    (d / "group").write_text("wheel:*:0:root\nstaff:*:20:alice,bob\n")
    classes = ClassTable.bundled()
    return Tables(EventTable.bundled(), classes, Users.from_files(d / "passwd", d / "group"))


@pytest.fixture(scope="module")
def frame(tables) -> pl.DataFrame:
    trail = w.Trail()
    for event, tokens, kw in RECORDS:
        trail.record(event, tokens, **kw)
    result = backends.decode_records(trail.getvalue(), "python")
    frame = derive_records(result.records, "built", tables)
    assert frame.height == len(RECORDS)
    return frame.with_row_index("idx")


def pick(frame, tables, **options) -> list[int]:
    sel = Selection.from_options(tables=tables, tz=UTC, **options)
    expr = sel.expr()
    got = frame if expr is None else frame.filter(expr)
    return got.get_column("idx").to_list()


ALL = list(range(len(RECORDS)))


# ---- nothing, -A, -v -------------------------------------------------------------------------

def test_no_option_keeps_everything(frame, tables):
    sel = Selection.from_options(tables=tables, tz=UTC)
    assert sel.expr() is None and sel.prefilter() == {}
    assert sel.keeps_file_tokens() and not sel.has_criteria
    assert pick(frame, tables) == ALL


def test_all_keeps_every_record_but_no_file_token(frame, tables):
    sel = Selection.from_options(tables=tables, tz=UTC, all=True)
    assert sel.expr() is None and not sel.keeps_file_tokens()
    # -A overrides -a/-b/-d, as in auditreduce
    assert pick(frame, tables, all=True, after="20300101") == ALL
    assert pick(frame, tables, all=True, date="20300101") == ALL


def test_invert(frame, tables):
    assert pick(frame, tables, invert=True) == []
    assert not Selection.from_options(tables=tables, tz=UTC, invert=True).keeps_file_tokens()
    inverted = Selection.from_options(tables=tables, tz=UTC, invert=True, event=["AUE_KILL"])
    assert inverted.keeps_file_tokens() and inverted.prefilter() == {}
    assert pick(frame, tables, invert=True, event=["AUE_KILL"]) == [i for i in ALL if i != 3]
    # records without a subject do not match -u, so -v -u keeps them
    assert 10 in pick(frame, tables, invert=True, auid=["alice"])


# ---- -m ---------------------------------------------------------------------------------------

def test_event_by_name_number_and_or(frame, tables):
    assert pick(frame, tables, event=["AUE_EXECVE"]) == [0]
    assert pick(frame, tables, event=["23"]) == [0]
    assert pick(frame, tables, event=[23, "AUE_KILL"]) == [0, 3]       # ORed; header64_ex too
    assert pick(frame, tables, event=["AUE_OPEN_R"]) == [1]             # header32_ex
    assert pick(frame, tables, event=["60001"]) == [10]                 # not in the table
    assert pick(frame, tables, event="AUE_UNLINK") == [2]               # a bare string
    sel = Selection.from_options(tables=tables, tz=UTC, event=["AUE_EXECVE", 15])
    assert sel.prefilter() == {"events": frozenset({23, 15})}


def test_event_errors(tables):
    with pytest.raises(SelectionError, match="unknown event name 'AUE_NOPE'"):
        Selection.from_options(tables=tables, tz=UTC, event=["AUE_NOPE"])
    with pytest.raises(SelectionError, match="out of range"):
        Selection.from_options(tables=tables, tz=UTC, event=["70000"])


# ---- -c ---------------------------------------------------------------------------------------

def test_class(frame, tables):
    assert pick(frame, tables, klass="ex") == [0]
    assert pick(frame, tables, klass="fr") == [1]
    assert pick(frame, tables, klass="+fr") == []                       # #1 failed
    assert pick(frame, tables, klass="-fr") == [1]
    assert pick(frame, tables, klass="fd") == [2]                       # header64 unlink
    assert pick(frame, tables, klass="lo") == [13]                      # no return: event decides
    assert pick(frame, tables, klass="+lo") == [13]
    assert 10 not in pick(frame, tables, klass="all")                   # not in the table
    everything = pick(frame, tables, klass="all")
    assert pick(frame, tables, klass="all,^fr") == [i for i in everything if i != 1]
    assert pick(frame, tables, klass="no") == []


def test_class_unknown(tables):
    with pytest.raises(SelectionError, match="zz"):
        Selection.from_options(tables=tables, tz=UTC, klass="lo,zz")


def test_class_last_table_line_wins(tmp_path):
    (tmp_path / "audit_class").write_text("0x1000:lo:login\n0x800:ad:admin\n")
    (tmp_path / "audit_event").write_text("6171:AUE_first:first:lo\n6171:AUE_second:second:ad\n")
    classes = ClassTable.from_file(tmp_path / "audit_class")
    tables = Tables(EventTable.from_file(tmp_path / "audit_event", classes=classes), classes,
                    Users())
    trail = w.record(6171, [w.subject(auid=0), w.return32()], time=T0)
    frame = derive_records(backends.decode_records(trail, "python").records, "x", tables)
    def count(klass):
        return frame.filter(Selection.from_options(tables=tables, tz=UTC, klass=klass).expr()).height
    assert count("ad") == 1
    assert count("lo") == 0
    # -m by name resolves to the first entry with that name
    sel = Selection.from_options(tables=tables, tz=UTC, event=["AUE_second"])
    assert sel.events == frozenset({6171})


# ---- users ------------------------------------------------------------------------------------

def test_auid(frame, tables):
    # subject32, subject32_ex and the kill (subject 502, target 501) fails for 501
    assert pick(frame, tables, auid=["alice"]) == [0, 1, 7, 8]
    assert pick(frame, tables, auid=[501]) == [0, 1, 7, 8]
    # 11: task_for_pid: subject 501 but target process auid -1: both must match
    assert pick(frame, tables, auid=["-1"]) == []
    assert pick(frame, tables, auid=["bob"]) == [2, 13]
    # ORed values: the kill #3 (subject bob, target alice) now passes on both tokens
    assert pick(frame, tables, auid=["alice", "bob"]) == [0, 1, 2, 3, 7, 8, 13]


def test_both_subject_and_process_must_match(frame, tables):
    assert pick(frame, tables, euid=[0]) == [1, 4, 5, 6, 9, 12]          # 3: target euid 501
    assert pick(frame, tables, auid=[501], euid=[501]) == [0, 7, 8]
    assert 3 not in pick(frame, tables, auid=[502])
    assert 3 not in pick(frame, tables, auid=[501])


def test_groups_and_real_ids(frame, tables):
    # every subject is written with gid 20; the targets of #3 and #11 have egid 0
    assert pick(frame, tables, egid=["staff"]) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 12, 13]
    assert pick(frame, tables, egid=["staff", "wheel"]) == [i for i in ALL if i != 10]
    assert pick(frame, tables, rgid=["wheel"]) == []      # subjects are written with gid 20
    assert pick(frame, tables, ruid=["bob"]) == [2, 13]
    assert pick(frame, tables, ruid=[0]) == [4, 5, 6, 9, 12]


def test_subject_pid(frame, tables):
    assert pick(frame, tables, pid=[101]) == [1]                         # subject32_ex
    assert pick(frame, tables, pid=["102", 103]) == [2, 3]               # subject64, ORed
    assert pick(frame, tables, pid=[77]) == []                           # a target, not a subject


def test_unknown_names(tables):
    with pytest.raises(SelectionError, match="unknown user name 'mallory'"):
        Selection.from_options(tables=tables, tz=UTC, auid=["mallory"])
    with pytest.raises(SelectionError, match="unknown group name 'admins'"):
        Selection.from_options(tables=tables, tz=UTC, rgid=["admins"])
    with pytest.raises(SelectionError, match="must be a number"):
        Selection.from_options(tables=tables, tz=UTC, pid=["init"])
    with pytest.raises(SelectionError, match="out of range"):
        Selection.from_options(tables=tables, tz=UTC, auid=[1 << 32])


# ---- -o ---------------------------------------------------------------------------------------

def test_file_regexes(frame, tables):
    assert pick(frame, tables, objects=["file=/Users"]) == [1]           # every path must pass
    assert pick(frame, tables, objects=["file=/Users,/tmp"]) == [1, 2]
    assert pick(frame, tables, objects=["file=~/Users/bob,/"]) == [0, 1, 6]
    assert pick(frame, tables, objects=["file=^/bin/ls$"]) == [0]
    assert pick(frame, tables, objects=["file=ls$"]) == [0]              # unanchored
    assert pick(frame, tables, objects=["file=/tmp/y\\,z,/Users/bob"]) == [2]  # \, is a comma
    # two -o file= are one list
    assert pick(frame, tables, objects=["file=/Users", "file=/tmp"]) == [1, 2]
    assert pick(frame, tables, objects=["file="]) == [0, 1, 2, 6]        # any record with a path


def test_split_regexes():
    assert split_regexes("a,~b,c\\,d") == [("a", False), ("b", True), ("c,d", False)]
    assert split_regexes("") == [("", False)]


def test_process_pid_and_ipc(frame, tables):
    assert pick(frame, tables, objects=["pid=77"]) == [3]                # process32_ex target
    assert pick(frame, tables, objects=["pid=1"]) == [11]                # process32
    assert pick(frame, tables, objects=["pid=77", "pid=1"]) == [3, 11]   # ORed
    assert pick(frame, tables, objects=["msgqid=42"]) == [4]
    assert pick(frame, tables, objects=["shmid=7"]) == [5]
    assert pick(frame, tables, objects=["shmid=42"]) == []               # wrong type
    assert pick(frame, tables, objects=["semid=42"]) == []
    assert pick(frame, tables, objects=["msgqid=42", "shmid=7"]) == []   # ANDed across types


def test_sock(frame, tables):
    assert pick(frame, tables, objects=["sock=443"]) == [7, 8]           # IPv6 port swapped
    assert pick(frame, tables, objects=["sock=93.184.216.34"]) == [7]
    assert pick(frame, tables, objects=["sock=93.184.216.34:443"]) == [7]
    assert pick(frame, tables, objects=["sock=93.184.216.34:80"]) == []
    assert pick(frame, tables, objects=["sock=[2001:db8:0::1]:443"]) == [8]
    assert pick(frame, tables, objects=["sock=10.0.0.1:22"]) == [12]     # socket_ex local side
    assert pick(frame, tables, objects=["sock=198.51.100.7:51544"]) == [12]
    assert pick(frame, tables, objects=["sock=/var/run/x.sock"]) == [9]
    assert pick(frame, tables, objects=["sock=22", "sock=443"]) == [7, 8, 12]
    with pytest.raises(SelectionError, match="sock="):
        Selection.from_options(tables=tables, tz=UTC, objects=["sock=example.com"])
    with pytest.raises(SelectionError, match="out of range"):
        Selection.from_options(tables=tables, tz=UTC, objects=["sock=70000"])


def test_object_errors(tables):
    for bad, message in [("file=(", "bad regular expression"), ("nope=1", "unknown object type"),
                         ("pid", "TYPE=VALUE"), ("msgqid=x", "must be a number"),
                         ("pid=", "must be a number")]:
        with pytest.raises(SelectionError, match=message):
            Selection.from_options(tables=tables, tz=UTC, objects=[bad])


# ---- -z ---------------------------------------------------------------------------------------

def test_zone(frame, tables):
    assert pick(frame, tables, zone="web-1") == [6]
    assert pick(frame, tables, zone="web-*") == [6]
    assert pick(frame, tables, zone="web-[0-9]") == [6]
    assert pick(frame, tables, zone="web-[!1]") == []
    assert pick(frame, tables, zone="web") == []                         # whole name
    assert pick(frame, tables, zone="*") == [6]                          # needs a zonename token


@settings(max_examples=300, deadline=None)
@given(st.text("ab*?[]!-.", max_size=6), st.text("ab-].[!", max_size=5))
def test_glob_regex_agrees_with_fnmatch(pattern, name):
    frame = pl.DataFrame({"s": [name]})
    ours = frame.select(pl.col("s").str.contains(glob_regex(pattern))).item()
    assert ours == fnmatch.fnmatchcase(name, pattern)


def test_glob_regex_extras():
    def match(p, s):
        return pl.select(pl.lit(s).str.contains(glob_regex(p))).item()
    assert match("a\\*", "a*") and not match("a\\*", "ab")                # backslash quotes
    assert match("[[:digit:]]x", "7x") and not match("[[:digit:]]x", "ax")
    assert match("[^a]", "b") and not match("[^a]", "a")                 # glibc negation
    assert match("*", "a/b") and match("?", "/")                          # no FNM_PATHNAME
    assert match("[", "[") and match("a[b", "a[b")                       # unterminated bracket


# ---- -a -b -d ---------------------------------------------------------------------------------

def test_after_before_are_inclusive_whole_seconds(frame, tables):
    # 1 is at T0 + 1.5 s: -b T0+1 keeps it (same second), -a T0+2 does not
    assert pick(frame, tables, before="20240315090001") == [0, 1]
    assert pick(frame, tables, after="20240315090002", before="20240315090012") == [4, 5, 6]
    assert pick(frame, tables, after="20240315090001", before="20240315090001") == [1]
    assert pick(frame, tables, after="2024031510") == [2, 3]             # header64(_ex) too
    assert pick(frame, tables, after="20240316") == [3]                  # date only = midnight


def test_date_is_one_day(frame, tables):
    assert pick(frame, tables, date="20240316") == [3]
    assert pick(frame, tables, date="20240315") == [i for i in ALL if i != 3]


def test_dates_are_read_in_tz(frame, tables):
    berlin = ZoneInfo("Europe/Berlin")               # UTC+1 in March 2024
    sel = Selection.from_options(tables=tables, tz=berlin, after="20240315100000")
    assert sel.after_ms == T0 * 1000
    sel = Selection.from_options(tables=tables, tz="Europe/Berlin", date="20240331")
    assert (sel.before_ms - sel.after_ms) == 23 * 3600 * 1000            # DST day: 23 hours
    aware = datetime(2024, 3, 15, 9, 0, 0, tzinfo=UTC)
    assert Selection.from_options(tables=tables, tz=UTC, after=aware).after_ms == T0 * 1000


def test_date_errors(tables):
    cases = [dict(after="20240316", date="20240316"), dict(before="2024", date="20240316"),
             dict(after=("20240316", "20240317")), dict(date="2024-03-16"),
             dict(after="20241301"), dict(date="2024031612"), dict(before="20240316250000")]
    for options in cases:
        with pytest.raises(SelectionError):
            Selection.from_options(tables=tables, tz=UTC, **options)


def test_window_ms(tables):
    sel = Selection.from_options(tables=tables, tz=UTC, after="20240315090000",
                                 before="20240315090000")
    assert sel.window_ms() == (T0 * 1000, T0 * 1000 + 1000)
    inverted = Selection.from_options(tables=tables, tz=UTC, after="20240315", invert=True)
    assert inverted.window_ms() == (None, None)


# ---- combinations, nulls ----------------------------------------------------------------------

def test_options_are_anded(frame, tables):
    assert pick(frame, tables, event=["AUE_CONNECT"], auid=["alice"], klass="+nt") == [7]
    assert pick(frame, tables, event=["AUE_CONNECT"], objects=["sock=443"],
                after="20240315090014") == [8]


def test_expression_never_yields_null(frame, tables):
    for options in [dict(auid=[501]), dict(klass="fr"), dict(objects=["file=x"]),
                    dict(zone="*"), dict(objects=["sock=1"]), dict(after="20240315")]:
        expr = Selection.from_options(tables=tables, tz=UTC, **options).expr()
        assert frame.select(expr.is_null().any()).item() is False


def test_selection_is_hashable(tables):
    a = Selection.from_options(tables=tables, tz=UTC, event=["AUE_EXECVE"], objects=["sock=1"])
    b = Selection.from_options(tables=tables, tz=UTC, event=[23], objects=["sock=1"])
    assert a == b and hash(a) == hash(b)


# ---- the shared realistic trail ---------------------------------------------------------------

@pytest.fixture(scope="module")
def realistic():
    if not (OPENBSM / "trail").is_dir():
        pytest.skip("../shared/fixtures (openbsm trails) is absent")
    classes = ClassTable.from_file(OPENBSM / "etc" / "audit_class")
    tables = Tables(EventTable.from_file(OPENBSM / "etc" / "audit_event", classes=classes),
                    classes,
                    Users.from_files(OPENBSM / "nss" / "passwd", OPENBSM / "nss" / "group"))
    rows = (OPENBSM / "trail" / "realistic.trail.index.tsv").read_text().splitlines()[1:]
    index = {int(r.split("\t")[1]): int(r.split("\t")[0]) for r in rows}
    buf = (OPENBSM / "trail" / "realistic.trail").read_bytes()
    frame = derive_records(backends.decode_records(buf, "python").records, "realistic", tables)
    frame = frame.with_columns(pl.col("offset").replace_strict(index, return_dtype=pl.Int64)
                               .alias("idx"))
    return frame, tables


@pytest.mark.parametrize("options, expected", [
    (dict(event=["AUE_sudo"]), [15]),
    (dict(event=["AUE_ACCEPT"]), [30, 31]),
    (dict(event=["AUE_DARWIN_audit_startup"]), [38]),      # second entry of 6171
    (dict(klass="aa"), [14, 15, 36]),
    (dict(klass="ad", after="20240316091016"), [38, 41]),  # 6171: the last line (ad) wins
    (dict(auid=["alice"]), [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 19, 20, 21,
                            39, 40]),
    (dict(pid=[1202]), [6, 7, 8, 9, 10, 12, 13]),
    (dict(objects=["pid=2250"]), [28]),                     # process64
    (dict(objects=["pid=2260"]), [29]),                     # process32_ex
    (dict(objects=["file=~/Users/bob,/Users"]), [4]),
    (dict(objects=["semid=196608"]), [21]),
    (dict(objects=["sock=8080"]), [32]),
    (dict(zone="glob*"), [26]),
    (dict(date="20240317"), [40, 41]),
])
def test_realistic_trail(realistic, options, expected):
    frame, tables = realistic
    sel = Selection.from_options(tables=tables, tz="UTC", **options)
    assert frame.filter(sel.expr()).get_column("idx").to_list() == expected


# ---- click ------------------------------------------------------------------------------------

def _command(object_short=True):
    seen = {}

    @click.command()
    @click_options(object_short=object_short)
    def cmd(**options):
        seen.update(options)

    return cmd, seen


def test_click_options_names_match_load_and_from_options():
    cmd, seen = _command()
    result = CliRunner().invoke(cmd, [
        "-m", "AUE_EXECVE", "--event", "15", "-c", "lo", "-u", "alice", "--euid", "0",
        "-f", "staff", "-r", "1", "-g", "2", "-j", "3", "-o", "pid=4", "--path", "/a,b",
        "-z", "g*", "-a", "20240316", "-b", "20240317", "-v", "-A", "--since", "today",
        "--until", "now", "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    assert seen["event"] == ("AUE_EXECVE", "15") and seen["klass"] == "lo"
    assert seen["auid"] == ("alice",) and seen["euid"] == ("0",) and seen["egid"] == ("staff",)
    assert seen["objects"] == ("pid=4", "file=/a\\,b")
    assert seen["after"] == ("20240316",) and seen["date"] == ()
    assert seen["invert"] and seen["all"] and seen["tz"] == "UTC"
    assert {"since", "until", "audit_event", "audit_class", "passwd", "group",
            "dslocal"} <= set(seen)
    from inspect import signature
    accepted = set(signature(Selection.from_options).parameters)
    selection_keys = set(seen) - {"since", "until", "tz", "audit_event", "audit_class",
                                  "passwd", "group", "dslocal"}
    assert selection_keys <= accepted


def test_click_options_without_short_o():
    cmd, seen = _command(object_short=False)
    assert CliRunner().invoke(cmd, ["-o", "file=x"]).exit_code != 0
    result = CliRunner().invoke(cmd, ["--object", "file=x", "--path", "y"])
    assert result.exit_code == 0 and seen["objects"] == ("file=x", "file=y")
