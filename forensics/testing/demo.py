"""The demo collection: one day on alice's Mac as a ``/var/audit`` folder, with its user tables.

The day is told with the scenes of :mod:`.scenes` at fixed times, in three trail files named
the way auditd names them (the last one still open, ``current`` a symlink to it), and the demo
Mac's own ``passwd`` and ``group`` next to it (``load(..., passwd=..., group=...)``).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from ..bsm import writer as w
from .scenes import (ZSH, child_before_parent, daemon_auid_unset, finder_copy, login_logout,
                     pid_reuse, script_interpreter, shell_pipeline, su, sudo_over_ssh)
from .story import ALICE, Story, epoch, launchd, person

__all__ = ["DEMO_PASSWD", "DEMO_GROUP", "demo_trails", "write_demo", "write_demo_etc"]

_COMMANDS = [
    ("/bin/ls", ["ls", "-la"], "/Users/alice"),
    ("/usr/bin/git", ["git", "status"], "/Users/alice/src/.git/index"),
    ("/usr/bin/vim", ["vim", "notes.md"], "/Users/alice/notes.md"),
    ("/usr/bin/python3", ["python3", "report.py"], "/Users/alice/src/report.py"),
    ("/bin/cat", ["cat", "/etc/hosts"], "/etc/hosts"),
    ("/usr/bin/curl", ["curl", "-O", "https://example.com/data.csv"], None),
]


def _busy_shell(st: Story, shell_pid: int, first_child: int, when: str, commands: int) -> None:
    """alice's terminal shell running a few commands, one after the other."""
    st.at(when)
    shell = person(shell_pid, ZSH)
    for n in range(commands):
        image, argv, path = _COMMANDS[n % len(_COMMANDS)]
        kid = st.fork(shell, first_child + n)
        kid = st.execve(kid, image, argv)
        if path:
            st.open(kid, path, "r", fd=3, owner=0 if path.startswith("/etc") else ALICE)
            st.close(kid, 3, path, owner=0 if path.startswith("/etc") else ALICE)
        else:
            st.connect(kid, "93.184.216.34", 443, fd=3)
            st.open(kid, "/Users/alice/Downloads/data.csv", "wc", fd=4, created=True)
        st.exit(kid, 0)
        st.wait4(shell, first_child + n)
        st.wait(37_000)


def _periodic(st: Story, pid: int, when: str) -> None:
    """launchd runs a maintenance job (auid unset, root) that rotates a log."""
    st.at(when)
    job = st.spawn(launchd(), pid, "/usr/libexec/periodic-wrapper", ["periodic-wrapper", "daily"])
    st.open(job, "/var/log/daily.out", "w", fd=3, owner=0)
    st.rename(job, "/var/log/system.log", "/var/log/system.log.0", owner=0)
    st.open(job, "/var/log/system.log", "wc", fd=4, created=True)
    st.exit(job, 0)


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y%m%d%H%M%S")


def demo_trails() -> list[tuple[str, bytes]]:
    """The demo day as (file name, bytes), oldest first; the last one is still open.

    One day on alice's Mac (2024-03-15, UTC): auditd starts, a daemon runs, alice copies a file
    to a USB stick with Finder, works in her shell (a pipeline, a script), logs in over ssh and
    uses sudo, switches to bob with su; bob logs in over ssh; pids get reused. auditd rotates
    the trail twice. The second file holds 37 bytes of garbage between two records (a damaged
    span), and a spawned child's first records close the first file while the spawn record
    that announces it opens the second.
    """
    files: list[tuple[int, w.Trail]] = []

    def new_file(start_ms: int) -> Story:
        st = Story(start_ms, trail=w.Trail())
        files.append((start_ms, st.trail))
        return st

    st = new_file(epoch("2024-03-15T08:00:00"))
    st.auditd("startup")
    st.wait(2000)
    daemon_auid_unset(st, pid=310)
    st.at("2024-03-15T08:20:00")
    _busy_shell(st, 5100, 5101, "2024-03-15T08:20:00", commands=8)
    st.at("2024-03-15T08:40:00")
    shell_pipeline(st, shell_pid=5000)
    st.at("2024-03-15T09:10:00")
    finder_copy(st, finder_pid=412, helper_pid=905)
    st.at("2024-03-15T09:30:00")
    script_interpreter(st, shell_pid=6000)
    # the child of a spawn whose record lands in the next file
    st.at("2024-03-15T09:59:59")
    shell = person(6100, ZSH)
    t = st.now
    grep = st.child(shell, 6101, "/usr/bin/grep")
    st.file_action(grep, 3, [w.arg(2, 0, "flags"), w.path("/dev/null")], time=t + 990)
    st.open(grep, "/Users/alice/todo.txt", "r", fd=3, owner=ALICE, time=t + 995)

    st = new_file(epoch("2024-03-15T10:00:00"))
    st.spawn(shell, 6101, "/usr/bin/grep", ["grep", "milk", "todo.txt"], time=st.now + 1,
             child=grep)
    st.exit(grep, 0)
    st.wait4(shell, 6101)
    st.at("2024-03-15T11:00:00")
    sudo_over_ssh(st, base=1200, asid=100012)
    st.raw(b"\x00\xde\xad\xbe\xef" + bytes(range(32)))           # 37 bytes of damage
    st.at("2024-03-15T12:00:00")
    su(st, shell_pid=2100)
    st.at("2024-03-15T13:00:00")
    pid_reuse(st, shell_pid=3000)
    _periodic(st, 8200, "2024-03-15T13:30:00")

    st = new_file(epoch("2024-03-15T14:00:00"))
    child_before_parent(st, shell_pid=4000)
    _busy_shell(st, 5100, 5201, "2024-03-15T15:00:00", commands=12)
    _periodic(st, 8300, "2024-03-15T16:30:00")
    _busy_shell(st, 5100, 5301, "2024-03-15T17:00:00", commands=10)
    st.at("2024-03-15T18:00:00")
    login_logout(st, login_pid=7001, ssh_pid=7100, bob_asid=100021)
    st.at("2024-03-15T19:30:00")
    finder_copy(st, finder_pid=412, helper_pid=1905, doc="/Users/alice/Pictures/IMG_0420.HEIC",
                dest_dir="/Volumes/USB/photos")

    out = []
    for n, (start, trail) in enumerate(files):
        if n + 1 < len(files):
            name = f"{_stamp(start)}.{_stamp(files[n + 1][0])}"
        else:
            name = f"{_stamp(start)}.not_terminated"
        out.append((name, trail.getvalue()))
    return out


DEMO_PASSWD = """\
##
# User Database (the demo Mac's /etc/passwd)
##
nobody:*:-2:-2:Unprivileged User:/var/empty:/usr/bin/false
root:*:0:0:System Administrator:/var/root:/bin/sh
daemon:*:1:1:System Services:/var/root:/usr/bin/false
_www:*:70:70:World Wide Web Server:/Library/WebServer:/usr/bin/false
alice:*:501:20:Alice Example:/Users/alice:/bin/zsh
bob:*:502:20:Bob Example:/Users/bob:/bin/zsh
"""

DEMO_GROUP = """\
nobody:*:-2:
wheel:*:0:root
daemon:*:1:root
staff:*:20:root
_www:*:70:
admin:*:80:root,alice
"""


def write_demo_etc(outdir) -> Path:
    """The demo Mac's passwd and group (the evidence's own user tables)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "passwd").write_text(DEMO_PASSWD)
    (outdir / "group").write_text(DEMO_GROUP)
    return outdir


def write_demo(outdir) -> Path:
    """Write the demo collection (rotated files, the open one, a ``current`` symlink)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.iterdir():
        if old.is_symlink() or old.is_file():
            old.unlink()
    last = None
    for name, data in demo_trails():
        (outdir / name).write_bytes(data)
        last = name
    os.symlink(last, outdir / "current")
    return outdir

