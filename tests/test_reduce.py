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
from hypothesis import HealthCheck, given, settings, strategies as st
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


# ---------------------------------------------------------------------------------------------
# the C walk's selection against the records frame's (the reference)

import forensics.reduce as reduce_module  # noqa: E402
from forensics.bsm.choice import c_available  # noqa: E402

needs_c = pytest.mark.skipif(not c_available(), reason="the C core is not built")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _parity_trails() -> list[str]:
    """Every trail of the shared fixtures and of the project's scenarios and demo."""
    found = [*sorted((OPENBSM / "trail").glob("*.trail")),
             *sorted((OPENBSM / "apple-openbsm21" / "trail").glob("*")),
             *sorted((SHARED / "real").glob("*")),
             *sorted((OPENBSM / "records").glob("*")),
             *sorted((FIXTURES / "scenarios").glob("*.trail")),
             *sorted((FIXTURES / "demo").glob("2*"))]
    return [str(p) for p in found if p.is_file()]


def _options_of(args: list[str]) -> list[str]:
    """A golden case's options without its input files."""
    return [a for a in args if not (a.startswith("trail/") or a.endswith(".trail"))]


EXTRA_OPTIONS = [
    [], ["-v"], ["-A"], ["-u", "501"], ["-u", "0", "-u", "501"], ["-e", "0"], ["-f", "20"],
    ["-r", "501"], ["-g", "0"], ["-j", "1250"], ["-o", "pid=1"], ["-o", "msgqid=1"],
    ["-o", "semid=3", "-o", "shmid=4"], ["-c", "ex"], ["-c", "+fc,-fd,^ex"], ["-c", "lo"],
    ["-c", "-all"], ["-o", "file=/Users"], ["-o", "file=^/(bin|usr)/"],
    ["-o", "file=~^/private,/"], ["--path", "a.*b"], ["-o", "file=[[:digit:]]{2}"],
    ["-o", "file=^/[^/]+/[a-z]+$"], ["-o", "file="], ["-o", "file=.ssh|\\.plist$"],
    ["-v", "-u", "501"], ["-v", "-o", "file=/Users"], ["-m", "AUE_EXECVE", "-u", "501"],
    ["-v", "-m", "AUE_EXECVE"], ["-a", "20240316"], ["-b", "20240316120000"],
    ["-d", "20240315"], ["-v", "-a", "20240316"],
    ["--since", "2024-03-16T00:00:00Z", "-u", "501"],
    ["--since", "2024-03-15T00:00:00Z", "--until", "2024-03-16T00:00:00Z", "-v", "-c", "fr"],
]


def _both(args: list[str], monkeypatch, input: bytes | None = None):
    """(C walk result, records frame result) of one command line."""
    fast = _run(args, "c", input=input)
    with monkeypatch.context() as m:
        m.setattr(reduce_module, "_program", lambda selection, tables: None)
        frame = _run(args, "c", input=input)
    return fast, frame


def _same(fast, frame, codes=(0, 1)) -> None:
    assert fast.exit_code == frame.exit_code and fast.exit_code in codes, fast.stderr
    assert fast.stdout_bytes == frame.stdout_bytes
    assert fast.stderr == frame.stderr


@needs_c
@needs_shared
@pytest.mark.parametrize("options", [_options_of(c["args"]) for c in CASES.values()]
                         + EXTRA_OPTIONS, ids=lambda o: " ".join(o) or "none")
def test_c_walk_selects_as_the_frame_does(options, monkeypatch, parity_trail):
    """Every golden case's options and more, on every fixture and scenario trail."""
    monkeypatch.chdir(OPENBSM)
    monkeypatch.setenv("TZ", "UTC")
    _same(*_both([*options, str(parity_trail)], monkeypatch), codes=(0, 1, 64))


@pytest.fixture(scope="module")
def parity_trail(tmp_path_factory) -> Path:
    """Every fixture and scenario trail in one file (one run per case instead of ~130)."""
    path = tmp_path_factory.mktemp("parity") / "all.trail"
    path.write_bytes(b"".join(Path(p).read_bytes() for p in _parity_trails()))
    return path


@needs_c
@needs_shared
def test_c_walk_on_many_inputs(monkeypatch):
    monkeypatch.chdir(OPENBSM)
    for options in (["-u", "501"], ["-v", "-o", "file=/Users"]):
        _same(*_both([*options, *_parity_trails()], monkeypatch))


@needs_c
@needs_shared
def test_c_walk_on_stdin(monkeypatch):
    monkeypatch.chdir(OPENBSM)
    data = b"".join(Path(p).read_bytes() for p in _parity_trails())
    for options in (["-u", "501"], ["-o", "file=/Users"], [], ["-v", "-c", "fr"]):
        _same(*_both([*options, "-"], monkeypatch, input=data))


@needs_c
def test_c_walk_takes_the_common_selections():
    """-m, -u, -o file=, -c, times, ids and ipc run in the C walk; sock=, -z and regexes
    outside the shared POSIX/Rust subset stay on the frame."""
    from forensics.bsm import cselect

    tables = load_tables()

    def takes(**options) -> bool:
        return cselect.supported(Selection.from_options(tables=tables, tz="UTC", **options))

    assert takes(event=["AUE_EXECVE"]) and takes(auid=[501]) and takes(klass="ex")
    assert takes(objects=["file=/Users", "file=~^/private,^/[^/]+/.*\\.plist$"])
    assert takes(objects=["msgqid=1", "pid=3"], after="20240316", invert=True)
    assert not takes(objects=["sock=443"])
    assert not takes(zone="global")
    assert takes(objects=["file=^/a.b", "file=é+|[^/]{2}$"])
    assert not takes(objects=["file=\\d+"]) and not takes(objects=["file=(?i)/users"])
    # a hand-built selection with values the C program cannot hold stays on the frame
    assert not cselect.supported(Selection(events=frozenset({70000})))
    assert not cselect.supported(Selection(users=(("auid", frozenset({1 << 40})),)))


@needs_c
@needs_shared
@pytest.mark.parametrize("map_range", [1, 300, 1000, 16 << 20])
def test_c_walk_bounds_memory_on_a_mapped_trail(tmp_path, monkeypatch, map_range):
    """A trail is selected in record-aligned ranges of the map, two at once in two threads
    (damage included): the output and the warnings are the same whatever the range size."""
    monkeypatch.chdir(OPENBSM)
    monkeypatch.setattr(reduce_module, "MAP_RANGE", map_range)
    monkeypatch.setattr(reduce_module, "_CORES", 2)
    damaged = [OPENBSM / "trail" / n for n in ("garbage-between-records.trail",
                                               "starts-mid-record.trail", "crash-truncated.trail")]
    data = b"".join(p.read_bytes() for p in [
        *(FIXTURES / "scenarios" / n for n in ("sudo_over_ssh.trail", "su.trail")),
        *(p for p in damaged if p.is_file())])
    trail = tmp_path / "t.trail"
    trail.write_bytes(data)
    for options in (["-u", "501"], [], ["-v", "-m", "AUE_EXECVE"], ["-o", "file=/"],
                    ["-o", "file=~^/private,^/[^/]+/"]):
        fast, frame = _both([*options, str(trail)], monkeypatch)
        _same(fast, frame)
        assert fast.exit_code == 0 and (fast.stdout_bytes or options == ["-o", "file=/"])


@needs_c
def test_c_walk_writes_to_a_file_descriptor(tmp_path):
    """Output to a real file goes out in gathered writes; the bytes are the same."""
    import io

    tables = load_tables()
    data = b"".join(p.read_bytes() for p in sorted((FIXTURES / "scenarios").glob("*.trail")))
    trail = tmp_path / "t.trail"
    trail.write_bytes(data)
    sel = Selection.from_options(tables=tables, tz="UTC", objects=["file=^/(Users|bin)/"])
    expected = io.BytesIO()
    reduce([str(trail)], sel, expected, tables=tables, fast=False)
    with open(tmp_path / "out.trail", "wb") as out:
        out.write(b"head")          # buffered before the gathered writes: stays first
        stats = reduce([str(trail)], sel, out, tables=tables, backend="c")
    assert (tmp_path / "out.trail").read_bytes() == b"head" + expected.getvalue()
    assert stats.bytes_written == len(expected.getvalue()) > 0


# the regex subset: where a POSIX regex (C library, "C" locale) and a Rust regex (Polars) agree

_PATTERN_ATOMS = ["a", "b", "/", ".", "\\.", "[ab]", "[^/]", "[[:digit:]]", "[a-c]", "(", ")",
                  "|", "^", "$", "*", "+", "?", "{2}", "{1,3}", "é", "\\\\", "-", " ", "[^a]",
                  "\u2603", "x", "[-a]", "[a-]", "{0}", "{2,}", ".+", "[^a-]", "\ueeff"]
_TEXT_PIECES = ["a", "b", "/", ".", "\n", "\x00", "é", "\u2603", "1", "22", "ab", "\\", "c",
                "\udcff", "\udcc3", "\ueeff", "-", "\U0001F600"]


@needs_c
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_PATTERN_ATOMS), max_size=8),
       st.lists(st.lists(st.sampled_from(_TEXT_PIECES), max_size=10), min_size=1, max_size=6))
def test_posix_subset_matches_as_rust_does(atoms, texts):
    import polars as pl
    from forensics.bsm import cselect
    from forensics.text import decode_bytes

    pattern = "".join(atoms)
    posix = cselect.posix_form(pattern)
    if posix is None:
        return
    # every accepted pattern is a valid Rust regex (the reference never refuses it)
    raws = ["".join(t).encode("utf-8", "surrogateescape") for t in texts]
    strings = [decode_bytes(r) for r in raws]
    rust = pl.Series(strings, dtype=pl.String).str.contains(pattern).to_list()
    compiled = [cselect.Regexes([(pattern, False)]), cselect.Regexes([(pattern, True),
                                                                       ("", False)])]
    for raw, expected in zip(raws, rust):
        text = cselect_text(raw)
        assert compiled[0].decide(text) == expected, (pattern, raw)
        assert compiled[1].decide(text) == (not expected), (pattern, raw)


def cselect_text(raw: bytes) -> bytes:
    from forensics.bsm.cdecode import text_map
    return text_map(raw).encode("utf-8")


@needs_c
@needs_shared
def test_c_walk_keeps_the_trail_size_ceiling(tmp_path, monkeypatch):
    """A mapped trail over the size ceiling is cut where reading it would be, and said so."""
    from forensics.collection import files

    data = (FIXTURES / "scenarios" / "sudo_over_ssh.trail").read_bytes()
    trail = tmp_path / "t.trail"
    trail.write_bytes(data)
    monkeypatch.chdir(OPENBSM)
    monkeypatch.setattr(files, "MAX_TRAIL_BYTES", len(data) // 2)
    fast, frame = _both(["-u", "501", str(trail)], monkeypatch)
    _same(fast, frame)
    assert fast.exit_code == 1 and "ceiling" in fast.stderr



_IDS = st.lists(st.sampled_from([0, 1, 20, 80, 501, 502, 503, 4294967295]), max_size=2)
_FILE_RES = ["/Users", "^/bin/", "~^/private", "\\.plist$", "^/[^/]+/[a-z]+$", "a.b", "^/$",
             "^/(usr|bin|sbin)/.*", "[[:upper:]]", "é", ".+/.+", "\\d", "(?i)users"]


@needs_c
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional={
    "event": st.lists(st.sampled_from(["AUE_EXECVE", "AUE_OPEN_R", "AUE_EXIT", "AUE_FORK",
                                       "AUE_CLOSE", "23", "6152"]), min_size=1, max_size=2),
    "klass": st.sampled_from(["ex", "+fr", "-fw", "lo,^ex", "pc,+fc", "all,^-all", "fr,fw,fc"]),
    "auid": _IDS, "euid": _IDS, "egid": _IDS, "ruid": _IDS, "rgid": _IDS,
    "pid": st.lists(st.integers(0, 2000), max_size=2),
    "objects": st.lists(st.one_of(
        st.builds("file={}".format, st.sampled_from(_FILE_RES)),
        st.builds("pid={}".format, st.integers(0, 2000)),
        st.sampled_from(["msgqid=1", "semid=2", "shmid=3", "sock=443"])), max_size=3),
    "after": st.sampled_from(["20240315", "20240315100000", "20240315133000"]),
    "before": st.sampled_from(["20240315093000", "20240315120000", "20240317"]),
    "invert": st.booleans(), "all": st.booleans(),
}))
def test_c_walk_matches_the_frame_on_random_selections(options):
    """Random option combinations on the scenario and demo trails: both paths, same bytes."""
    import io

    tables = load_tables()
    sel = Selection.from_options(tables=tables, tz="UTC", **options)
    paths = [str(p) for p in sorted((FIXTURES / "scenarios").glob("*.trail"))]
    paths += [str(p) for p in sorted((FIXTURES / "demo").glob("2*"))]
    fast, frame = io.BytesIO(), io.BytesIO()
    stats = reduce(paths, sel, fast, tables=tables, backend="c")
    reference = reduce(paths, sel, frame, tables=tables, backend="c", fast=False)
    assert fast.getvalue() == frame.getvalue()
    assert stats == reference


@needs_c
def test_reduce_command_loads_no_frame_library(tmp_path):
    """On the C walk, ``knox-report reduce`` imports neither Polars nor pyarrow nor numpy."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from forensics.cli.main import main\n"
            "code = main(['reduce', *sys.argv[1:]])\n"
            "print(sorted(m for m in ('polars', 'pyarrow', 'numpy') "
            "if m in sys.modules), file=sys.stderr)\nsys.exit(code)\n")
    trail = str(FIXTURES / "scenarios" / "sudo_over_ssh.trail")
    for options in (["-u", "501"], ["-m", "AUE_EXECVE", "-c", "+ex"], ["-o", "file=^/Users/"]):
        out = subprocess.run([sys.executable, "-c", code, *options, "--output",
                              str(tmp_path / "o.trail"), trail], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "KNOX_REPORT_BACKEND": "c"})
        assert out.returncode == 0, out.stderr
        assert out.stderr.strip().splitlines()[-1] == "[]", out.stderr
