"""knox-report reduce against auditreduce's 39 golden cases, and its own behaviour.

Every case of ../shared/fixtures/openbsm/auditreduce/cases.txt is run through the click
command with the case's arguments (paths relative to openbsm/, the fixture's tables, --tz UTC).
Where auditreduce's output is right, knox-report's output must be byte-identical to
caseNN.trail. Where auditreduce provably misses records (docs/bsm-format.md §7: it only
examines header32, subject32, process32 and return32, and -c reads a stale header), the test
asserts the exact record set knox-report keeps instead, with the reason next to the case.
"""

from __future__ import annotations

import gzip
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from forensics.bsm import writer as w
from forensics.collection.selection import Selection
from forensics.reduce import reduce
from forensics.cli.reduce import load_tables, reduce as reduce_cmd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
OPENBSM = SHARED / "openbsm"
CASES_TXT = OPENBSM / "auditreduce" / "cases.txt"
needs_shared = pytest.mark.skipif(not CASES_TXT.is_file(),
                                  reason="../shared/fixtures (auditreduce goldens) is absent")

TABLE_ARGS = ["--audit-event", "etc/audit_event", "--audit-class", "etc/audit_class",
              "--passwd", "nss/passwd", "--group", "nss/group", "--tz", "UTC"]


# ---------------------------------------------------------------------------------------------
# the golden cases


def _parse_cases() -> dict[str, dict]:
    if not CASES_TXT.is_file():
        return {}
    cases, current = {}, None
    for line in CASES_TXT.read_text().splitlines():
        m = re.match(r"^(case\d\d)\s+(.*)$", line)
        if m:
            current = cases.setdefault(m.group(1), {"name": m.group(1), "title": m.group(2)})
            continue
        if current is None:
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if key == "cmd":
            argv = shlex.split(value)
            assert argv[0] == "auditreduce"
            current["args"] = argv[1:]
        elif key == "exit":
            current["exit"] = int(value.split()[0])
        elif key == "kept":
            count, _, refs = value.partition(":")
            current["kept"] = refs.split() if refs.strip() else []
            assert len(current["kept"]) == (0 if count.strip() == "0" else int(count))
    return cases


CASES = _parse_cases()


def _index(trail: str) -> list[tuple[int, int]]:
    """(offset, length) of every item of trail/<trail>, by the index.tsv next to it."""
    rows = (OPENBSM / "trail" / f"{trail}.trail.index.tsv").read_text().splitlines()[1:]
    return [(int(r.split("\t")[1]), int(r.split("\t")[2])) for r in rows]


def _ref(ref: str) -> tuple[str, int]:
    name, _, idx = ref.partition("#")
    return name.removesuffix(".trail"), int(idx)


def _bytes_of(refs: list[str]) -> bytes:
    """The bytes of the given records, in the order given."""
    out = b""
    for ref in refs:
        trail, idx = _ref(ref)
        offset, length = _index(trail)[idx]
        out += (OPENBSM / "trail" / f"{trail}.trail").read_bytes()[offset:offset + length]
    return out


def _r(*indexes: int) -> list[str]:
    return [f"realistic#{i}" for i in indexes]


# Cases where auditreduce's output is not what its options mean: (records knox-report adds,
# records it does not keep, why). Every record number is an index of realistic.trail.index.tsv.
NOT_HEADER32 = "auditreduce examines header32 only: "
BY_DESIGN: dict[str, tuple[list[int], list[int], str]] = {
    "case01": ([15, 27, 28, 31, 37], [],
               NOT_HEADER32 + "-A never passes the header32_ex (#15 #31), header64 (#27 #28) "
               "and header64_ex (#37) records"),
    "case02": ([27, 28, 31, 37], [], NOT_HEADER32 + "-a ignores the times of #27 #28 #31 #37"),
    "case04": ([15], [], NOT_HEADER32 + "sudo #15 (header32_ex, 09:00:09) is inside -a/-b"),
    "case05": ([27, 28, 31, 37], [], NOT_HEADER32 + "-d ignores the times of #27 #28 #31 #37"),
    "case11": ([31], [], NOT_HEADER32 + "the IPv6 accept #31 has a header32_ex"),
    "case13": ([2, 14, 40], [],
               "auditreduce ignores subject32_ex: loginwindow login/logout #2 #40 and "
               "the authorization #14 are alice's (auid 501)"),
    "case14": ([22, 27, 28, 36], [],
               "auditreduce ignores subject32_ex/subject64(_ex) and process64: #22 #36 "
               "(subject32_ex), #27 (subject64), #28 (subject64_ex + process64, both 502)"),
    "case16": ([1, 29, 41], [17],
               "#1 #41 have a subject32_ex with euid 0, #29 a process32_ex and a subject32_ex, "
               "both euid 0; the kill #17 is dropped: its subject has euid 0 but its target "
               "(a process32_ex, which auditreduce skips) has euid 501, and a record with both "
               "a subject and a process token must match on both"),
    "case17": ([2, 14, 40], [], "subject32_ex records with ruid 501 (see case13)"),
    "case19": ([2, 14, 22, 27, 28, 36, 40], [],
               "subject32_ex/subject64(_ex) and process64 records with rgid 20"),
    "case22": ([], [37],
               "auditreduce keeps the header64_ex auditon #37 (class ad) through its stale "
               "header copy (the previous header32, #36, is aa); sudo #15 stays: it is aa"),
    "case28": ([28], [], "the header64 kill #28 (class pc) has a return64 that auditreduce "
                         "never reads, so -c is never checked on it"),
    "case29": ([28], [], "as case28: the header64 kill #28 is class pc"),
    "case35": ([17], [], "the kill #17 targets pid 1250 in a process32_ex token, which "
                         "auditreduce ignores"),
    "case40": ([9, 10], [], "auditreduce accepts sock= and never checks it; knox-report "
                            "matches the ports: the IPv4 and IPv6 connects #9 #10 to port 443"),
    "case43": ([], [0, 15, 27, 28, 31, 37, 42],
               "-v alone inverts 'every record': nothing; auditreduce prints what it could "
               "not examine (file tokens and non-header32 records)"),
    "case58": ([15], [], NOT_HEADER32 + "the only sudo record #15 has a header32_ex"),
}


def _expected_refs(case: dict) -> list[str]:
    """The records knox-report keeps for a case, in input order."""
    if case["name"] not in BY_DESIGN:
        return case["kept"]
    add, drop, _why = BY_DESIGN[case["name"]]
    kept = {_ref(r)[1] for r in case["kept"]} | set(add)
    kept -= set(drop)
    assert all(_ref(r)[0] == "realistic" for r in case["kept"])
    return _r(*sorted(kept))


def _run(args: list[str], backend: str | None = None, input: bytes | None = None):
    extra = ["--backend", backend] if backend else []
    return CliRunner().invoke(reduce_cmd, [*TABLE_ARGS, *extra, *args], input=input,
                              catch_exceptions=False)


def test_cases_file_is_complete():
    if not CASES:
        pytest.skip("../shared/fixtures (auditreduce goldens) is absent")
    assert len(CASES) == 39
    assert set(BY_DESIGN) <= set(CASES)
    for case in CASES.values():
        assert {"args", "exit", "kept"} <= set(case), case["name"]


@needs_shared
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_kept_lists_match_the_golden_bytes(name):
    """The index-based record lists used below reproduce auditreduce's own output."""
    case = CASES[name]
    if any(not (OPENBSM / "trail" / f"{_ref(r)[0]}.trail.index.tsv").is_file()
           for r in case["kept"]):
        pytest.skip("no index.tsv for this case's trail")
    assert _bytes_of(case["kept"]) == (OPENBSM / "auditreduce" / f"{name}.trail").read_bytes()


@needs_shared
@pytest.mark.parametrize("name", sorted(CASES))
def test_auditreduce_case(name, backend, monkeypatch):
    case = CASES[name]
    monkeypatch.chdir(OPENBSM)
    monkeypatch.setenv("TZ", "UTC")
    result = _run(case["args"], backend)
    assert result.exit_code == case["exit"], result.stderr
    if case["exit"] != 0:
        assert result.stdout_bytes == b""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    if name in BY_DESIGN:
        assert result.stdout_bytes == _bytes_of(_expected_refs(case)), BY_DESIGN[name][2]
    else:
        golden = (OPENBSM / "auditreduce" / f"{name}.trail").read_bytes()
        assert result.stdout_bytes == golden


def test_parity_counts():
    """39 cases: 22 byte-identical to auditreduce, 17 different by design, none failing."""
    if not CASES:
        pytest.skip("../shared/fixtures (auditreduce goldens) is absent")
    assert len(CASES) - len(BY_DESIGN) == 22
    assert len(BY_DESIGN) == 17


# ---------------------------------------------------------------------------------------------
# beyond the goldens: damage, stdin, order, windows, compressed input


@needs_shared
def test_garbage_between_records_keeps_reading(monkeypatch, backend):
    """auditreduce stops at the garbage; knox-report copies every record around it."""
    monkeypatch.chdir(OPENBSM)
    data = (OPENBSM / "trail" / "garbage-between-records.trail").read_bytes()
    result = _run(["trail/garbage-between-records.trail"], backend)
    assert result.exit_code == 0
    # the whole file minus the 5 garbage bytes at 1359
    assert result.stdout_bytes == data[:1359] + data[1364:]
    assert "5 damaged byte(s)" in result.stderr and "offset 1359" in result.stderr
    execs = _run(["-m", "AUE_EXECVE", "trail/garbage-between-records.trail"], backend)
    realistic = (OPENBSM / "trail" / "realistic.trail").read_bytes()
    assert execs.stdout_bytes == _bytes_of(_r(3, 7))
    assert len(_run(["-q", "trail/garbage-between-records.trail"]).stderr) == 0
    # records after the garbage are selected too (realistic #22 onwards, shifted by 5 bytes)
    late = _run(["-a", "20240316000000", "trail/garbage-between-records.trail"], backend)
    # -v with an option copies the file tokens and every record but the selected ones
    inverted = _run(["-v", "-a", "20240316000000", "trail/garbage-between-records.trail"],
                    backend)
    assert inverted.stdout_bytes == data[:1359] + data[1364:2705] + data[5276:]
    assert late.stdout_bytes == realistic[2700:5271]


@needs_shared
def test_starts_mid_record_resyncs(monkeypatch):
    monkeypatch.chdir(OPENBSM)
    result = _run(["-m", "AUE_CONNECT", "trail/starts-mid-record.trail"])
    assert result.exit_code == 0
    assert result.stdout_bytes == _bytes_of(_r(9, 10))
    assert "damaged byte(s)" in result.stderr


@needs_shared
def test_stdin_and_dash(monkeypatch):
    monkeypatch.chdir(OPENBSM)
    data = (OPENBSM / "trail" / "realistic.trail").read_bytes()
    golden = (OPENBSM / "auditreduce" / "case07.trail").read_bytes()
    assert _run(["-m", "AUE_EXECVE"], input=data).stdout_bytes == golden
    assert _run(["-m", "AUE_EXECVE", "-"], input=data).stdout_bytes == golden


@needs_shared
def test_inputs_are_concatenated_in_the_order_given(monkeypatch):
    monkeypatch.chdir(OPENBSM)
    result = _run(["-m", "AUE_OPEN_R", "trail/second.trail", "trail/realistic.trail"])
    assert result.stdout_bytes == _bytes_of(["second#3", "realistic#4", "realistic#5"])


@needs_shared
def test_compressed_input(monkeypatch, tmp_path):
    monkeypatch.chdir(OPENBSM)
    packed = tmp_path / "realistic.trail.gz"
    packed.write_bytes(gzip.compress((OPENBSM / "trail" / "realistic.trail").read_bytes()))
    result = _run(["-m", "AUE_EXECVE", str(packed)])
    assert result.stdout_bytes == (OPENBSM / "auditreduce" / "case07.trail").read_bytes()


@needs_shared
def test_since_until_window_is_not_inverted(monkeypatch):
    monkeypatch.chdir(OPENBSM)
    window = ["--since", "2024-03-16T00:00:00Z", "--until", "2024-03-17T00:00:00Z"]
    result = _run([*window, "-m", "AUE_openssh", "trail/realistic.trail"])
    assert result.stdout_bytes == _bytes_of(_r(22, 23))
    # -v inverts the selection inside the window only; file tokens are not copied
    inverted = _run([*window, "-v", "-m", "AUE_openssh", "trail/realistic.trail"])
    assert inverted.stdout_bytes == _bytes_of(_r(*range(24, 40)))


@needs_shared
def test_output_option_and_unreadable_input(monkeypatch, tmp_path):
    monkeypatch.chdir(OPENBSM)
    dest = tmp_path / "out.trail"
    result = _run(["--output", str(dest), "-m", "23", "trail/realistic.trail"])
    assert result.exit_code == 0 and result.stdout_bytes == b""
    assert dest.read_bytes() == (OPENBSM / "auditreduce" / "case08.trail").read_bytes()
    missing = _run(["-m", "23", "trail/realistic.trail", "trail/no-such.trail"])
    assert missing.exit_code == 1
    assert missing.stdout_bytes == b""          # nothing written before the failure
    assert len(missing.stderr.splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["-c", "zz"], "unknown audit class"),
    (["-a", "20240316", "-d", "20240316"], "exclusive"),
    (["-d", "20240316", "-b", "20240316"], "exclusive"),
    (["-a", "20240316", "-a", "20240317"], "more than once"),
    (["-b", "20240316", "-b", "20240317"], "more than once"),
    (["-m", "AUE_NO_SUCH_EVENT"], "unknown event name"),
    (["-u", "mallory"], "unknown user name"),
    (["-f", "nogroup_here"], "unknown group name"),
    (["-o", "file=(unclosed"], "bad regular expression"),
    (["-o", "bogus=1"], "unknown object type"),
    (["-o", "file"], "TYPE=VALUE"),
    (["-o", "pid=abc"], "must be a number"),
    (["-a", "2024-03-16"], "YYYYMMDD"),
    (["-d", "20240230"], "not a valid date"),
    (["-j", "x"], "must be a number"),
    (["--no-such-option"], "No such option"),
    (["--since", "not a time"], "cannot read time"),
])
def test_usage_errors_exit_64_with_one_line(args, message, tmp_path):
    trail = tmp_path / "t.trail"
    trail.write_bytes(w.record(w.AUE_EXECVE, [w.subject(auid=501), w.return32()], time=1e9))
    result = CliRunner().invoke(reduce_cmd, [*args, str(trail)], catch_exceptions=False)
    assert result.exit_code == 64
    assert result.stdout_bytes == b""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------
# the reduce() API on trails built with the writer


def _trail(tmp_path) -> tuple[Path, list[bytes]]:
    t = w.Trail()
    t.raw(w.file_token(1e9))
    recs = [
        t.record(w.AUE_EXECVE, [w.path("/bin/ls"), w.subject(auid=501, pid=10, host="2001:db8::1"),
                                w.return32()], time=1e9 + 1, header="header32_ex", host="10.0.0.1"),
        t.record(w.AUE_OPEN_R, [w.path("/etc/passwd"), w.subject(auid=502, pid=11),
                                w.return32(13, -1)], time=1e9 + 2, header="header64"),
        t.record(w.AUE_KILL, [w.arg(2, 9, "signal"), w.process(auid=501, pid=77),
                              w.subject(auid=501, euid=0, pid=12), w.return32()],
                 time=1e9 + 3, header="header64_ex", host="2001:db8::2"),
    ]
    t.raw(w.file_token(1e9 + 4, "/var/audit/next"))
    path = tmp_path / "w.trail"
    t.write_to(path)
    return path, recs


def test_reduce_api_examines_every_header_kind(tmp_path, backend):
    path, recs = _trail(tmp_path)
    tables = load_tables()
    import io

    def run(**options):
        out = io.BytesIO()
        sel = Selection.from_options(tables=tables, tz="UTC", **options)
        stats = reduce([str(path)], sel, out, tables=tables, backend=backend)
        return out.getvalue(), stats

    everything, stats = run()
    assert everything == path.read_bytes()
    assert stats.records_written == 3 and stats.file_tokens_written == 2
    assert run(event=["AUE_EXECVE"])[0] == recs[0]
    assert run(auid=[501])[0] == recs[0] + recs[2]
    assert run(objects=["pid=77"])[0] == recs[2]
    assert run(klass="-fr")[0] == recs[1]
    assert run(after="20010909014642")[0] == recs[1] + recs[2]
    assert run(all=True)[0] == b"".join(recs)
    # -v with an option keeps the file tokens, as auditreduce does
    inverted = run(invert=True, event=["AUE_EXECVE"])[0]
    assert inverted == path.read_bytes().replace(recs[0], b"")


def test_reduce_api_reads_stdin(tmp_path):
    import io
    path, recs = _trail(tmp_path)
    out = io.BytesIO()
    sel = Selection.from_options(tables=load_tables(), tz="UTC", event=["AUE_KILL"])
    reduce(["-"], sel, out, stdin=io.BytesIO(path.read_bytes()))
    assert out.getvalue() == recs[2]
