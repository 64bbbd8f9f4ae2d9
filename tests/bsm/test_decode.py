"""The decoder: framing, resync, token walk and the records frame, on both backends."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from forensics import text
from forensics.bsm import backends, decode, tokens
from forensics.bsm import writer as w

from ..conftest import shared_files, shared_path

T0 = 1710493198.0


def _trail(*records: bytes) -> bytes:
    return b"".join(records)


def _execve(argv, count=None, *, time=T0, env=None):
    toks = [w.exec_args(argv, count)]
    if env is not None:
        toks.append(w.exec_env(env))
    toks += [w.path("/bin/sh"), w.path("/bin/sh"), w.attr(0o100755), w.subject(auid=501, pid=77, asid=100001),
             w.return32(), w.identity("com.apple.sh", cdhash=bytes(range(20)), platform=True)]
    return w.record(w.AUE_EXECVE, toks, time=time)


def test_realistic_trail_counts(backend):
    buf = shared_path("openbsm", "trail", "realistic.trail").read_bytes()
    result = backends.decode_records(buf, backend)
    assert result.records.height == 41 and result.file_tokens == 2 and result.errors == []
    index = shared_path("openbsm", "trail", "realistic.trail.index.tsv").read_text().splitlines()[1:]
    want = [(int(r.split("\t")[1]), int(r.split("\t")[2]), int(r.split("\t")[4]))
            for r in index if r.split("\t")[3] != "0x11"]
    got = result.records.select("offset", "length", "event").rows()
    assert got == want


@pytest.mark.parametrize("name,records,damage", [
    ("crash-truncated.trail", 19, [(2552, 40, "truncated record")]),
    ("garbage-between-records.trail", 41, [(1359, 5, "garbage")]),
    ("starts-mid-record.trail", 34, [(0, 158, "garbage")]),
])
def test_damaged_trails_keep_every_good_record(backend, name, records, damage):
    buf = shared_path("openbsm", "trail", name).read_bytes()
    result = backends.decode_records(buf, backend)
    assert result.records.height == records
    assert result.errors == damage


@pytest.mark.parametrize("path", [p for p in shared_files("real") if p.suffix != ".md"], ids=lambda p: p.name)
def test_real_trails_decode_cleanly(backend, path):
    result = backends.decode_records(path.read_bytes(), backend)
    if path.name.endswith("scuffed-size"):
        # the first record's size field is 0xffffffff: its intact trailer frames it
        assert result.errors == [(0, 56, "repaired record size")] and result.records.height == 3
        assert result.records["damage"].to_list() == ["repaired record size", None, None]
    else:
        assert result.errors == [] and result.records["damage"].null_count() == result.records.height


def test_real_trail_record_counts(backend):
    counts = {"plaso-apple.bsm": 54, "plaso-openbsm.bsm": 50, "openbsm-execve-long-args.trail": 1,
              "gobsm-start_stop.bsm": 2, "openbsm-parser-20211014091059.20211014112919": 34,
              "macos-bunnymech-bind-listen-socket.bsm": 3}
    for name, n in counts.items():
        assert backends.decode_records(shared_path("real", name).read_bytes(), backend).records.height == n


def test_identity_and_tokens_after_it(backend):
    rec = w.record(w.AUE_EXECVE, [w.path("/bin/ls"), w.subject(auid=501), w.return32(),
                                  w.identity("com.apple.ls", "TEAMID1234", b"\xab" * 20), w.text("after")],
                   time=T0)
    row = backends.decode_records(rec, backend).records.row(0, named=True)
    assert (row["signing_id"], row["team_id"], row["cdhash"]) == ("com.apple.ls", "TEAMID1234", "ab" * 20)
    assert row["text"] == ["after"] and row["token_count"] == 7 and row["damage"] is None


def test_exec_args_cut_by_the_kernel(backend):
    """macOS 12+ keeps the original count but writes fewer strings: trust the record end."""
    buf = _trail(_execve(["sh", "-c", "/x y"], count=4000, env=["A=1"]), _execve(["ls"]))
    result = backends.decode_records(buf, backend)
    rows = result.records.select("exec_argv", "exec_args_count", "exec_env", "paths", "auid", "damage").rows()
    assert rows[0] == (["sh", "-c", "/x y"], 4000, ["A=1"], ["/bin/sh", "/bin/sh"], 501, None)
    assert rows[1][0] == ["ls"] and result.errors == []


def test_unknown_token_keeps_the_rest_as_damage(backend):
    good = w.record(w.AUE_EXIT, [w.exit_token(3), w.subject(auid=501, pid=9), w.return32()], time=T0)
    body = w.path("/a") + b"\x99\x00\x01" + w.text("lost")
    bad = w.record(w.AUE_OPEN_R, [body], time=T0 + 1)
    result = backends.decode_records(good + bad + good, backend)
    assert result.records.height == 3
    assert result.records["damage"].to_list() == [None, "unknown token", None]
    assert result.records["paths"].to_list()[1] == ["/a"]
    off = len(good) + 18 + len(w.path("/a"))
    assert result.errors == [(off, len(body) - len(w.path("/a")), "unknown token")]


def test_window_and_event_prechecks(backend):
    buf = _trail(*(w.record(w.AUE_EXIT if i % 2 else w.AUE_FORK, [w.subject(pid=i), w.return32()],
                            time=T0 + i) for i in range(10)))
    ms = int(T0 * 1000)
    result = backends.decode_records(buf, backend, since_ms=ms + 2000, until_ms=ms + 6000)
    assert result.records["pid"].to_list() == [2, 3, 4, 5] and result.records_seen == 10
    result = backends.decode_records(buf, backend, events=frozenset({w.AUE_EXIT}))
    assert result.records["pid"].to_list() == [1, 3, 5, 7, 9]


def test_header_kinds_and_addresses(backend):
    recs = [
        w.record(w.AUE_CONNECT, [w.arg(1, 5, "fd"), w.sockinet("2001:db8::1", 443),
                                 w.subject(auid=501, host="fe80::1"), w.return32(36, -1)],
                 time=T0, header="header32_ex", host="::ffff:10.0.0.1"),
        w.record(w.AUE_BIND, [w.sockinet("127.0.0.1", 8080), w.subject(), w.return32()],
                 time=T0, header="header64"),
        w.record(w.AUE_ACCEPT, [w.socket_ex("10.0.0.2", 22, "10.0.0.9", 5000), w.subject(),
                                w.return32()], time=T0, header="header64_ex", host="10.1.1.1"),
    ]
    rows = backends.decode_records(_trail(*recs), backend).records.to_dicts()
    assert rows[0]["host"] == "::ffff:10.0.0.1" and rows[0]["terminal_host"] == "fe80::1"
    assert rows[0]["remote_address"] == "2001:db8::1" and rows[0]["return_value"] == -1
    assert rows[0]["success"] is False and rows[0]["return_errno"] == 36
    assert (rows[1]["local_address"], rows[1]["local_port"], rows[1]["header_token"]) == ("127.0.0.1", 8080, 0x74)
    assert (rows[2]["local_address"], rows[2]["remote_port"], rows[2]["socket_family"]) == ("10.0.0.2", 5000, "inet")


def test_invalid_utf8_is_kept_losslessly(backend):
    raw = b"/tmp/\xff\xfe caf\xc3\xa9 \xee\xbe\x80"
    rec = w.record(w.AUE_OPEN_R, [w.path(raw), w.subject(), w.return32()], time=T0)
    value = backends.decode_records(rec, backend).records["paths"][0][0]
    assert text.encode_text(value) == raw and "café" in value


@given(st.binary(max_size=200))
def test_text_mapping_round_trips(data):
    assert text.encode_text(text.decode_bytes(data)) == data


@pytest.mark.parametrize("name", sorted(tokens.BY_NAME))
def test_every_token_round_trips_through_the_table(name):
    """Each token in the shared token goldens parses, and re-encodes to the same bytes."""
    spec = tokens.BY_NAME[name]
    for path in shared_files("openbsm/tokens"):
        if "." in path.name:
            continue
        buf = path.read_bytes()
        if buf[0] != spec.id:
            continue
        tid, values, end = tokens.parse(buf, 0, len(buf))
        assert end == len(buf) and tokens.encode(tid, values) == buf


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise(data):
    decoded = decode.decode(data)
    covered = sum(length for _, length, _ in decoded.errors)
    assert covered <= len(data)


@pytest.mark.parametrize("path", [p for p in shared_files("openbsm/records") if "." not in p.name],
                         ids=lambda p: p.name)
def test_writer_rebuilds_golden_records(path):
    """The trail writer, fed the decoded tokens of a golden record, writes the same bytes."""
    buf = path.read_bytes()
    items = list(decode.frame(buf))
    for item in items:
        if item.kind != "record":
            continue
        end = item.offset + item.length - 7
        toks, damage = decode.walk(buf, item.offset, end)
        if damage is not None:
            continue
        head, body = toks[0], toks[1:]
        kinds = {0x14: "header32", 0x15: "header32_ex", 0x74: "header64", 0x79: "header64_ex"}
        hv = head.values
        ex = head.id in (0x15, 0x79)
        sec, msec = (hv[5], hv[6]) if ex else (hv[4], hv[5])
        if msec > 999 or (ex and hv[4][0] not in (4, 16)):
            continue
        host = decode.format_ip4(hv[4][1]) if ex and hv[4][0] == 4 else (
            decode.format_ip6(hv[4][1]) if ex else None)
        rebuilt = w.record(hv[2], [tokens.encode(t.id, t.values) for t in body],
                           time=sec + msec / 1000, modifier=hv[3], version=hv[1],
                           header=kinds[head.id], host=host)
        assert rebuilt == buf[item.offset:item.offset + item.length]


def _exec_soup(n: int, count: int = 3) -> bytes:
    """A record of n exec_args tokens, each claiming more strings than it has."""
    toks = [w.exec_args(["a", "=b", "'c"], count=count) for _ in range(n)]
    return w.record(w.AUE_EXECVE, toks + [w.subject(), w.return32()], time=T0)


@pytest.mark.parametrize("n", [1500, 3000])
def test_many_exec_tokens_need_no_recursion(backend, n):
    result = backends.decode_records(_exec_soup(n, count=3), backend)
    assert result.records.height == 1 and result.records["damage"][0] is None


def test_crafted_cut_search_stays_fast(backend):
    """Tokens whose strings look like followers: the memoised search is linear, not exponential."""
    import time

    start = time.perf_counter()
    result = backends.decode_records(_exec_soup(60, count=9), backend)
    assert time.perf_counter() - start < 5
    assert result.records.height == 1


def test_token_count_is_capped(backend):
    rec = w.record(w.AUE_EXIT, [w.seq(i) for i in range(70000)], time=T0)
    assert backends.decode_records(rec, backend).records["token_count"].to_list() == [65535]


def test_memoryview_input(backend):
    buf = _execve(["ls"])
    assert backends.decode_records(memoryview(buf), backend).records.height == 1


def _sized(record: bytes, size: int) -> bytes:
    return record[:1] + size.to_bytes(4, "big") + record[5:]


@pytest.mark.parametrize("bad_size", [0xFFFFFFFF, 3, 60])
def test_wrong_header_size_is_repaired_from_the_trailer(backend, bad_size):
    recs = [w.record(w.AUE_EXIT, [w.exit_token(i), w.subject(pid=i), w.return32()], time=T0 + i)
            for i in range(3)]
    buf = recs[0] + _sized(recs[1], bad_size) + recs[2]
    result = backends.decode_records(buf, backend)
    assert result.records["pid"].to_list() == [0, 1, 2]
    assert result.errors == [(len(recs[0]), len(recs[1]), "repaired record size")]
    assert result.records["damage"].to_list() == [None, "repaired record size", None]


def test_wrong_size_and_broken_trailer_is_skipped(backend):
    recs = [w.record(w.AUE_EXIT, [w.exit_token(i), w.subject(pid=i), w.return32()], time=T0 + i)
            for i in range(3)]
    broken = _sized(recs[1], 0xFFFFFFFF)[:-4] + b"\0\0\0\0"
    result = backends.decode_records(recs[0] + broken + recs[2], backend)
    assert result.records["pid"].to_list() == [0, 2]
    assert result.errors == [(len(recs[0]), len(broken), "truncated record")]
