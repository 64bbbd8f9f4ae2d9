"""Attacker-controlled counts do not multiply: memory and time of the model grow linearly.

A client and the launchd helper it asked for that each open one path N times used to give
N x N rows in the helper inference (0.5 MB of trail: 866 MB; 2 MB: killed at 10 GB); N
successful sudo runs or N logins and logouts used to cost N x N steps in ``sessions``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from forensics.model import attribution, processes, sessions
from forensics.testing.scenarios import (
    ALICE,
    DSHELPER,
    XPCPROXY,
    Story,
    launchd,
    person,
)
from tests.model.attribution_helpers import (
    BACKENDS,
    records_from_bytes,
    scenario,
    users_from,
)

ROOT = Path(__file__).resolve().parents[2]
FINDER = "/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder"
DOC = "/Users/alice/Documents/report.pdf"

# The child: writes the trail, decodes it, then builds lifetimes and events while a watchdog
# thread stops it once its peak resident set grows past the limit (an address-space cap makes
# Polars abort; a watchdog does not). It prints the growth (MB) and the helper's attribution.
_CHILD = r"""
import json, os, resource, sys, threading, time
import polars as pl
from forensics.model import attribution, processes
from forensics.testing.scenarios import ALICE, DSHELPER, XPCPROXY, Story, launchd, person
from tests.model.attribution_helpers import BACKENDS, records_from_bytes
from tests.model.test_bounded import DOC, FINDER

n, limit_mb = int(sys.argv[1]), float(sys.argv[2])
scale = 1 if sys.platform.startswith("linux") else 1024          # ru_maxrss: KB on Linux
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale / 1024
st = Story("2024-03-15T10:00:00", step=1)
finder = person(412, FINDER)
for _ in range(n):
    st.open(finder, DOC, "r", fd=21, owner=ALICE)
st.ssauthorize(finder, "com.apple.desktopservices", "/System/Library/CoreServices/Finder.app")
proxy = st.spawn(launchd(), 905, XPCPROXY, ["xpcproxy"])
helper = st.exec_in_place(proxy, DSHELPER, ["DesktopServicesHelper"])
for _ in range(n):
    st.open(helper, DOC, "r", fd=3, owner=ALICE)
st.exit(helper, 0)
recs = records_from_bytes(st.trail.getvalue(), "join.trail", backend=BACKENDS[-1])
before = peak()

def watch():
    while True:
        if peak() - before > limit_mb:
            print(json.dumps({"killed": True, "growth_mb": peak() - before}), flush=True)
            os._exit(3)
        time.sleep(0.02)

threading.Thread(target=watch, daemon=True).start()
p = processes.build(recs)
ev = attribution.events(recs, p)
h = p.filter(pl.col("pid") == 905).row(0, named=True)
print(json.dumps({"growth_mb": peak() - before, "records": recs.height, "user": h["user"],
                  "confidence": h["user_confidence"], "evidence": h["user_evidence"],
                  "events": ev.height}))
"""


def _join_child(n: int, limit_mb: float) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(limit_mb)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip(), done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_helper_inference_memory_is_linear_in_repeated_opens():
    """20,000 opens of one path by the client and 20,000 by its helper (about 16 MB of
    trail): the old join made 1.6 billion rows; now the growth is a few tens of MB."""
    out = _join_child(20_000, limit_mb=1024)
    assert not out.get("killed"), f"peak memory grew by {out['growth_mb']:.0f} MB"
    assert out["growth_mb"] < 400, out
    assert out["records"] == 40_004 and out["events"] == 40_004
    assert (out["user"], out["confidence"]) == (ALICE, "high")
    # the client's first open of the path is cited, and the helper's first
    assert f"Its client touched {DOC} too (join.trail:0; helper: join.trail:" in out["evidence"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_finder_copy_attribution_is_unchanged(backend):
    p = processes.build(scenario("finder_copy", backend))
    helper = p.filter(pl.col("pid") == 905).row(0, named=True)
    assert (helper["user"], helper["user_kind"], helper["user_confidence"]) == (
        ALICE, "inferred", "high")
    assert helper["responsible_proc_id"] == "412@finder_copy.trail:0"
    assert helper["user_evidence"] == (
        "ssauthorize finder_copy.trail:432: client pid 412 (auid 501, session 100007) asked for "
        "'com.apple.desktopservices' 0.4 s before this helper started (finder_copy.trail:680). "
        "The right names it ('desktopservices' in DesktopServicesHelper). It touched "
        "/Users/alice/Documents/report.pdf owned by uid 501 (finder_copy.trail:1393). Its "
        "client touched /Users/alice/Documents/report.pdf too (finder_copy.trail:0; helper: "
        "finder_copy.trail:1393).")


def test_client_paths_long_before_the_authorization_do_not_count():
    """Only what the client touched at most a minute before its authorization corroborates."""
    st = Story("2024-03-15T10:00:00", step=1)
    finder = person(412, FINDER)
    st.open(finder, DOC, "r", fd=21, owner=0)
    st.wait(61_000)
    st.ssauthorize(finder, "com.apple.desktopservices", "/System/Library/CoreServices/Finder.app")
    st.open(finder, "/Users/alice/other", "r", fd=21, owner=0)
    proxy = st.spawn(launchd(), 905, XPCPROXY, ["xpcproxy"])
    helper = st.exec_in_place(proxy, DSHELPER, ["DesktopServicesHelper"])
    st.open(helper, DOC, "r", fd=3, owner=0)
    st.open(helper, "/Users/alice/other", "r", fd=3, owner=0)
    st.open(finder, DOC, "r", fd=21, owner=0)        # later: this one counts
    st.exit(helper, 0)
    p = processes.build(records_from_bytes(st.trail.getvalue(), "t.trail"))
    evidence = p.filter(pl.col("pid") == 905).row(0, named=True)["user_evidence"]
    # the helper's first shared path is DOC (the client's later open), not the early open
    assert "Its client touched /Users/alice/Documents/report.pdf too (t.trail:" in evidence
    assert "(t.trail:0;" not in evidence


def _sudo_runs(n: int) -> pl.DataFrame:
    st = Story("2024-03-15T10:00:00", step=1)
    shell = person(500, "/bin/zsh", uid=ALICE, asid=100007)
    for k in range(n):
        sudo = st.fork(shell, 1000 + k % 90_000)
        sudo = st.execve(sudo, "/usr/bin/sudo", ["sudo", "id"])
        st.sudo(sudo, ["id"])
        cmd = st.fork(sudo, 95_000 + k % 4_000)
        cmd = st.setuid(cmd, 0)
        st.exit(cmd, 0)
        st.exit(sudo, 0)
    return records_from_bytes(st.trail.getvalue(), "sudo.trail", backend=BACKENDS[-1])


def test_sudo_run_as_is_linear(tmp_path):
    """10,000 sudo runs, each forking a command that sets its uid: every row finds its own
    switch (the old search looked at every fork and set*id for every sudo: minutes)."""
    recs = _sudo_runs(10_000)
    started = time.monotonic()
    s = sessions.sessions(recs, users_from(tmp_path))
    took = time.monotonic() - started
    sudo = s.filter(pl.col("how") == "sudo")
    assert sudo.height == 10_000
    assert sudo.get_column("target_user").to_list() == [0] * 10_000
    assert took < 15, f"{took:.1f} s"


def test_logins_find_their_logouts_in_linear_time(tmp_path):
    """10,000 ssh logins by one sshd, then 10,000 logouts: each login takes the next unused
    logout of its writer (the old search rescanned every logout for every login)."""
    st = Story("2024-03-15T10:00:00", step=1)
    sshd = person(300, "/usr/sbin/sshd", uid=0)
    n = 10_000
    for _ in range(n):
        st.openssh(sshd, ALICE, 20, "successful login alice", port=22, host="10.0.0.5")
    for _ in range(n):
        st.ssh_logout(sshd, ALICE, 20, "alice", port=22, host="10.0.0.5")
    recs = records_from_bytes(st.trail.getvalue(), "ssh.trail", backend=BACKENDS[-1])
    started = time.monotonic()
    s = attribution.sessions(recs, users_from(tmp_path))
    took = time.monotonic() - started
    assert s.get_column("how").to_list() == ["ssh"] * n
    ends = s.get_column("end_offset").to_list()
    assert None not in ends and len(set(ends)) == n and ends == sorted(ends)
    assert took < 15, f"{took:.1f} s"


def test_a_deep_chain_of_forks_keeps_the_inherited_image():
    """Each child forks the next, 200 deep: the last one still runs the shell's image (image
    inheritance used to stop after 64 generations, so forking 65 times hid the program)."""
    st = Story("2024-03-15T10:00:00", step=1)
    proc = st.execve(person(500, "/bin/zsh", uid=ALICE, asid=100007), "/bin/zsh", ["zsh"])
    for k in range(200):
        proc = st.fork(proc, 1000 + k)
    st.open(proc, "/tmp/x", "r")
    p = processes.build(records_from_bytes(st.trail.getvalue(), "deep.trail"))
    assert p.height == 201
    assert p.get_column("images").to_list() == [["/bin/zsh"]] * 201
    ev = attribution.events(records_from_bytes(st.trail.getvalue(), "deep.trail"), p)
    assert ev.get_column("image").to_list() == ["/bin/zsh"] * ev.height
