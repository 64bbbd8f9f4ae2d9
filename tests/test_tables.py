"""Tests for forensics.tables: event/class tables, users and groups, BSM errno."""

from __future__ import annotations

import plistlib
from pathlib import Path

import polars as pl
import pytest

from forensics.tables import DATA_DIR, ClassTable, EventTable, TableError, Users, bsm_errno

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
ETC = SHARED / "openbsm" / "etc"
APPLE = ETC / "apple-OpenBSM-21"
NSS = SHARED / "openbsm" / "nss"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="shared fixtures (../shared/fixtures) not present"
)

CLASS_TEXT = b"""\
# test classes
0x00000000:no:invalid class
0x00000001:fr:file read
0x00000002:fw:file write
0x00000010:fc:file create
0x00000080:pc:process
0x00001000:lo:login_logout
0x00002000:aa:authentication and authorization
0x40000000:ex:exec
0xffffffff:all:all flags set
"""


@pytest.fixture
def classes(tmp_path) -> ClassTable:
    path = tmp_path / "audit_class"
    path.write_bytes(CLASS_TEXT)
    return ClassTable.from_file(path)


def events_from(tmp_path, text: bytes, classes: ClassTable) -> EventTable:
    path = tmp_path / "audit_event"
    path.write_bytes(text)
    return EventTable.from_file(path, classes=classes)


# ----------------------------------------------------------------- bundled tables


def test_bundled_events_macos_numbering():
    events = EventTable.bundled()
    classes = ClassTable.bundled()
    assert events.name(23) == "AUE_EXECVE"
    assert events.description(23) == "execve(2)"
    assert classes.names(events.class_mask(23)) == ["pc", "ex"]
    assert events.name(43190) == "AUE_POSIX_SPAWN"
    assert classes.names(events.class_mask(43190)) == ["pc"]
    assert events.name(43210) == "AUE_CLONEFILEAT"  # xnu, not upstream's AUE_PREADV
    assert events.name(280) == "AUE_OPENAT_RWT" and events.name(281) == "AUE_OPENAT_RWTC"
    for number, name in [(44901, "AUE_SESSION_START"), (44902, "AUE_SESSION_UPDATE"),
                         (44903, "AUE_SESSION_END"), (44904, "AUE_SESSION_CLOSE")]:
        assert events.name(number) == name
        assert events.class_mask(number) == classes.mask("aa")
    assert events.description(44903) == "session end"
    assert events.name(45028) == "AUE_sudo"
    assert events.number("AUE_openssh") == 32800
    # Apple lineage: 6171 twice, first line names it, last line classes it.
    assert events.name(6171) == "AUE_ftpd_logout"
    assert events.class_mask(6171) == classes.mask("ad")
    # 'ua' is not a class: the whole mask is 0.
    assert events.name(6214) == "AUE_kadmind_auth" and events.class_mask(6214) == 0
    assert events.description(43082) == "rtprio(2)"
    assert events.name(12345) is None and events.class_mask(12345) == 0


def test_bundled_classes():
    classes = ClassTable.bundled()
    assert classes.mask("fr") == 0x1
    assert classes.mask("lo") == 0x1000
    assert classes.mask("aa") == 0x2000
    assert classes.mask("ex") == 0x40000000
    assert classes.mask("ot") == 0x80000000
    assert classes.mask("all") == 0xFFFFFFFF
    assert classes.mask("xx") is None
    assert classes.names(0) == []
    assert classes.names(0x3000) == ["lo", "aa"]
    assert classes.names(0xFFFFFFFF)[-1] == "all"


def test_bundled_frame():
    frame = EventTable.bundled().frame(ClassTable.bundled())
    assert frame.schema == pl.Schema({
        "event": pl.UInt16,
        "event_name": pl.String,
        "event_description": pl.String,
        "event_class_mask": pl.UInt32,
        "event_classes": pl.List(pl.String),
    })
    assert frame["event"].n_unique() == frame.height > 600
    row = frame.filter(pl.col("event") == 6171).row(0, named=True)
    assert row["event_name"] == "AUE_ftpd_logout"
    assert row["event_class_mask"] == 0x800
    assert row["event_classes"] == ["ad"]
    row = frame.filter(pl.col("event") == 7).row(0, named=True)
    assert row["event_classes"] == ["pc", "ex"]


def test_bundled_data_is_not_a_copy():
    data = DATA_DIR
    for name in ["audit_event.tsv", "audit_class.tsv", "bsm_errno.tsv"]:
        assert (data / name).is_file()
    if SHARED.is_dir():
        ours = {p.read_bytes() for p in data.iterdir() if p.is_file()}
        for path in ETC.rglob("*"):
            if path.is_file():
                assert path.read_bytes() not in ours


# ----------------------------------------------------------------- evidence files


@needs_shared
def test_upstream_audit_event():
    classes = ClassTable.from_file(ETC / "audit_class")
    events = EventTable.from_file(ETC / "audit_event", classes=classes)
    assert events.name(280) == "AUE_OPENAT_RWT"
    assert events.name(281) == "AUE_OPENAT_RWTC"
    assert events.name(43187) == "AUE_CAP_RIGHTS_GET"
    assert events.name(43210) == "AUE_PREADV"
    assert events.name(44901) is None  # OpenBSM has no session events
    assert events.name(6171) == "AUE_ftpd_logout"
    assert events.description(6171) == "ftp logout"
    assert events.class_mask(6171) == classes.mask("ad")  # last line wins
    assert events.number("AUE_DARWIN_audit_startup") == 6171
    assert events.class_mask(6214) == 0  # 'ua' is undefined
    assert events.name(6214) == "AUE_kadmind_auth"


@needs_shared
def test_apple_audit_event():
    classes = ClassTable.from_file(APPLE / "audit_class")
    events = EventTable.from_file(APPLE / "audit_event", classes=classes)
    assert events.name(280) == "AUE_OPENAT_RWTC"  # Apple's label
    assert events.name(281) is None
    assert events.name(43187) == "AUE_CAP_GETRIGHTS"
    assert events.name(43196) is None and events.name(43210) is None
    # 43082:AUE_RTPRIO::rtprio(2):pc -- the empty field collapses.
    assert events.name(43082) == "AUE_RTPRIO"
    assert events.description(43082) == "rtprio(2)"
    assert events.class_mask(43082) == classes.mask("pc")
    assert events.name(6171) == "AUE_ftpd_logout"
    assert events.class_mask(6171) == 0x800
    assert events.frame(classes).filter(pl.col("event") == 6171)["event_classes"].to_list() == [["ad"]]
    assert classes.mask("aa") == 0x2000


@needs_shared
def test_bundled_agrees_with_apple_table():
    apple = EventTable.from_file(APPLE / "audit_event", ClassTable.from_file(APPLE / "audit_class"))
    bundled = EventTable.bundled()
    for number in apple.frame()["event"].to_list():
        if number == 280:
            continue
        assert bundled.name(number) == apple.name(number), number
        assert bundled.description(number) == apple.description(number), number
        assert bundled.class_mask(number) == apple.class_mask(number), number


def test_first_and_last_match(tmp_path, classes):
    events = events_from(tmp_path, b"6171:AUE_first:first line:lo\n"
                                   b"6171:AUE_second:second line:pc,ex\n", classes)
    assert events.name(6171) == "AUE_first"
    assert events.description(6171) == "first line"
    assert events.class_mask(6171) == 0x40000080  # auditreduce: the last line wins
    assert events.number("AUE_second") == 6171
    assert events.frame(classes).filter(pl.col("event") == 6171).row(0) == (
        6171, "AUE_first", "first line", 0x40000080, ["pc", "ex"])


def test_unknown_class_zeroes_the_whole_event(tmp_path, classes):
    events = events_from(tmp_path, b"1:AUE_A:a:pc,zz\n2:AUE_B:b:pc,ex\n3:AUE_C:c\n"
                                   b"4:AUE_D\n5:AUE_E:e:,pc,,\n", classes)
    assert events.class_mask(1) == 0
    assert events.class_mask(2) == 0x40000080
    assert events.class_mask(3) == 0 and events.description(3) == "c"
    assert events.name(4) == "AUE_D" and events.description(4) == ""
    assert events.class_mask(5) == 0x80


def test_empty_fields_collapse(tmp_path, classes):
    events = events_from(tmp_path, b"43082:AUE_RTPRIO::rtprio(2):pc\n::7::AUE_X:::x::pc::\n",
                         classes)
    assert (events.name(43082), events.description(43082)) == ("AUE_RTPRIO", "rtprio(2)")
    assert events.class_mask(43082) == 0x80
    assert (events.name(7), events.description(7), events.class_mask(7)) == ("AUE_X", "x", 0x80)


def test_hex_and_octal_class_masks(tmp_path):
    path = tmp_path / "audit_class"
    path.write_bytes(b"0x10:fc:file create\n010:oc:octal eight\n"
                     b"4096:lo:login\n0XFFFFFFFF:all:all\n0x1ffffffff:big:wraps to 32 bits\n")
    classes = ClassTable.from_file(path)
    assert classes.mask("fc") == 0x10
    assert classes.mask("oc") == 8
    assert classes.mask("lo") == 0x1000
    assert classes.mask("all") == 0xFFFFFFFF
    assert classes.mask("big") == 0xFFFFFFFF
    events = events_from(tmp_path, b"1:AUE_X:x:fc,oc\n", classes)
    assert events.class_mask(1) == 0x18


def test_class_enumeration_stops_at_bad_line(tmp_path):
    path = tmp_path / "audit_class"
    path.write_bytes(b"#c\n0x1:fr:file read\n\n0x2:fw:file write\n")
    classes = ClassTable.from_file(path)
    assert classes.mask("fr") == 1
    assert classes.mask("fw") is None  # libbsm stops at the blank line
    too_long = tmp_path / "long"
    too_long.write_bytes(b"0x1:fr:file read\n0x2:toolongname:x\n0x4:fa:attr\n")
    assert ClassTable.from_file(too_long).mask("fa") is None


def test_unparsable_event_lines(tmp_path, classes):
    long_name = b"AUE_" + b"N" * 26  # 30 bytes: too long
    long_desc = b"d" * 50
    text = (b"# comment: with colon\n"
            b"1:AUE_ONE:one:pc\n"
            b"2:" + long_name + b":two:pc\n"
            b"3:AUE_THREE:" + long_desc + b":pc\n"
            b"garbage\n"
            b"4:AUE_FOUR:four:lo\n"
            b"1:AUE_ONE_AGAIN:again:lo\n")
    events = events_from(tmp_path, text, classes)
    assert events.name(2) is None and events.name(3) is None
    assert events.name(4) == "AUE_FOUR"  # lookups skip bad lines
    assert events.name(1) == "AUE_ONE"
    # auditreduce's cache stopped at line 3: 4 has no class, 1 keeps its first mask.
    assert events.class_mask(4) == 0
    assert events.class_mask(1) == 0x80
    # getauevnum() does not skip comments: "# comment" is event atoi() = 0 here.
    assert events.name(0) == " with colon"
    assert events.class_mask(0) == 0
    assert sorted(events.frame()["event"].to_list()) == [0, 1, 4]


def test_line_buffer_and_odd_bytes(tmp_path, classes):
    text = (b"6:AUE_SIX:caf\xe9 \xff:pc\n"
            b"7:AUE_SEVEN\x00:junk:pc\n"
            b"-1:AUE_NEG:neg:pc\n"
            b"70000:AUE_WRAP:wrap:pc\n"
            b"  8xyz:AUE_EIGHT:eight:lo\n"
            # fgets(256): the 255 bytes of a comment, then its tail is read as a line of its own
            b"# " + b"x" * 253 + b"9:AUE_TAIL:tail:ex\n"
            b"5:AUE_FIVE:five:pc" + b"," * 300 + b"\n"  # the tail ",,,," does not parse
            b"10:AUE_TEN:ten:pc")
    events = events_from(tmp_path, text, classes)
    assert events.description(6).startswith("caf")
    assert events.frame()["event_description"].dtype == pl.String
    assert events.class_mask(6) == 0x80
    assert events.description(7) == ""  # the NUL ends the line
    assert events.class_mask(7) == 0
    assert events.name(65535) == "AUE_NEG"
    assert events.name(70000 & 0xFFFF) == "AUE_WRAP"
    assert events.name(8) == "AUE_EIGHT" and events.class_mask(8) == 0x1000
    assert events.name(9) == "AUE_TAIL" and events.class_mask(9) == 0x40000000
    assert events.name(5) == "AUE_FIVE" and events.class_mask(5) == 0x80
    # auditreduce's enumeration ended at the unparsable tail of line 5.
    assert events.name(10) == "AUE_TEN" and events.class_mask(10) == 0


def test_missing_and_empty_files(tmp_path):
    missing = tmp_path / "nope" / "audit_event"
    with pytest.raises(TableError, match=str(missing)):
        EventTable.from_file(missing)
    with pytest.raises(TableError, match="audit_class"):
        ClassTable.from_file(tmp_path / "nope" / "audit_class")
    with pytest.raises(TableError):
        EventTable.from_file(tmp_path)  # a directory
    empty = tmp_path / "empty"
    empty.write_bytes(b"# nothing here\n")
    with pytest.raises(TableError, match="no audit events"):
        EventTable.from_file(empty)


# ----------------------------------------------------------------- flags


def test_parse_flags(classes):
    assert classes.parse_flags("lo") == (0x1000, 0x1000)
    assert classes.parse_flags("+fr") == (0x1, 0)
    assert classes.parse_flags("-fw") == (0, 0x2)
    assert classes.parse_flags("lo,+fr,-fw") == (0x1001, 0x1002)
    assert classes.parse_flags("all,^ex") == (0xBFFFFFFF, 0xBFFFFFFF)
    assert classes.parse_flags("all,^+fc") == (0xFFFFFFEF, 0xFFFFFFFF)
    assert classes.parse_flags("all,^-pc") == (0xFFFFFFFF, 0xFFFFFF7F)
    assert classes.parse_flags("lo,+fr,-fw,^ex,^+fc") == (0x1001, 0x1002)
    assert classes.parse_flags("fr,^fr,fw") == (0x2, 0x2)
    assert classes.parse_flags("") == (0, 0)
    assert classes.parse_flags(",,lo,,") == (0x1000, 0x1000)
    assert classes.parse_flags("no") == (0, 0)


def test_parse_flags_unknown_class(classes):
    with pytest.raises(TableError, match=r"^unknown audit class 'xx'$"):
        classes.parse_flags("lo,xx")
    with pytest.raises(TableError, match="unknown audit class 'zz'"):
        classes.parse_flags("^-zz")
    with pytest.raises(TableError, match="unknown audit class ' fr'"):
        classes.parse_flags("lo, fr")  # no whitespace trimming, like libbsm
    with pytest.raises(TableError):
        ClassTable.bundled().parse_flags("+^fr")  # '^' must come first


# ----------------------------------------------------------------- users


@needs_shared
def test_users_from_nss_files():
    users = Users.from_files(passwd=NSS / "passwd", group=NSS / "group")
    assert users.uid("alice") == 501 and users.user_name(501) == "alice"
    assert users.uid("bob") == 502 and users.user_name(502) == "bob"
    assert users.user_name(0) == "root"
    assert users.uid("nobody") == 4294967294
    assert users.user_name(4294967294) == "nobody"
    assert users.gid("staff") == 20 and users.group_name(20) == "staff"
    assert users.group_name(0) == "wheel" and users.group_name(80) == "admin"
    assert users.gid("nobody") == 4294967294
    assert users.uid("mallory") is None and users.group_name(12345) is None


def test_users_master_passwd_and_macos_quirks(tmp_path):
    passwd = tmp_path / "master.passwd"
    passwd.write_bytes(
        b"##\n# User Database\n##\n"
        b"nobody:*:-2:-2::0:0:Unprivileged User:/var/empty:/usr/bin/false\n"
        b"root:*:0:0::0:0:System Administrator:/var/root:/bin/sh\n"
        b"caf\xe9:*:503:20::0:0:Latin-1 name:/Users/x:/bin/zsh\n"
        b"broken line\n"
        b"+:::::::::\n"
        b"toor:*:0:0::0:0:Bourne-again Superuser:/root:\n"
    )
    group = tmp_path / "group"
    group.write_bytes(b"nogroup:*:-1:\nwheel:*:0:root\r\nstaff:*:20:root\n")
    users = Users.from_files(passwd=passwd, group=group)
    assert users.user_name(4294967294) == "nobody"
    assert users.user_name(0) == "root"  # first entry wins
    assert users.uid("toor") == 0
    assert users.user_name(503) is not None
    assert users.group_name(4294967295) == "nogroup"
    assert users.gid("wheel") == 0 and users.gid("staff") == 20


def test_users_empty_by_default():
    users = Users.from_files()
    assert users.user_name(0) is None
    assert users.uid("root") is None
    assert users.group_name(0) is None
    assert users.gid("wheel") is None


def _write_dslocal(root: Path) -> Path:
    default = root / "Default"
    (default / "users").mkdir(parents=True)
    (default / "groups").mkdir()
    (default / "aliases").mkdir()
    records = {
        "users/alice.plist": ({"name": ["alice"], "uid": ["501"], "gid": ["20"],
                               "realname": ["Alice Example"]}, plistlib.FMT_BINARY),
        "users/nobody.plist": ({"name": ["nobody"], "uid": ["-2"], "gid": ["-2"]},
                               plistlib.FMT_XML),
        "users/_www.plist": ({"name": ["_www", "www"], "uid": ["70"]}, plistlib.FMT_BINARY),
        "groups/staff.plist": ({"name": ["staff", "BUILTIN\\Users"], "gid": ["20"],
                                "users": ["root"]}, plistlib.FMT_BINARY),
        "groups/admin.plist": ({"name": ["admin"], "gid": ["80"]}, plistlib.FMT_XML),
        "aliases/junk.plist": ({"name": ["junk"], "uid": ["999"]}, plistlib.FMT_XML),
    }
    for rel, (record, fmt) in records.items():
        (default / rel).write_bytes(plistlib.dumps(record, fmt=fmt))
    (default / "users" / "._alice.plist").write_bytes(b"\x00\x05\x16\x07 AppleDouble junk")
    (default / "users" / "broken.plist").write_bytes(b"<?xml not really")
    return default


def test_users_from_dslocal(tmp_path):
    users = Users.from_files(dslocal=_write_dslocal(tmp_path))
    assert users.user_name(501) == "alice" and users.uid("alice") == 501
    assert users.user_name(4294967294) == "nobody"
    assert users.user_name(70) == "_www" and users.uid("www") == 70
    assert users.group_name(20) == "staff" and users.gid("BUILTIN\\Users") == 20
    assert users.gid("admin") == 80
    assert users.group_name(501) is None  # a user's primary gid is not a group record
    assert users.user_name(999) is None  # only users/ and groups/ are read


def test_users_dslocal_bare_users_folder(tmp_path):
    default = _write_dslocal(tmp_path)
    users = Users.from_files(dslocal=default / "users")
    assert users.user_name(501) == "alice"
    assert users.group_name(20) is None


def test_users_dslocal_wins_over_passwd(tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("olduser:*:501:20::/Users/x:/bin/sh\nbob:*:502:20::/Users/bob:/bin/sh\n")
    users = Users.from_files(passwd=passwd, dslocal=_write_dslocal(tmp_path))
    assert users.user_name(501) == "alice"
    assert users.user_name(502) == "bob"
    assert users.uid("olduser") == 501


def test_users_missing_files(tmp_path):
    with pytest.raises(TableError, match="passwd"):
        Users.from_files(passwd=tmp_path / "passwd")
    with pytest.raises(TableError, match="group"):
        Users.from_files(group=tmp_path / "group")
    with pytest.raises(TableError, match="dslocal"):
        Users.from_files(dslocal=tmp_path / "nodes")


# ----------------------------------------------------------------- errno


def test_bsm_errno():
    assert bsm_errno(0) == ("ESUCCESS", "Success")
    assert bsm_errno(1) == ("EPERM", "Operation not permitted")
    assert bsm_errno(2) == ("ENOENT", "No such file or directory")
    assert bsm_errno(13) == ("EACCES", "Permission denied")
    assert bsm_errno(16) == ("EBUSY", "Device busy")  # glibc: "Device or resource busy"
    assert bsm_errno(35) == ("ENOMSG", "No message of desired type")  # BSM numbering
    assert bsm_errno(150) == ("EINPROGRESS", "Operation now in progress")
    assert bsm_errno(207) == ("EBADARCH", "Bad CPU type in executable")
    assert bsm_errno(61) is None and bsm_errno(250) is None


@needs_shared
def test_bsm_errno_matches_reference():
    lines = (ETC / "bsm_errno.tsv").read_text().splitlines()[1:]
    assert len(lines) > 150
    for line in lines:
        number, name, _linux, _linux_text, bsd_text = line.split("\t")
        assert bsm_errno(int(number)) == (name.removeprefix("BSM_ERRNO_"), bsd_text)
