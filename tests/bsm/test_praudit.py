"""``knox-report praudit``: byte parity with OpenBSM praudit's goldens, and the documented places
where knox-report prints more than praudit (which loses data there).

Every golden in ../shared/fixtures is run through the click command (CliRunner, bytes, TZ=UTC,
the fixture's audit_event, passwd and group). praudit ran on Linux, so its ``return`` failure
texts are glibc's: they are mapped to what praudit prints on macOS with etc/bsm_errno.tsv first
(BSD wording; ``failure: Unknown error: N`` for a BSM errno macOS has no errno for). The
goldens that must differ are listed in ``KNOWN_DIFFERENCES`` (with the reason); for them the
expected output is the golden with exactly the documented changes applied (the exact new text
is spelled out below), and a golden changes iff it is listed.
"""

from __future__ import annotations

import fnmatch
import io
import re
import struct
import xml.etree.ElementTree as ET
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from click.testing import CliRunner

from forensics.bsm import tokens
from forensics.bsm.praudit import render, values, xml_escape
from forensics.cli.praudit import praudit
from forensics.tables import EventTable, Users

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
OPENBSM = FIXTURES / "openbsm"
HAVE_FIXTURES = FIXTURES.is_dir()
needs_fixtures = pytest.mark.skipif(not HAVE_FIXTURES,
                                    reason="../shared/fixtures is absent (no praudit goldens)")

MODES = {"": [], "-d": ["-d", "|"], "-l": ["-l"], "-ln": ["-l", "-n"], "-n": ["-n"],
         "-r": ["-r"], "-s": ["-s"], "-x": ["-x"], "-xn": ["-x", "-n"],
         "-pl": ["-p", "-l"], "-pln": ["-p", "-l", "-n"]}
ALL = frozenset(MODES)
XML = frozenset({"-x", "-xn"})
RAW = frozenset({"-r"})
_GOLDEN = re.compile(r"(.*)\.praudit(-\w+)?$")


def _goldens():
    """(test id, golden path, input paths, mode) for every praudit golden."""
    if not HAVE_FIXTURES:
        return []
    found = []
    folders = [(OPENBSM / d, OPENBSM / d) for d in
               ("tokens", "records", "trail", "upstream-reference/reference",
                "upstream-reference/samples")]
    folders.append((FIXTURES / "real" / "praudit", FIXTURES / "real"))
    for folder, inputs in folders:
        for golden in sorted(folder.iterdir()):
            m = _GOLDEN.match(golden.name)
            if m:
                names = m.group(1).split("+")
                found.append((str(golden.relative_to(FIXTURES)), golden,
                              [inputs / n for n in names], m.group(2) or ""))
    return found


GOLDENS = _goldens()

# ---------------------------------------------------------------------------------------------
# running the command

_runner = CliRunner()


def run(*args, tables=True, env=None, input=None):
    extra = []
    if tables:
        extra = ["--passwd", str(OPENBSM / "nss" / "passwd"), "--group",
                 str(OPENBSM / "nss" / "group"), "--audit-event",
                 str(OPENBSM / "etc" / "audit_event")]
    result = _runner.invoke(praudit, [*extra, *map(str, args)], env={"TZ": "UTC", **(env or {})},
                            input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def stdout_of(*args, **kw) -> bytes:
    result = run(*args, **kw)
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


# ---------------------------------------------------------------------------------------------
# golden -> expected: errno wording

# BSM errnos that macOS's <sys/errno.h> does not define for user space (xnu bsd/sys/errno.h):
# libbsm maps them to no local errno, so praudit on macOS prints "failure: Unknown error: N".
NOT_ON_MACOS = values.NOT_ON_MACOS      # one list, the renderer's own


def _errno_rows():
    lines = (OPENBSM / "etc" / "bsm_errno.tsv").read_text().splitlines()[1:]
    return [line.split("\t") for line in lines]


def _errno_map() -> dict[bytes, bytes]:
    """glibc's text in the golden -> what praudit prints on macOS (BSD wording, or praudit's
    "Unknown error" when macOS has no such errno)."""
    mapping = {}
    for bsm, name, local, linux, bsd in _errno_rows():
        if bsm == "0":
            continue
        key = linux if local == "-1" else "failure : " + linux   # "-1": no local errno
        if name.removeprefix("BSM_ERRNO_") in NOT_ON_MACOS:
            value = f"failure: Unknown error: {bsm}"
        else:
            value = "failure : " + bsd
        mapping.setdefault(key.encode(), value.encode())   # EDEADLK before EDEADLOCK
    return mapping


_FAILURE = re.compile(rb"failure : [^,|\n\"]+|failure: Unknown error: \d+")


def map_errno(golden: bytes, mode: str) -> bytes:
    """glibc strerror texts -> the BSD/macOS texts knox-report prints."""
    table = _errno_map()

    def sub(m):
        new = table.get(m.group(0), m.group(0))
        return xml_escape(new, True) if mode in XML else new
    return _FAILURE.sub(sub, golden)


# ---------------------------------------------------------------------------------------------
# the documented differences, spelled out

HEX_LS = ("00000001000d636f6d2e6170706c652e6c7300000001000000143a5e5e81097c4d22910faa176be04233c18e"
          "7504")
HEX_CURL = ("00000001000f636f6d2e6170706c652e6375726c0000000100000014d4019b772e6af01358c204ee913d8a"
            "602b7f11c9")
HEX_SSHD = ("00000002000f636f6d2e6170706c652e7373686400000001000000143a5e5e81097c4d22910faa176be042"
            "33c18e7504")
HEX_TEAM = ("000000020011636f6d2e6578616d706c652e746f6f6c0000000b4142434445313233343500000014d4019b"
            "772e6af01358c204ee913d8a602b7f11c9")
HEX_CERT = "0000000238623266666236616333633164653863003131663362383961306532643463373700"
HEX_KRB = "00000001626f62404558414d504c452e434f4d00"
HEX_CERT_KRB = HEX_CERT + "ee" + HEX_KRB    # realistic.trail: krb5_principal after cert_hash

ID_LS = ["identity", "1", "com.apple.ls", "complete", "", "complete",
         "0x3a5e5e81097c4d22910faa176be04233c18e7504"]
ID_CURL = ["identity", "1", "com.apple.curl", "complete", "", "complete",
           "0xd4019b772e6af01358c204ee913d8a602b7f11c9"]
ID_SSHD = ["identity", "2", "com.apple.sshd", "complete", "", "complete",
           "0x3a5e5e81097c4d22910faa176be04233c18e7504"]
ID_TEAM = ["identity", "2", "com.example.tool", "complete", "ABCDE12345", "complete",
           "0xd4019b772e6af01358c204ee913d8a602b7f11c9"]
CERT = ["cert_hash", "8b2ffb6ac3c1de8c", "11f3b89a0e2d4c77"]
KRB = ["krb5_principal", "bob@EXAMPLE.COM"]
TOKEN_IDS = {"identity": 237, "krb5_principal": 238, "cert_hash": 239}

# hex that praudit printed as "unknown" -> (id of the unknown byte, the tokens knox-report prints)
TEXT_UNKNOWN = {HEX_LS: (0xED, [ID_LS]), HEX_CURL: (0xED, [ID_CURL]),
                HEX_SSHD: (0xED, [ID_SSHD]), HEX_TEAM: (0xED, [ID_TEAM]),
                HEX_CERT: (0xEF, [CERT]), HEX_KRB: (0xEE, [KRB]),
                HEX_CERT_KRB: (0xEF, [CERT, KRB])}


def _x_identity(signer, sid, team, cdhash):
    return (f'<identity signer-type="{signer}" signing-id="{sid}" signing-id-truncated="no" '
            f'team-id="{team}" team-id-truncated="no" cdhash="{cdhash}" />')


X_LS = _x_identity(1, "com.apple.ls", "", ID_LS[-1])
X_CURL = _x_identity(1, "com.apple.curl", "", ID_CURL[-1])
X_SSHD = _x_identity(2, "com.apple.sshd", "", ID_SSHD[-1])
X_TEAM = _x_identity(2, "com.example.tool", "ABCDE12345", ID_TEAM[-1])
X_CERT = "<cert_hash><hash>8b2ffb6ac3c1de8c</hash><hash>11f3b89a0e2d4c77</hash></cert_hash>"
X_KRB = "<krb5_principal><principal>bob@EXAMPLE.COM</principal></krb5_principal>"
X_UNKNOWN_MIDDLE = '<unknown id="254" data="0x0102032300072f616674657200270000000000" />'
_X_REALISTIC = [X_LS, X_CURL, X_SSHD, X_CERT + "\n" + X_KRB]
# In XML praudit prints an empty line for each unknown token: what knox-report prints instead.
XML_UNKNOWN = {"identity_record": [X_LS], "identity_team_record": [X_TEAM],
               "cert_hash_record": [X_CERT], "krb5_principal_record": [X_KRB],
               "unknown_middle_record": [X_UNKNOWN_MIDDLE], "realistic.trail": _X_REALISTIC,
               "crash-truncated.trail": _X_REALISTIC}

TEXT_XMLCHARS_X = ("<text>a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos; \\^A\t\\M-C\\M-)</text>")
LITERAL_XML = [
    # text, path and the other strings are escaped like praudit's exec_args (entities + vis)
    (b"<text>a<b>&\"c\" 'd' \x01\t\xc3\xa9</text>", TEXT_XMLCHARS_X.encode()),
    (b"<text>Verify password for record type Users 'alice' node '/Local/Default'</text>",
     b"<text>Verify password for record type Users &apos;alice&apos; node "
     b"&apos;/Local/Default&apos;</text>"),
]

KNOWN_DIFFERENCES = [
    # (input name pattern, modes, why)
    ("identity_record", ALL, "Apple identity token (0xED): praudit prints it as unknown hex"),
    ("identity_team_record", ALL, "Apple identity token (0xED)"),
    ("cert_hash_record", ALL, "Apple cert_hash token (0xEF)"),
    ("krb5_principal_record", ALL, "Apple krb5_principal token (0xEE)"),
    ("realistic.trail", ALL, "identity/cert_hash/krb5_principal tokens and the tokens after "
                             "them; XML fixes; -r header32_ex"),
    ("crash-truncated.trail", ALL, "as realistic.trail (the records before the cut)"),
    ("garbage-between-records.trail", ALL, "praudit stops at the 5 inserted bytes; knox-report "
                                           "resyncs and prints the 33 records after them"),
    ("starts-mid-record.trail", ALL, "praudit prints nothing (with -p: a bogus record from "
                                     "inside the data); knox-report resyncs to the next record"),
    ("*-scuffed-size", ALL, "first record's size is 0xffffffff: praudit stops; knox-report "
                            "frames it by its intact trailer and prints every record"),
    ("unknown_middle_record", XML, "praudit prints an empty line for an unknown token in XML"),
    ("text_xmlchars_record", XML, "praudit does not escape text in XML"),
    ("data_record", XML, "a NUL byte printed raw inside XML"),
    ("hdr32ex-IPv*_record", XML | RAW, "header32_ex tests RAW where it means XML: invalid XML "
                                       "in -x, XML attributes in -r"),
    ("header32ex-IPv*_token", XML | RAW, "header32_ex -x/-r bug"),
    ("header32_tm_token", XML, "a record without trailer leaves <record> open"),
    ("header64_token", XML, "a record without trailer leaves <record> open"),
    ("newgroups_record", XML, "XML group closes </group> after every gid"),
    ("groups16_record", XML, "XML group closes </group> after every gid"),
    ("ipc_record", XML, "XML IPC element lacks the space before its first attribute"),
    ("privset_record", XML, "XML privilege has no element, only attributes"),
    ("upriv_record", XML, "XML use of privilege has no element"),
    ("arg_uuid_record", XML, "XML arg_uuid has no element"),
    ("ret_uuid_record", XML, "XML ret_uuid has no element"),
]


def _listed(name: str, mode: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pat) and mode in modes
               for pat, modes, _why in KNOWN_DIFFERENCES)


def _fix_text(golden: bytes, mode: str) -> bytes:
    delim = b"|" if mode == "-d" else b","
    sep = delim if "l" in mode else b"\n"
    for hx, (old_id, toks) in sorted(TEXT_UNKNOWN.items(), key=lambda kv: -len(kv[0])):
        old_label = b"%d" % old_id if mode in RAW else b"unknown"
        new = sep.join(delim.join([(b"%d" % TOKEN_IDS[t[0]] if mode in RAW else t[0].encode()),
                                   *(f.encode() for f in t[1:])]) for t in toks)
        golden = golden.replace(old_label + delim + b"0x" + hx.encode(), new)
    if mode in RAW:   # header32_ex in -r: XML attributes -> the comma form
        lines = golden.split(b"\n")
        for i, line in enumerate(lines):
            m = re.match(rb'21version="(\d+)" event="(\d+)" modifier="(\d+)" host="([^"]*)" '
                         rb'time="(\d+)" msec="(\d+)" >$', line)
            if m:
                size = next((x[3:] for x in lines[i + 1:] if x.startswith(b"19,")), None)
                lines[i] = b",".join([b"21", size or b"SIZE", *m.groups()])
        golden = b"\n".join(lines)
    return golden


def _fix_xml(golden: bytes, name: str) -> bytes:
    for old, new in LITERAL_XML:
        golden = golden.replace(old, new)
    lines = golden.split(b"\n")
    replacements = list(XML_UNKNOWN.get(name, []))
    out = []
    for line in lines[:-1]:
        if line == b"" and replacements:
            line = replacements.pop(0).encode()
        elif line.startswith(b"<record ,"):        # header32_ex in -x
            f = line[len(b"<record ,"):].split(b",")
            line = (b'<record version="%s" event="%s" modifier="%s" host="%s" time="%s" '
                    b'msec="%s" >' % tuple(f[1:7]))
        elif line.startswith(b"<group><gid>"):
            line = line.replace(b"</group>", b"") + b"</group>"
        elif line.startswith(b"<IPCipc-type="):
            line = b"<IPC " + line[4:]
        elif re.match(rb'(type|status|arg_uuid-num|ret_uuid-num)="', line):
            tag = {b"type": b"privilege", b"status": b"use_of_privilege",
                   b"arg_uuid-num": b"arg_uuid", b"ret_uuid-num": b"ret_uuid"}[line.split(b"=")[0]]
            line = b"<" + tag + b" " + line + b"/>"
        elif line.startswith(b"<arbitrary "):
            line = line.replace(b"\0", b"\\0")
        out.append(line)
    out.append(lines[-1])
    golden = b"\n".join(out)
    if b"<record " in golden and b"</record>" not in golden:   # header without trailer
        golden = golden.replace(b"</audit>\n", b"</record>\n</audit>\n")
    if b"SIZE" in golden:
        raise AssertionError("unfixed header32_ex")
    return golden


def expected_from(golden: bytes, name: str, mode: str) -> bytes:
    """praudit's golden with its errno wording mapped and the documented changes applied."""
    golden = map_errno(golden, mode)
    return _fix_xml(golden, name) if mode in XML else _fix_text(golden, mode)


def _size_fix(expected: bytes, inputs) -> bytes:
    """Bare header32_ex tokens have no trailer line to take their size from."""
    return expected.replace(b"21,SIZE,", b"21,%d," % inputs[0].stat().st_size)


def split_items(out: bytes, mode: str):
    """(prefix, [one item per record or file token], suffix) of a praudit output."""
    if "l" in mode:
        return b"", out.splitlines(keepends=True), b""
    lines = out.splitlines(keepends=True)
    prefix = suffix = b""
    if mode in XML:
        prefix, lines, suffix = b"".join(lines[:2]), lines[2:-1], lines[-1]
        starts = (b"<record ", b"<file ")
    elif mode in RAW:
        starts = (b"20,", b"21,", b"116,", b"121,", b"17,")
    else:
        starts = (b"header", b"file")
    items = []
    for line in lines:
        if line.startswith(starts) or not items:
            items.append(line)
        else:
            items[-1] += line
    return prefix, items, suffix


def _golden(folder: Path, name: str, mode: str) -> bytes:
    return (folder / f"{name}.praudit{mode}").read_bytes()


def expected_output(golden_path: Path, inputs, mode: str) -> bytes:
    name = "+".join(p.name for p in inputs)
    trail = OPENBSM / "trail"
    if name == "garbage-between-records.trail":
        # the same bytes as realistic.trail plus 5 bytes between records 9 and 10
        return expected_from(_golden(trail, "realistic.trail", mode), "realistic.trail", mode)
    if name == "starts-mid-record.trail":
        # realistic.trail[1000:]: knox-report resyncs to record 8 (offset 1158)
        base = mode.replace("p", "")
        full = expected_from(_golden(trail, "realistic.trail", base), "realistic.trail", base)
        prefix, items, suffix = split_items(full, base)
        return prefix + b"".join(items[8:]) + suffix
    if name.endswith("-scuffed-size"):
        # the undamaged trail's output; the first header shows the size field as stored
        source = golden_path.parent / golden_path.name.replace("-scuffed-size", "")
        prefix, items, suffix = split_items(map_errno(source.read_bytes(), mode), mode)
        items[0] = re.sub(rb"^(header|20)([^0-9])56\2", rb"\g<1>\g<2>4294967295\2", items[0])
        return prefix + b"".join(items) + suffix
    if name == "realistic.trail+second.trail":
        name = "realistic.trail"
    return _size_fix(expected_from(golden_path.read_bytes(), name, mode), inputs)


# ---------------------------------------------------------------------------------------------
# the goldens


@needs_fixtures
@pytest.mark.parametrize("golden,inputs,mode", [g[1:] for g in GOLDENS],
                         ids=[g[0] for g in GOLDENS])
def test_golden(golden, inputs, mode):
    out = stdout_of(*MODES[mode], *inputs)
    want = expected_output(golden, inputs, mode)
    assert out == want
    name = "+".join(p.name for p in inputs)
    differs = want != map_errno(golden.read_bytes(), mode)
    assert differs == _listed(name if "+" not in name else inputs[0].name, mode), \
        "KNOWN_DIFFERENCES must list exactly the goldens that differ"
    if mode in XML:
        ET.fromstring(out)        # well-formed


@needs_fixtures
def test_every_golden_folder_is_covered():
    folders = {Path(g[0]).parts[0] + "/" + Path(g[0]).parts[1] for g in GOLDENS}
    assert {"openbsm/tokens", "openbsm/records", "openbsm/trail", "openbsm/upstream-reference",
            "real/praudit"} <= folders
    assert len(GOLDENS) > 2000
    assert any("+" in g[0] for g in GOLDENS)


# ---------------------------------------------------------------------------------------------
# the exact new output where praudit loses data


@needs_fixtures
def test_identity_record_exact():
    rec = OPENBSM / "records" / "identity_record"
    head = b"header,72,11,indir system call,0,Fri Mar 15 08:59:58 2024, + 123 msec"
    ident = (b"identity,1,com.apple.ls,complete,,complete,"
             b"0x3a5e5e81097c4d22910faa176be04233c18e7504")
    assert stdout_of(rec) == head + b"\n" + ident + b"\ntrailer,72\n"
    assert stdout_of("-l", rec) == head + b"," + ident + b",trailer,72,\n"
    assert stdout_of("-r", rec) == (
        b"20,72,11,0,0,1710493198,123\n"
        b"237,1,com.apple.ls,complete,,complete,0x3a5e5e81097c4d22910faa176be04233c18e7504\n"
        b"19,72\n")
    assert stdout_of("-x", rec) == (
        b"<?xml version='1.0' ?>\n<audit>\n"
        b'<record version="11" event="indir system call" modifier="0" '
        b'time="Fri Mar 15 08:59:58 2024" msec=" + 123 msec" >\n'
        b'<identity signer-type="1" signing-id="com.apple.ls" signing-id-truncated="no" '
        b'team-id="" team-id-truncated="no" '
        b'cdhash="0x3a5e5e81097c4d22910faa176be04233c18e7504" />\n'
        b"</record>\n</audit>\n")


@needs_fixtures
def test_tokens_after_identity_are_printed():
    out = stdout_of("-l", OPENBSM / "trail" / "realistic.trail").splitlines()
    assert out[22].endswith(
        b"return,success,0,identity,2,com.apple.sshd,complete,,complete,"
        b"0x3a5e5e81097c4d22910faa176be04233c18e7504,trailer,157,")
    assert out[36].endswith(
        b"return,success,0,cert_hash,8b2ffb6ac3c1de8c,11f3b89a0e2d4c77,"
        b"krb5_principal,bob@EXAMPLE.COM,trailer,151,")


@needs_fixtures
def test_unknown_middle_exact():
    rec = OPENBSM / "records" / "unknown_middle_record"
    result = run(rec)
    assert result.stdout_bytes == (
        b"header,56,11,indir system call,0,Fri Mar 15 08:59:58 2024, + 123 msec\n"
        b"path,/before\n"
        b"unknown,0x0102032300072f616674657200270000000000\n"
        b"trailer,56\n")
    assert result.stderr == (f"knox-report: {rec}: record at offset 0: unknown token id 0xfe at "
                             f"offset 29; 19 bytes after it printed as unknown\n")
    assert stdout_of("-r", rec).splitlines()[2] == (
        b"254,0x0102032300072f616674657200270000000000")
    assert stdout_of("-x", rec) == (
        b"<?xml version='1.0' ?>\n<audit>\n"
        b'<record version="11" event="indir system call" modifier="0" '
        b'time="Fri Mar 15 08:59:58 2024" msec=" + 123 msec" >\n'
        b"<path>/before</path>\n"
        b'<unknown id="254" data="0x0102032300072f616674657200270000000000" />\n'
        b"</record>\n</audit>\n")


@needs_fixtures
@pytest.mark.parametrize("mode", sorted(ALL - {"-pl", "-pln"}))
def test_garbage_between_records_exact(mode):
    trail = OPENBSM / "trail"
    garbage = run(*MODES[mode], trail / "garbage-between-records.trail")
    assert garbage.exit_code == 0
    # every record of realistic.trail, nothing in the record stream about the damage
    assert garbage.stdout_bytes == stdout_of(*MODES[mode], trail / "realistic.trail")
    assert garbage.stderr == (f"knox-report: {trail / 'garbage-between-records.trail'}: "
                              f"skipped 5 bytes at offset 1359: garbage\n")
    if mode == "-l":
        lines = garbage.stdout_bytes.splitlines()
        assert len(lines) == 43
        assert lines[10].startswith(b"header,100,11,connect(2),0,Fri Mar 15 09:00:00 2024, "
                                    b"+ 441 msec,argument,1,0x6,fd,socket-inet6,30,443,")


@needs_fixtures
def test_text_xmlchars_exact():
    rec = OPENBSM / "records" / "text_xmlchars_record"
    out = stdout_of("-x", rec)
    assert out.splitlines()[3] == TEXT_XMLCHARS_X.encode()
    assert ET.fromstring(out).find("record/text").text == (
        "a<b>&\"c\" 'd' \\^A\t\\M-C\\M-)")
    # text modes print the bytes as they are
    assert stdout_of(rec).splitlines()[1] == b"text,a<b>&\"c\" 'd' \x01\t\xc3\xa9"


@needs_fixtures
def test_starts_mid_record_and_p():
    trail = OPENBSM / "trail" / "starts-mid-record.trail"
    result = run("-l", trail)
    assert result.stderr == f"knox-report: {trail}: skipped 158 bytes at offset 0: garbage\n"
    assert result.stdout_bytes.splitlines()[0].startswith(b"header,113,11,socket(2),0,")
    assert stdout_of("-p", "-l", trail) == result.stdout_bytes        # -p changes nothing


@needs_fixtures
def test_two_files_one_xml_wrapper():
    trail = OPENBSM / "trail"
    out = stdout_of("-x", trail / "realistic.trail", trail / "second.trail")
    assert out.count(b"<?xml") == 1 and out.count(b"</audit>") == 1
    root = ET.fromstring(out)
    assert len(root.findall("record")) == 41 + 3 and len(root.findall("file")) == 3


# ---------------------------------------------------------------------------------------------
# built trails: cases the goldens do not have


def _header(size, event=60001, sec=1710493198, msec=123):
    return tokens.encode("header32", (size, 11, event, 0, sec, msec))


def rec(*toks: bytes, event=60001, sec=1710493198, msec=123) -> bytes:
    body = b"".join(toks)
    size = 18 + len(body) + 7
    return _header(size, event, sec, msec) + body + tokens.encode("trailer", (0xB105, size))


def _render(buf: bytes, **kw) -> tuple[bytes, list[str]]:
    out, warnings = io.BytesIO(), []
    kw.setdefault("tz", "UTC")
    render(buf, out=out, warn=warnings.append, **kw)
    return out.getvalue(), warnings


def test_newgroups_over_16_prints_every_gid():
    gids = list(range(100, 120))
    buf = rec(tokens.encode("newgroups", (gids,)), tokens.encode("return32", (0, 0)))
    out, warnings = _render(buf, oneline=True)
    assert out == (b"header,%d,11,60001,0,Fri Mar 15 08:59:58 2024, + 123 msec,group,"
                   % len(buf) + b",".join(b"%d" % g for g in gids)
                   + b",return,success,0,trailer,%d,\n" % len(buf))
    assert warnings == []
    xml_out, _ = _render(buf, xml=True)
    assert xml_out.splitlines()[3] == (
        b"<group>" + b"".join(b"<gid>%d</gid>" % g for g in gids) + b"</group>")


def test_exec_args_over_128_prints_every_string():
    argv = [b"a%d" % i for i in range(200)]
    buf = rec(tokens.encode("exec_args", ((200, argv),)))
    out, _ = _render(buf)
    assert out.splitlines()[1] == b"exec arg," + b",".join(argv)


def test_bad_token_keeps_the_rest_and_the_trailer():
    # an in_addr_ex with address type 7 cannot be parsed
    bad = b"\x7e" + struct.pack(">I", 7) + b"\x01\x02\x03\x04"
    buf = rec(tokens.encode("path", (b"/x\0",)), bad)
    out, warnings = _render(buf)
    assert out.splitlines()[1:] == [b"path,/x", b"unknown,0x0000000701020304",
                                    b"trailer,%d" % len(buf)]
    assert warnings == ["knox-report: <stdin>: record at offset 0: token 0x7e does not fit its "
                        "layout at offset 24; 8 bytes after it printed as unknown"]
    raw, _ = _render(buf, raw=True)
    assert raw.splitlines()[2] == b"126,0x0000000701020304"
    ET.fromstring(_render(buf, xml=True)[0])


def test_identity_truncated_flags_and_empty_cdhash():
    ident = tokens.encode("identity", (0, b"com.x\0", 1, b"T&<\0", 1, b""))
    buf = rec(ident)
    out, _ = _render(buf)
    assert out.splitlines()[1] == b"identity,0,com.x,truncated,T&<,truncated,"
    xml_out, _ = _render(buf, xml=True)
    assert xml_out.splitlines()[3] == (
        b'<identity signer-type="0" signing-id="com.x" signing-id-truncated="yes" '
        b'team-id="T&amp;&lt;" team-id-truncated="yes" cdhash="" />')


def test_strings_are_bytes_unchanged_in_text_and_escaped_in_xml():
    path = b"/tmp/\xff\xfe caf\xc3\xa9 & <x>\0"
    buf = rec(tokens.encode("path", (path,)), tokens.encode("arg32", (1, 2, b"a\"b\nc\0")))
    out, _ = _render(buf)
    assert out.splitlines()[1] == b"path,/tmp/\xff\xfe caf\xc3\xa9 & <x>"
    xml_out, _ = _render(buf, xml=True)
    lines = xml_out.splitlines()
    assert lines[3] == b"<path>/tmp/\\M^?\\M-~ caf\\M-C\\M-) &amp; &lt;x&gt;</path>"
    assert lines[4] == b'<argument arg-num="1" value="0x2" desc="a&quot;b\\nc" />'
    ET.fromstring(xml_out)


def test_header_without_trailer_is_printed_and_reported():
    buf = _header(18)                        # a bare header32 token, like tokens/header32_token
    out, warnings = _render(buf)
    assert out == b"header,18,11,60001,0,Fri Mar 15 08:59:58 2024, + 123 msec\n"
    assert warnings == ["knox-report: <stdin>: record at offset 0 (18 bytes) has no valid "
                        "trailer (bad record size); printed as far as its tokens parse"]
    xml_out, _ = _render(buf, xml=True)
    assert xml_out.endswith(b" >\n</record>\n</audit>\n")


def test_damage_is_reported_never_printed():
    good = rec(tokens.encode("text", (b"one\0",)))
    buf = b"\x00\x01garbage" + good + b"\xffjunk" + good
    out, warnings = _render(buf, oneline=True)
    assert out.count(b"text,one") == 2 and b"junk" not in out
    assert warnings == ["knox-report: <stdin>: skipped 9 bytes at offset 0: garbage",
                        f"knox-report: <stdin>: skipped 5 bytes at offset {9 + len(good)}: garbage"]


def test_users_resolution_and_numeric():
    users = Users.from_files(passwd=None, group=None)
    buf = rec(tokens.encode("subject32", (501, 501, 20, 501, 20, 7, 8, 0, b"\0\0\0\0")))
    out, _ = _render(buf, users=users)
    assert out.splitlines()[1] == b"subject,501,501,20,501,20,7,8,0,0.0.0.0"
    out, _ = _render(buf)                    # no user database: numbers, as praudit for unknowns
    assert out.splitlines()[1] == b"subject,501,501,20,501,20,7,8,0,0.0.0.0"


@needs_fixtures
def test_user_names_come_from_the_given_files_only():
    users = Users.from_files(passwd=OPENBSM / "nss" / "passwd", group=OPENBSM / "nss" / "group")
    buf = rec(tokens.encode("subject32", (501, 0, 80, 0xFFFFFFFF, 4294967294, 7, 8, 0,
                                          b"\0\0\0\0")))
    assert _render(buf, users=users)[0].splitlines()[1] == \
        b"subject,alice,root,admin,-1,nobody,7,8,0,0.0.0.0"
    assert _render(buf, users=users, numeric=True)[0].splitlines()[1] == \
        b"subject,501,0,80,-1,-2,7,8,0,0.0.0.0"


def test_time_zone():
    buf = rec(tokens.encode("text", (b"t\0",)))
    assert b"Fri Mar 15 04:59:58 2024" in _render(buf, tz="America/New_York")[0]
    assert b"Fri Mar 15 08:59:58 2024" in _render(buf, tz="UTC")[0]


def test_events_table_modes():
    events = EventTable.bundled()
    buf = rec(event=23)
    assert b",execve(2)," in _render(buf, events=events)[0]
    assert b",AUE_EXECVE," in _render(buf, events=events, short=True)[0]
    assert _render(buf, events=events, raw=True)[0].startswith(b"20,25,11,23,0,1710493198,123\n")
    with pytest.raises(ValueError):
        _render(buf, raw=True, short=True)


def test_text_stream_outputs():
    buf = rec(tokens.encode("path", (b"/\xff\0",)))
    s = io.StringIO()
    render(buf, out=s, tz="UTC")
    assert s.getvalue().encode("utf-8", "surrogateescape").splitlines()[1] == b"path,/\xff"
    wrapped = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    render(buf, out=wrapped, tz="UTC")
    wrapped.flush()
    assert wrapped.buffer.getvalue().splitlines()[1] == b"path,/\xff"


def test_delimiter_bytes():
    buf = rec(tokens.encode("text", (b"x\0",)))
    assert _render(buf, delim="::", oneline=True)[0].endswith(
        b"::text::x::trailer::%d::\n" % len(buf))


# ---------------------------------------------------------------------------------------------
# the command line


def test_cli_r_and_s_are_exclusive():
    result = run("-r", "-s", "x", tables=False)
    assert result.exit_code == 64
    assert result.stderr == "knox-report praudit: -r and -s are mutually exclusive\n"
    assert result.stdout_bytes == b""


def test_cli_usage_errors_exit_64():
    result = run("--no-such-option", "x", tables=False)
    assert result.exit_code == 64
    assert "Traceback" not in result.output


def test_cli_missing_file_one_line(tmp_path):
    good = tmp_path / "good.trail"
    good.write_bytes(rec(tokens.encode("text", (b"ok\0",))))
    missing = tmp_path / "missing.trail"
    result = run(missing, good, tables=False)
    assert result.exit_code == 1
    assert result.stderr == f"knox-report praudit: {missing}: No such file or directory\n"
    assert b"text,ok\n" in result.stdout_bytes


def test_cli_bad_table_file(tmp_path):
    result = _runner.invoke(praudit, ["--audit-event", str(tmp_path / "nope"), "x"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "nope" in result.stderr


def test_cli_stdin_and_empty_file(tmp_path):
    buf = rec(tokens.encode("text", (b"in\0",)))
    result = run("-l", tables=False, input=buf)
    assert result.exit_code == 0 and b",text,in," in result.stdout_bytes
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert stdout_of("-x", empty, tables=False) == b"<?xml version='1.0' ?>\n<audit>\n</audit>\n"


def test_cli_without_user_files_prints_numbers(tmp_path):
    trail = tmp_path / "t"
    trail.write_bytes(rec(tokens.encode("subject32", (501, 0, 20, 0, 20, 1, 1, 0, b"\0\0\0\0"))))
    assert stdout_of(trail, tables=False).splitlines()[1] == b"subject,501,0,20,0,20,1,1,0,0.0.0.0"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="praudit's goldens use glibc's inet_ntop")
@given(st.lists(st.sampled_from([0, 0, 1, 0xFFFF, 0x1234]) | st.integers(0, 0xFFFF), min_size=8, max_size=8))
def test_ipv6_text_is_glibc_inet_ntop(words):
    import socket

    from forensics.bsm.praudit.values import ip6

    raw = b"".join(w.to_bytes(2, "big") for w in words)
    assert ip6(raw).decode() == socket.inet_ntop(socket.AF_INET6, raw)


@needs_fixtures
def test_return_text_for_every_bsm_errno(tmp_path):
    """praudit on macOS: BSD wording where macOS has the errno, else "Unknown error: N"."""
    known = {int(bsm): (name.removeprefix("BSM_ERRNO_"), bsd)
             for bsm, name, _local, _linux, bsd in _errno_rows()}
    trail = tmp_path / "returns.trail"
    trail.write_bytes(b"".join(rec(tokens.encode("return32", (status, 1)))
                               for status in range(256)))
    lines = [line for line in stdout_of(trail, tables=False).splitlines()
             if line.startswith(b"return,")]
    assert len(lines) == 256
    for status, line in enumerate(lines):
        name, bsd = known.get(status, (None, None))
        if status == 0:
            want = "success"
        elif name is None or name in NOT_ON_MACOS:
            want = f"failure: Unknown error: {status}"
        else:
            want = f"failure : {bsd}"
        assert line == f"return,{want},1".encode(), status
