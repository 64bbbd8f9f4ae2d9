"""Process lifetimes (forensics.processes) over the project's scenarios and real trails.

Each scenario test states the lifetimes it expects; scenarios are built by
forensics.testing and committed under tests/fixtures/scenarios.
"""

from __future__ import annotations

import os

import polars as pl
import pytest

from forensics.model import processes
from forensics.testing import scenarios
from forensics.bsm import writer as w
from forensics.testing.scenarios import ALICE, BOB, DSHELPER, XPCPROXY, Proc, Story, person

from tests.model.attribution_helpers import (BACKENDS, DEMO, SCENARIOS, need_real, one, records_from_bytes,
                                 records_of, scenario)

UNSET = 0xFFFFFFFF


def lives(name: str, backend: str = "python") -> pl.DataFrame:
    return processes.build(scenario(name, backend))


def by_pid(frame: pl.DataFrame, pid: int) -> list[dict]:
    return frame.filter(pl.col("pid") == pid).sort("first_seq").to_dicts()


# ---- the fixtures themselves ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(scenarios.SCENARIOS))
def test_scenario_fixture_regenerates_identically(name):
    assert (SCENARIOS / f"{name}.trail").read_bytes() == scenarios.build(name), (
        f"tests/fixtures/scenarios/{name}.trail is stale: run python -m forensics.testing")


def test_demo_collection_regenerates_identically(tmp_path):
    expected = scenarios.demo_trails()
    names = sorted(p.name for p in DEMO.iterdir())
    assert names == sorted([n for n, _ in expected] + ["current"])
    for name, data in expected:
        assert (DEMO / name).read_bytes() == data, f"demo/{name} is stale"
    assert os.readlink(DEMO / "current") == expected[-1][0]
    assert expected[-1][0].endswith(".not_terminated")
    assert sum(1 for n, _ in expected if not n.endswith(".not_terminated")) >= 2
    scenarios.write_demo(tmp_path / "demo")
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == names
    etc = DEMO.parent / "demo_etc"
    assert (etc / "passwd").read_text() == scenarios.DEMO_PASSWD
    assert (etc / "group").read_text() == scenarios.DEMO_GROUP


def test_python_module_writes_every_scenario(tmp_path):
    assert scenarios.main([str(tmp_path / "s"), "--demo", str(tmp_path / "d")]) == 0
    for name in scenarios.SCENARIOS:
        assert (tmp_path / "s" / f"{name}.trail").read_bytes() == scenarios.build(name)
    assert (tmp_path / "d" / "current").is_symlink()


# ---- scenarios ----------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_finder_copy_xpcproxy_execs_in_place(backend):
    p = lives("finder_copy", backend)
    assert p.height == 3
    finder = one(p, pid=412)
    assert finder["start_evidence"] == "first seen" and finder["start"] is None
    assert finder["auid"] == ALICE and finder["asid"] == 100007
    launchd = one(p, pid=1)
    assert launchd["start_evidence"] == "first seen" and launchd["auid"] == UNSET
    helper = one(p, pid=905)
    # one lifetime, two images: xpcproxy then the service it became
    assert helper["images"] == [XPCPROXY, DSHELPER]
    assert helper["argv"] == ["DesktopServicesHelper"]
    assert helper["start_evidence"] == "posix_spawn"
    assert helper["ppid"] == 1 and helper["parent_proc_id"] == launchd["proc_id"]
    assert helper["end_evidence"] == "exit" and helper["exit_status"] == 0
    assert helper["auid"] == UNSET and helper["euid"] == 0 and helper["asid"] == 100000
    # the spawn-in-place, 3 opens, the exit and the 3 closes committed after it
    assert helper["records"] == 8
    assert helper["end"] < helper["last_seen"]
    assert helper["signing_id"] == "com.apple.DesktopServicesHelper"
    assert helper["cdhash"] == scenarios.cdhash(DSHELPER).hex()
    assert helper["responsible_proc_id"] == finder["proc_id"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_sudo_over_ssh_chain_and_credentials(backend):
    p = lives("sudo_over_ssh", backend)
    sshd, conn, priv, shell, sudo, ls = (one(p, pid=n) for n in (88, 1200, 1201, 1202, 1203, 1204))
    assert sshd["start_evidence"] == "first seen"
    for child, parent in ((conn, sshd), (priv, conn), (shell, priv), (sudo, shell), (ls, sudo)):
        assert child["parent_proc_id"] == parent["proc_id"]
        assert child["ppid"] == parent["pid"]
        assert child["start_evidence"] == "fork"
        assert child["end_evidence"] == "exit"
    assert shell["images"] == ["/bin/zsh"]
    assert sudo["images"] == ["/bin/zsh", "/usr/bin/sudo"]          # fork of zsh, then exec
    assert sudo["argv"] == ["sudo", "ls", "/var/root"]
    assert ls["images"] == ["/usr/bin/sudo", "/bin/ls"]
    # the connection process gets its session from setaudit_addr
    assert conn["auid"] == UNSET and conn["asid"] == 100000
    change = [c for c in conn["credential_changes"] if c["kind"] == "observed"]
    assert [(c["via"], c["auid"], c["asid"]) for c in change] == [("setaudit_addr", ALICE, 100012)]
    # the set-user-id exec shows in the next record: euid 0, auid kept
    change = sudo["credential_changes"]
    assert [(c["kind"], c["via"], c["euid"], c["ruid"], c["auid"]) for c in change] == [
        ("observed", "execve", 0, ALICE, ALICE)]
    assert sudo["euid"] == ALICE                                   # before the exec
    kinds = [(c["kind"], c["via"], c["requested"], c["ruid"]) for c in ls["credential_changes"]]
    assert kinds == [("requested", "setuid", "uid 0", None), ("observed", "setuid", None, 0)]
    for life in (conn, priv, shell, sudo, ls):
        assert life["user"] == ALICE and life["user_kind"] == "direct"
    assert sshd["user"] is None


def test_su_credentials_and_user():
    p = lives("su")
    su, bob_shell, failed = one(p, pid=2101), one(p, pid=2102), one(p, pid=2103)
    vias = [(c["kind"], c["via"]) for c in su["credential_changes"]]
    # setgid(20) changes nothing visible (alice's gid is 20 already)
    assert vias == [("observed", "execve"), ("requested", "setgid"), ("requested", "setuid"),
                    ("observed", "setuid")]
    last = su["credential_changes"][-1]
    assert (last["auid"], last["euid"], last["ruid"]) == (ALICE, BOB, BOB)
    assert bob_shell["images"] == ["/usr/bin/su", "/bin/zsh"]
    assert (bob_shell["auid"], bob_shell["euid"], bob_shell["ruid"]) == (ALICE, BOB, BOB)
    assert bob_shell["user"] == ALICE                                  # su keeps the auid
    assert failed["exit_status"] == 1 and failed["argv"] == ["su", "-"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_pid_reuse_three_ways(backend):
    p = lives("pid_reuse", backend)
    assert p.get_column("proc_id").n_unique() == p.height
    shell = one(p, pid=3000)
    # 1. exit, then a new fork of the same pid
    first, second = by_pid(p, 3001)
    assert first["images"] == ["/bin/sleep"] and first["end_evidence"] == "exit"
    assert second["images"] == ["/usr/bin/true"] and second["start_evidence"] == "fork"
    assert second["parent_proc_id"] == shell["proc_id"]
    # 2. no exit (killed by a signal), then announced again
    killed, again = by_pid(p, 3002)
    assert killed["images"] == ["/usr/bin/yes"]
    assert killed["end_evidence"] == "pid reused" and killed["end"] is None
    assert killed["exit_status"] is None
    assert again["images"] == ["/bin/cat"] and again["end_evidence"] == "exit"
    assert killed["last_seen"] < again["start"]
    # 3. wrap-around: 99998, 99999, then 100, which a process older than the trail had
    old, new = by_pid(p, 100)
    assert old["start_evidence"] == "first seen" and old["end_evidence"] == "pid reused"
    assert new["start_evidence"] == "posix_spawn" and new["ppid"] == 1
    assert new["images"] == ["/usr/libexec/mdworker_shared"]
    assert [one(p, pid=n)["end_evidence"] for n in (99998, 99999)] == ["exit", "exit"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_child_records_before_the_announcement(backend):
    recs = scenario("child_before_parent", backend)
    p = processes.build(recs)
    shell, grep, ls = one(p, pid=4000), one(p, pid=4001), one(p, pid=4002)
    # posix_spawn: two file actions and an open precede the spawn record, in file and time
    assert grep["start_evidence"] == "posix_spawn" and grep["parent_proc_id"] == shell["proc_id"]
    assert grep["records"] == 5
    spawn = one(recs, event=w.AUE_POSIX_SPAWN)
    assert grep["first_offset"] < spawn["offset"]
    assert grep["first_seen"] < spawn["time"]
    assert grep["start"] == grep["first_seen"]
    assert grep["images"] == ["/usr/bin/grep"]
    # fork: the child's exec is committed before the fork record
    assert ls["start_evidence"] == "fork" and ls["parent_proc_id"] == shell["proc_id"]
    assert ls["images"] == ["/bin/ls"] and ls["records"] == 3
    fork = one(recs, event=w.AUE_FORK)
    assert ls["first_offset"] < fork["offset"]


def test_shell_pipeline_children():
    p = lives("shell_pipeline")
    shell = one(p, pid=5000)
    kids = [one(p, pid=n) for n in (5001, 5002, 5003)]
    assert [k["images"] for k in kids] == [["/bin/cat"], ["/usr/bin/grep"], ["/usr/bin/wc"]]
    assert [k["argv"] for k in kids] == [["cat", "/etc/passwd"], ["grep", "alice"], ["wc", "-l"]]
    assert all(k["parent_proc_id"] == shell["proc_id"] and k["exit_status"] == 0 for k in kids)
    assert all(k["responsible_proc_id"] == shell["proc_id"] for k in kids)


def test_script_interpreter():
    p = lives("script_interpreter")
    sh, tar = one(p, pid=6001), one(p, pid=6002)
    assert sh["images"] == ["/Users/alice/bin/backup.sh"]        # kpath, not upath ./backup.sh
    assert sh["interpreter"] == "/bin/sh"
    assert sh["argv"] == ["/bin/sh", "./backup.sh", "--full"]
    assert sh["cdhash"] == scenarios.cdhash("/bin/sh").hex()
    assert tar["images"] == ["/Users/alice/bin/backup.sh", "/usr/bin/tar"]
    assert tar["interpreter"] is None and tar["parent_proc_id"] == sh["proc_id"]


def test_daemon_auid_unset():
    p = lives("daemon_auid_unset")
    d, web = one(p, pid=310), one(p, pid=311)
    for life in (d, web):
        assert life["ppid"] == 1 and life["start_evidence"] == "posix_spawn"
        assert life["auid"] == UNSET and life["user"] is None
        assert life["user_kind"] == "direct" and life["responsible_proc_id"] == life["proc_id"]
    assert d["end_evidence"] == "exit"
    assert web["end_evidence"] == "last seen" and web["end"] is None
    final = [c for c in web["credential_changes"] if c["kind"] == "observed"][-1]
    assert (final["euid"], final["ruid"], final["egid"]) == (70, 70, 70)


def test_login_logout_lifetimes():
    p = lives("login_logout")
    terminal, login, shell = one(p, pid=700), one(p, pid=7001), one(p, pid=7002)
    assert login["parent_proc_id"] == terminal["proc_id"]
    assert login["images"] == ["/usr/bin/login"] and login["euid"] == 0
    assert shell["images"] == ["/usr/bin/login", "/bin/zsh"]
    failed = one(p, pid=7100)
    assert failed["exit_status"] == 255
    assert failed["user"] is None                # a failed login names bob; nobody got in
    assert one(p, pid=7101)["user"] == BOB and one(p, pid=7102)["asid"] == 100021


# ---- rules on small made-up trails ----------------------------------------------------------

def test_exec_chain_setuid_and_setauid():
    """One life, several images: zsh forks, the child execs sh, which execs env, which execs
    python3 (exec replaces the image, never the process); setauid and seteuid are listed."""
    st = Story("2024-03-15T09:00:00")
    shell = person(800, "/bin/zsh")
    st.execve(shell, "/bin/zsh", ["-zsh"])                      # the shell's own image
    kid = st.fork(shell, 801)
    kid = st.execve(kid, "/bin/sh", ["sh", "-c", "exec env python3 x.py"])
    kid = st.execve(kid, "/usr/bin/env", ["env", "python3", "x.py"])
    kid = st.execve(kid, "/usr/bin/python3", ["python3", "x.py"])
    kid = st.execve(kid, "/nonexistent", ["nope"], ok=False)   # a failed exec changes nothing
    st.kernel(kid, w.AUE_SETAUID, [w.arg(2, BOB, "setauid")])
    kid = st.seteuid(kid, 0)
    st.open(kid, "/etc/hosts", "r", fd=3, owner=0)
    p = processes.build(records_from_bytes(st.trail.getvalue()))
    life = one(p, pid=801)
    assert life["images"] == ["/bin/zsh", "/bin/sh", "/usr/bin/env", "/usr/bin/python3"]
    assert life["argv"] == ["python3", "x.py"]
    assert life["image_seqs"] == sorted(life["image_seqs"])
    changes = [(c["kind"], c["via"], c["requested"], c["euid"])
               for c in life["credential_changes"]]
    assert changes == [("requested", "setauid", f"setauid {BOB}", None),
                       ("requested", "seteuid", "uid 0", None),
                       ("observed", "seteuid", None, 0)]
    assert one(p, pid=800)["images"] == ["/bin/zsh"]


def test_records_after_exit_grace_then_new_life():
    st = Story("2024-03-15T09:00:00")
    shell = person(800, "/bin/zsh")
    kid = st.fork(shell, 801)
    kid = st.execve(kid, "/usr/bin/make", ["make"])
    st.exit(kid, 2)
    st.close(kid, 3, "/tmp/a", owner=ALICE)                          # within the grace period
    st.wait(60_000)
    stranger = Proc(801, auid=ALICE, euid=ALICE, ruid=ALICE, egid=20, rgid=20, asid=100007)
    st.open(stranger, "/tmp/b", "r", fd=3, owner=ALICE)              # an unannounced new life
    p = processes.build(records_from_bytes(st.trail.getvalue()))
    first, second = by_pid(p, 801)
    assert first["records"] == 3 and first["exit_status"] == 2 and first["end_evidence"] == "exit"
    assert second["start_evidence"] == "first seen" and second["records"] == 1
    assert second["parent_proc_id"] is None and second["images"] == []


def test_exec_after_exit_is_a_new_life_even_within_grace():
    st = Story("2024-03-15T09:00:00")
    a = Proc(900, auid=ALICE, euid=ALICE, ruid=ALICE, asid=100007)
    st.exit(a, 0)
    st.execve(a, "/bin/echo", ["echo"])
    p = processes.build(records_from_bytes(st.trail.getvalue()))
    assert [x["records"] for x in by_pid(p, 900)] == [1, 1]


def test_announced_child_without_records():
    st = Story("2024-03-15T09:00:00")
    shell = person(800, "/bin/zsh")
    st.spawn(shell, 802, "/usr/bin/true", ["true"])
    p = processes.build(records_from_bytes(st.trail.getvalue()))
    kid = one(p, pid=802)
    assert kid["records"] == 0 and kid["images"] == ["/usr/bin/true"]
    assert kid["auid"] == ALICE                                       # inherited at the spawn
    assert kid["first_seen"] == kid["start"] == kid["last_seen"]


def test_fork_without_child_arg_uses_return_value_and_failed_spawn_is_ignored():
    st = Story("2024-03-15T09:00:00")
    shell = person(800, "/bin/zsh")
    st.kernel(shell, w.AUE_FORK, [], ret=(0, 803))                       # no "child PID" token
    st.kernel(shell, w.AUE_POSIX_SPAWN, [w.exec_args(["nope"]), w.path("nope")], ret=(2, -1))
    p = processes.build(records_from_bytes(st.trail.getvalue()))
    assert one(p, pid=803)["start_evidence"] == "fork"
    assert p.height == 2


def test_proc_ids_stable_across_file_order_and_row_order():
    a, b = SCENARIOS / "shell_pipeline.trail", SCENARIOS / "su.trail"
    ab = processes.build(records_of(a, b))
    ba = processes.build(records_of(b, a))
    assert sorted(ab.get_column("proc_id").to_list()) == sorted(ba.get_column("proc_id").to_list())
    recs = records_of(a, b)
    shuffled = recs.sample(fraction=1.0, shuffle=True, seed=7)
    again = processes.build(shuffled)
    assert again.drop("first_seq", "last_seq", "image_seqs").equals(
        ab.drop("first_seq", "last_seq", "image_seqs"))


def test_empty_and_subjectless_frames():
    empty = processes.build(records_of())
    assert empty.height == 0 and empty.schema == processes.SCHEMA
    st = Story("2024-03-15T09:00:00")
    st.auditd("startup")
    assert processes.build(records_from_bytes(st.trail.getvalue())).height == 0


def test_schema_and_documentation_agree():
    p = lives("finder_copy")
    assert p.schema == processes.SCHEMA
    for name, _, meaning in processes.LIFETIME:
        assert meaning


# ---- the demo collection (several files) ------------------------------------------------------

def test_demo_collection_has_a_damaged_span():
    from forensics.bsm import backends
    damaged = [p for p in sorted(DEMO.iterdir()) if p.name[0].isdigit()
               and backends.decode_records(p.read_bytes(), "python").errors]
    assert [p.name for p in damaged] == ["20240315100000.20240315140000"]
    assert 300 <= records_of(*sorted(p for p in DEMO.iterdir() if p.name[0].isdigit())).height


def test_demo_spawn_across_a_rotation():
    files = sorted(p for p in DEMO.iterdir() if p.name[0].isdigit())
    p = processes.build(records_of(*files))
    grep = one(p, pid=6101)
    # its first records close the first file, the spawn that announces it opens the second
    assert grep["first_source"] == files[0].name
    assert grep["start_evidence"] == "posix_spawn" and grep["ppid"] == 6100
    assert grep["images"] == ["/usr/bin/grep"] and grep["end_evidence"] == "exit"
    helpers = p.filter(pl.col("images").list.contains(DSHELPER))
    assert helpers.height == 2
    assert helpers.get_column("user").to_list() == [ALICE, ALICE]
    assert p.get_column("proc_id").n_unique() == p.height


# ---- real trails ----------------------------------------------------------------------------------

EXPECTED_FREEBSD_EXECS = [
    (1772, "/usr/local/bin/zsh", ["-zsh"]),
    (1773, "/bin/mkdir", ["mkdir", "-p", "/home/jasper/.oh-my-zsh/cache/completions"]),
    (1775, "/bin/mkdir", ["mkdir", "/home/jasper/.oh-my-zsh/log/update.lock"]),
    (1777, "/bin/rm", ["rm", "-rf", "/home/jasper/.oh-my-zsh/log/update.lock"]),
    (1778, "/usr/local/bin/git", ["git", "rev-parse", "HEAD"]),
    (1783, "/usr/bin/uname", ["uname", "-r"]),
    (1784, "/bin/ls", ["ls", "-G", "."]),
    (1785, "/usr/bin/diff", ["diff", "--color", "/dev/null", "/dev/null"]),
    (1786, "/usr/local/bin/git", ["git", "version"]),
    (1829, "/usr/bin/chsh", ["chsh", "-s", "/usr/local/bin/bash", "jasper"]),
    (1830, "/usr/sbin/pwd_mkdb", ["pwd_mkdb", "-p", "-d", "/etc", "-u", "jasper", "/etc/pw.s7kz7O"]),
    (1858, "/usr/local/bin/bash", ["-bash"]),
    (1859, "/usr/bin/resizewin", ["/usr/bin/resizewin", "-z"]),
    (1860, "/usr/bin/fortune", ["/usr/bin/fortune", "freebsd-tips"]),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_freebsd_execve_commands(backend):
    path = need_real("openbsm-parser-20211014091059.20211014112919")
    p = processes.build(records_of(path, backend=backend))
    execs = p.filter(pl.col("images").list.len() > 0)
    assert execs.height == 24                                   # one per execve record
    for pid, image, argv in EXPECTED_FREEBSD_EXECS:
        life = one(p, pid=pid)
        assert life["images"] == [image] and life["argv"] == argv
        assert life["start_evidence"] == "first seen"           # no fork records (flags lo,aa)
        assert life["user"] == 1001 and life["user_kind"] == "direct"
        assert life["asid"] in (1768, 1854)
    assert one(p, pid=1830)["euid"] == 0                         # set-user-id pwd_mkdb


def test_freebsd_damaged_copy_still_yields_lifetimes():
    path = need_real("openbsm-parser-20211116090816.20211116125655-scuffed-size")
    p = processes.build(records_of(path))
    assert set(p.get_column("pid").to_list()) <= {905, 3689}


def test_macos_bunnymech_records():
    path = need_real("macos-bunnymech-bind-listen-socket.bsm")
    p = processes.build(records_of(path))
    life = one(p, pid=59374)
    assert life["records"] == 3 and life["signing_id"] == "bunny_client"
    assert life["user"] == 501 and life["asid"] == 100007


def test_plaso_apple_lifetimes():
    path = need_real("plaso-apple.bsm")
    p = processes.build(records_of(path))
    assert 0 not in p.get_column("pid").to_list()                 # session records are no process
    loginwindow = one(p, pid=67)
    assert loginwindow["user"] == 501                             # lw_login names alice's auid
    assert one(p, pid=152)["user"] == 501                          # ssauthorize: the client's auid


# ---- invariants on random stories -------------------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_OPS = st.lists(st.tuples(st.sampled_from(["fork", "spawn", "exec", "exit", "open", "wait",
                                           "setexec", "early"]),
                          st.integers(0, 5), st.integers(0, 5),
                          st.sampled_from([1, 3, 400, 3000, 9000])),
                min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_OPS)
def test_lifetimes_partition_the_records(ops):
    """Whatever the order of births, execs, exits and reuse: every record with a subject pid
    belongs to exactly one life, ids are unique, parents exist, events agree."""
    story = Story("2024-03-15T09:00:00")
    procs = {n: person(700 + n, "/bin/zsh") for n in range(6)}
    for op, a, b, gap in ops:
        story.wait(gap)
        p, q = procs[a], 700 + b
        if op == "fork" and q != p.pid:
            procs[b] = story.fork(p, q)
        elif op == "spawn" and q != p.pid:
            procs[b] = story.spawn(p, q, "/usr/bin/true", ["true"])
        elif op == "early" and q != p.pid:          # the child's record first
            kid = story.child(p, q, "/usr/bin/grep")
            story.open(kid, "/tmp/x", "r", time=story.now)
            procs[b] = story.spawn(p, q, "/usr/bin/grep", ["grep"], child=kid)
        elif op == "exec":
            procs[a] = story.execve(p, "/bin/ls", ["ls"])
        elif op == "setexec":
            procs[a] = story.exec_in_place(p, "/usr/libexec/svc", ["svc"])
        elif op == "exit":
            story.exit(p, 0)
        elif op == "wait":
            story.wait4(p, q)
        else:
            story.open(p, "/etc/hosts", "r")
    recs = records_from_bytes(story.trail.getvalue())
    p = processes.build(recs)
    assert p.get_column("proc_id").n_unique() == p.height
    assert p.get_column("records").sum() == recs.filter(pl.col("pid").is_not_null()).height
    ids = set(p.get_column("proc_id").to_list())
    assert set(p.get_column("parent_proc_id").drop_nulls().to_list()) <= ids
    assert set(p.get_column("responsible_proc_id").to_list()) <= ids
    assert (p.get_column("first_seen") <= p.get_column("last_seen")).all()
    assert all(seqs == sorted(seqs) for seqs in p.get_column("image_seqs").to_list())
    from forensics.model import attribution
    ev = attribution.events(recs, p)
    assert ev.get_column("proc_id").null_count() == 0
    counts = ev.group_by("proc_id").len()
    joined = p.select("proc_id", "records").join(counts, on="proc_id", how="left")
    assert (joined.get_column("records") == joined.get_column("len").fill_null(0)).all()
