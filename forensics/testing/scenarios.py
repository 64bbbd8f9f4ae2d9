"""Named, deterministic scenarios: small trails that tell one story each.

Every scenario is built with :mod:`forensics.writer` from fixed timestamps and fixed pids (no
randomness, no clock), so regenerating one gives the same bytes. They follow the token order
and contents the macOS kernel and the user-space writers produce (see the project's notes on
macOS semantics): argument tokens, subject, return, identity for kernel records; the subject of
sshd/login/sudo/su records carries the pid in its session-id field; posix_spawn announces a new
process with ``arg32(0, "child PID")`` and, without it, replaces the image in place.

``python -m forensics.testing OUTDIR`` writes ``OUTDIR/<name>.trail`` for every scenario and
the ``demo`` collection, a directory laid out like ``/var/audit``::

    python -m forensics.testing tests/fixtures/scenarios --demo tests/fixtures/demo

and, next to the demo, ``demo_etc/passwd`` and ``demo_etc/group``: the demo Mac's own user
tables, for user names (``load(..., passwd=..., group=...)``).

The tests state, scenario by scenario, the lifetimes and attributions expected from them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..bsm import writer as w

__all__ = ["SCENARIOS", "Proc", "Story", "build", "write_all", "write_demo", "write_demo_etc", "demo_trails",
           "ALICE", "BOB", "STAFF", "LAUNCHD_ASID"]

UNSET = w.UNSET
ALICE, BOB, STAFF = 501, 502, 20
LAUNCHD_ASID = 100000


def _epoch(text: str) -> int:
    """Milliseconds since the epoch of a UTC ISO time."""
    dt = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1000


def cdhash(image: str) -> bytes:
    """A stable, made-up 20-byte cdhash for an image path."""
    return hashlib.sha1(b"knox-report scenario cdhash:" + image.encode()).digest()


_SIGNING_IDS = {
    "/sbin/launchd": "com.apple.xpc.launchd",
    "/usr/libexec/xpcproxy": "com.apple.xpc.proxy",
    "/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder": "com.apple.finder",
    "/usr/sbin/sshd": "com.apple.sshd",
    "/usr/libexec/sshd-session": "com.apple.sshd-session",
    "/System/Library/Frameworks/Security.framework/Versions/A/MachServices/authd.xpc/Contents/MacOS/authd":
        "com.apple.authd",
}


def signing_id(image: str) -> str:
    if image in _SIGNING_IDS:
        return _SIGNING_IDS[image]
    name = image.rsplit("/", 1)[-1]
    if image.startswith("/Users/") or image.startswith("/Library/PrivilegedHelperTools/"):
        return name
    return f"com.apple.{name}"


@dataclass(frozen=True)
class Proc:
    """What the kernel knows about a process when it writes a record for it."""
    pid: int
    image: str = ""
    auid: int = UNSET
    euid: int = 0
    egid: int = 0
    ruid: int = 0
    rgid: int = 0
    asid: int = LAUNCHD_ASID
    port: int = 0
    host: str = "0.0.0.0"
    team_id: str = ""

    @property
    def platform(self) -> bool:
        return not self.team_id

    def subject(self) -> bytes:
        return w.subject(self.auid, self.euid, self.egid, self.ruid, self.rgid, self.pid,
                         self.asid, self.port, self.host)

    def identity(self) -> bytes:
        if not self.image:
            return w.identity()
        return w.identity(signing_id(self.image), self.team_id, cdhash(self.image),
                          platform=self.platform)

    def as_user(self, uid: int, gid: int = STAFF) -> "Proc":
        return replace(self, euid=uid, ruid=uid, egid=gid, rgid=gid)


def person(pid: int, image: str, uid: int = ALICE, asid: int = 100007, **kw) -> Proc:
    """A process of a logged-in person (auid set, own uid)."""
    return Proc(pid, image, auid=uid, euid=uid, egid=STAFF, ruid=uid, rgid=STAFF, asid=asid, **kw)


def launchd() -> Proc:
    return Proc(1, "/sbin/launchd")


class Story:
    """A trail being written: a clock in whole milliseconds and helpers for each record kind.

    Every record advances the clock by ``step`` ms unless a time is given; ``at`` and
    ``wait`` move it explicitly. Process helpers return the process as it is afterwards.
    """

    def __init__(self, start: str | int, step: int = 3, trail: w.Trail | None = None):
        self.now = _epoch(start) if isinstance(start, str) else int(start)
        self.step = step
        self.trail = trail if trail is not None else w.Trail()

    # -- clock ---------------------------------------------------------------------------
    def at(self, when: str | int) -> "Story":
        self.now = _epoch(when) if isinstance(when, str) else int(when)
        return self

    def wait(self, ms: int) -> "Story":
        self.now += ms
        return self

    def _time(self, time: int | None) -> float:
        if time is None:
            self.now += self.step
            time = self.now
        return time / 1000

    # -- raw records -------------------------------------------------------------------
    def kernel(self, proc: Proc, event: int, tokens=(), *, ret=(0, 0), time=None,
               identity: bool = True) -> None:
        toks = [*tokens, proc.subject(), w.return32(*ret)]
        if identity:
            toks.append(proc.identity())
        self.trail.record(event, toks, time=self._time(time))

    def user_record(self, event: int, subject: bytes, tokens=(), *, ret=(0, 0), time=None,
                    writer_identity: Proc | None = None) -> None:
        toks = [subject, *tokens, w.return32(*ret)]
        if writer_identity is not None:
            toks.append(writer_identity.identity())
        self.trail.record(event, toks, time=self._time(time))

    def raw(self, data: bytes) -> None:
        self.trail.raw(data)

    # -- process lifecycle -------------------------------------------------------------
    def child(self, parent: Proc, pid: int, image: str | None = None, **creds) -> Proc:
        """The process a fork or spawn of ``parent`` creates (no record written)."""
        return replace(parent, pid=pid, image=parent.image if image is None else image, **creds)

    def fork(self, parent: Proc, pid: int, *, event: int = w.AUE_FORK, time=None) -> Proc:
        self.kernel(parent, event, [w.arg(0, pid, "child PID")], ret=(0, pid), time=time)
        return self.child(parent, pid)

    def _image_tokens(self, image, argv, upath, interpreter, mode, owner) -> list[bytes]:
        toks = [w.exec_args(argv), w.path(upath or image), w.path(image),
                w.attr(mode, owner, 0, nodeid=_node(image))]
        if interpreter:
            toks += [w.path(interpreter), w.attr(0o100755, 0, 0, nodeid=_node(interpreter))]
        toks.append(w.cdhash_data(cdhash(interpreter or image)))
        return toks

    def spawn(self, parent: Proc, pid: int, image: str, argv, *, upath=None, interpreter=None,
              mode=0o100755, owner=0, time=None, child: Proc | None = None, **creds) -> Proc:
        """posix_spawn creating ``pid``; ``creds`` override what the child inherits
        (launchd's spawn port actions put a child in another session)."""
        toks = [w.arg(0, pid, "child PID")] + self._image_tokens(image, argv, upath, interpreter,
                                                                   mode, owner)
        self.kernel(parent, w.AUE_POSIX_SPAWN, toks, time=time)
        if child is not None:
            return child
        return self.child(parent, pid, interpreter or image, **creds)

    def exec_in_place(self, proc: Proc, image: str, argv, *, time=None, **creds) -> Proc:
        """posix_spawn(POSIX_SPAWN_SETEXEC): same pid, new image, no "child PID"."""
        self.kernel(proc, w.AUE_POSIX_SPAWN,
                    self._image_tokens(image, argv, None, None, 0o100755, 0), time=time)
        return replace(proc, image=image, **creds)

    def execve(self, proc: Proc, image: str, argv, *, upath=None, interpreter=None,
               mode=0o100755, owner=0, time=None, ok: bool = True) -> Proc:
        """execve: the subject shows the old credentials; a set-user-id image changes euid."""
        if not ok:
            self.kernel(proc, w.AUE_EXECVE, [w.exec_args(argv), w.path(upath or image)],
                        ret=(2, -1), time=time)
            return proc
        self.kernel(proc, w.AUE_EXECVE,
                    self._image_tokens(image, argv, upath, interpreter, mode, owner), time=time)
        new = replace(proc, image=interpreter or image)
        if mode & 0o4000:
            new = replace(new, euid=owner)
        return new

    def exit(self, proc: Proc, status: int = 0, *, time=None) -> None:
        self.kernel(proc, w.AUE_EXIT, [w.exit_token(status, 0)], time=time)

    def wait4(self, proc: Proc, child: int, *, time=None) -> None:
        self.kernel(proc, w.AUE_WAIT4, [w.arg(0, child, "pid")], ret=(0, child), time=time)

    def kill(self, proc: Proc, target: Proc, signal: int = 9, *, time=None) -> None:
        self.kernel(proc, w.AUE_KILL,
                    [w.arg(2, signal, "signal"),
                     w.process(target.auid, target.euid, target.egid, target.ruid, target.rgid,
                               target.pid, target.asid, target.port, target.host)], time=time)

    # -- credentials ---------------------------------------------------------------------
    def setgid(self, proc: Proc, gid: int, *, time=None) -> Proc:
        self.kernel(proc, 205, [w.arg(1, gid, "gid")], time=time)
        return replace(proc, egid=gid, rgid=gid)

    def setuid(self, proc: Proc, uid: int, *, time=None) -> Proc:
        self.kernel(proc, w.AUE_SETUID, [w.arg(1, uid, "uid")], time=time)
        return replace(proc, euid=uid, ruid=uid)

    def seteuid(self, proc: Proc, uid: int, *, time=None) -> Proc:
        self.kernel(proc, w.AUE_SETEUID, [w.arg(1, uid, "uid")], time=time)
        return replace(proc, euid=uid)

    def setaudit_addr(self, proc: Proc, auid: int, asid: int, port: int, host: str,
                      *, time=None) -> Proc:
        """setaudit_addr(AU_ASSIGN_ASID): the arguments are the requested values (asid -1)."""
        toks = [w.arg(1, auid, "setaudit_addr:auid"), w.arg(1, 0x3000, "setaudit_addr:as_success"),
                w.arg(1, 0x3000, "setaudit_addr:as_failure"),
                w.arg(1, UNSET, "setaudit_addr:asid"), w.arg(1, 4, "setaudit_addr:type"),
                w.arg(1, port, "setaudit_addr:port"), w.in_addr(host)]
        self.kernel(proc, w.AUE_SETAUDIT_ADDR, toks, time=time)
        return replace(proc, auid=auid, asid=asid, port=port, host=host)

    # -- files and network ------------------------------------------------------------------
    def open(self, proc: Proc, path: str, how: str = "r", *, fd: int = 3, owner: int | None = None,
             created: bool = False, upath: str | None = None, time=None, event: int | None = None,
             ok: bool = True) -> None:
        """open(2): ``how`` is r, w, rw, wc (create), wtc (create+truncate)."""
        events = {"r": (w.AUE_OPEN_R, 0x0), "w": (w.AUE_OPEN_W, 0x1), "rw": (w.AUE_OPEN_RW, 0x2),
                  "wc": (w.AUE_OPEN_WC, 0x201), "wtc": (w.AUE_OPEN_WTC, 0x601)}
        number, flags = events[how]
        toks = []
        if "c" in how:
            toks.append(w.arg(3, 0o644, "mode"))
        toks.append(w.arg(2, flags, "flags"))
        toks.append(w.path(upath or path))
        if ok and not created:
            toks += [w.path(path), w.attr(0o100644, proc.euid if owner is None else owner, STAFF,
                                          nodeid=_node(path))]
        self.kernel(proc, event or number, toks, ret=(0, fd) if ok else (2, -1), time=time)

    def close(self, proc: Proc, fd: int, path: str | None = None, *, owner: int = 0,
              time=None) -> None:
        toks = [w.arg(2, fd, "fd")]
        if path:
            toks += [w.path(path), w.attr(0o100644, owner, STAFF, nodeid=_node(path))]
        self.kernel(proc, w.AUE_CLOSE, toks, time=time)

    def file_action(self, child: Proc, event: int, tokens, *, time=None) -> None:
        """A posix_spawn file-action sub-record: subject = the child, no identity token."""
        self.kernel(child, event, tokens, identity=False, time=time)

    def unlink(self, proc: Proc, path: str, *, owner: int = 0, time=None) -> None:
        self.kernel(proc, w.AUE_UNLINK, [w.path(path), w.path(path),
                                         w.attr(0o100644, owner, STAFF, nodeid=_node(path))],
                    time=time)

    def rename(self, proc: Proc, src: str, dst: str, *, owner: int = 0, time=None) -> None:
        self.kernel(proc, w.AUE_RENAME, [w.path(src), w.path(src),
                                         w.attr(0o100644, owner, STAFF, nodeid=_node(src)),
                                         w.path(dst)], time=time)

    def chdir(self, proc: Proc, path: str, *, time=None) -> None:
        self.kernel(proc, w.AUE_CHDIR, [w.path(path), w.path(path),
                                        w.attr(0o40755, proc.euid, STAFF, nodeid=_node(path))],
                    time=time)

    def connect(self, proc: Proc, address: str, port: int, *, fd: int = 5, time=None) -> None:
        self.kernel(proc, w.AUE_CONNECT, [w.arg(1, fd, "fd"), w.sockinet(address, port)],
                    time=time)

    def accept(self, proc: Proc, address: str, port: int, *, fd: int = 4, new_fd: int = 6,
               time=None) -> None:
        self.kernel(proc, w.AUE_ACCEPT, [w.arg(1, fd, "fd"), w.sockinet(address, port)],
                    ret=(0, new_fd), time=time)

    # -- user-space records -------------------------------------------------------------------
    def _user_subject(self, proc: Proc, *, auid=None, euid=None, egid=None, ruid=None,
                      rgid=None) -> bytes:
        """sshd/login/sudo/su subjects: chosen ids, and the pid in the session-id field."""
        return w.subject(proc.auid if auid is None else auid, proc.euid if euid is None else euid,
                         proc.egid if egid is None else egid, proc.ruid if ruid is None else ruid,
                         proc.rgid if rgid is None else rgid, proc.pid, proc.pid, proc.port,
                         proc.host)

    def openssh(self, sshd: Proc, uid: int, gid: int, text: str, *, port: int, host: str,
                ok: bool = True, time=None) -> None:
        subj = w.subject(uid, uid, gid, uid, gid, sshd.pid, sshd.pid, port, host)
        self.user_record(w.AUE_openssh, subj, [w.text(text)], ret=(0, 0) if ok else (1, 1),
                         time=time, writer_identity=sshd)

    def ssh_logout(self, sshd: Proc, uid: int, gid: int, name: str, *, port: int, host: str,
                   time=None) -> None:
        subj = w.subject(uid, uid, gid, uid, gid, sshd.pid, sshd.pid, port, host)
        self.user_record(w.AUE_logout, subj, [w.text(f"sshd logout {name}")], time=time,
                         writer_identity=sshd)

    def login(self, login: Proc, uid: int, gid: int, *, port: int, ok: bool = True,
              message: str | None = None, time=None) -> None:
        if ok:
            subj = w.subject(uid, uid, gid, uid, gid, login.pid, login.pid, port, "0.0.0.0")
            self.user_record(w.AUE_login, subj, time=time, writer_identity=login)
        else:
            subj = w.subject(UNSET, uid, gid, uid, gid, login.pid, UNSET, port, "0.0.0.0")
            self.user_record(w.AUE_login, subj, [w.text(message or "bad password")],
                             ret=(1, 1), time=time, writer_identity=login)

    def login_logout(self, login: Proc, uid: int, gid: int, *, port: int, time=None) -> None:
        subj = w.subject(uid, uid, gid, uid, gid, login.pid, login.pid, port, "0.0.0.0")
        self.user_record(w.AUE_logout, subj, time=time, writer_identity=login)

    def sudo(self, sudo: Proc, argv, *, ok: bool = True, message: str | None = None,
             time=None) -> None:
        """sudo's record: real auid, euid, ruid = getuid, rgid = getuid (sudo's own bug)."""
        subj = self._user_subject(sudo, rgid=sudo.ruid)
        toks = [w.exec_args(argv)]
        if not ok:
            toks.append(w.text(message or "authentication failure"))
        self.user_record(w.AUE_sudo, subj, toks, ret=(0, 0) if ok else (1, 1), time=time,
                         writer_identity=sudo)

    def su(self, su: Proc, text: str, *, ok: bool = True, time=None) -> None:
        self.user_record(w.AUE_su, self._user_subject(su), [w.text(text)],
                         ret=(0, 0) if ok else (1, 1), time=time, writer_identity=su)

    def ssauthorize(self, client: Proc, right: str, client_url: str, *, ok: bool = True,
                    authenticated_as: tuple[str, int] | None = None, time=None) -> None:
        """authd's record: the subject is the client (its auid, uids, pid and real asid)."""
        toks = [w.text(right), w.text(f"client {client_url}"), w.text(f"creator {client_url}")]
        if authenticated_as:
            toks.append(w.arg(2, authenticated_as[1], f"authenticated as {authenticated_as[0]}"))
        authd = Proc(90, "/System/Library/Frameworks/Security.framework/Versions/A/MachServices/"
                         "authd.xpc/Contents/MacOS/authd")
        self.user_record(w.AUE_ssauthorize, client.subject(), toks,
                         ret=(0, 0) if ok else (1, 0xFFFF_FFFF - 60004), time=time,
                         writer_identity=authd)

    def session_event(self, event: int, asid: int, auid: int = UNSET, *, port: int = 0,
                      host: str = "0.0.0.0", time=None) -> None:
        toks = [w.arg(1, 0, "sflags", wide=True), w.arg(2, 0, "am_success"),
                w.arg(3, 0, "am_failure"), w.subject(auid, 0, 0, 0, 0, 0, asid, port, host),
                w.return32()]
        self.trail.record(event, toks, time=self._time(time))

    def auditd(self, what: str = "startup", *, time=None) -> None:
        event = {"startup": w.AUE_audit_startup, "shutdown": w.AUE_audit_shutdown}[what]
        self.trail.record(event, [w.text(f"auditd::Audit {what}"), w.return32()],
                          time=self._time(time))


def _node(path: str) -> int:
    return int.from_bytes(hashlib.sha1(path.encode()).digest()[:4], "big")


# ---- the scenarios ----------------------------------------------------------------------------

FINDER = "/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder"
XPCPROXY = "/usr/libexec/xpcproxy"
DSHELPER = ("/System/Library/PrivateFrameworks/DesktopServicesPriv.framework/Versions/A/"
            "Resources/DesktopServicesHelper")
ZSH = "/bin/zsh"
SSHD = "/usr/sbin/sshd"


def finder_copy(st: Story, *, finder_pid: int = 412, helper_pid: int = 905,
                doc: str = "/Users/alice/Documents/report.pdf",
                dest_dir: str = "/Volumes/USB") -> None:
    """Finder asks for a privileged copy; launchd starts DesktopServicesHelper through
    xpcproxy (exec in place, auid unset, launchd's session), which copies the file and
    exits; the kernel's closes of its descriptors come after its exit record."""
    ld = launchd()
    finder = person(finder_pid, FINDER)
    name = doc.rsplit("/", 1)[-1]
    st.open(finder, doc, "r", fd=21, owner=ALICE)
    st.close(finder, 21, doc, owner=ALICE)
    st.wait(200)
    st.ssauthorize(finder, "com.apple.desktopservices", "/System/Library/CoreServices/Finder.app")
    st.wait(350)
    proxy = st.spawn(ld, helper_pid, XPCPROXY, ["xpcproxy", "com.apple.DesktopServicesHelper"])
    helper = st.exec_in_place(proxy, DSHELPER, ["DesktopServicesHelper"])
    st.open(helper, doc, "r", fd=3, owner=ALICE)
    st.open(helper, f"{dest_dir}/{name}", "wc", fd=4, created=True)
    st.open(helper, f"{dest_dir}/.DS_Store", "rw", fd=5, owner=ALICE)
    st.wait(120)
    st.exit(helper, 0)
    st.step = 1
    st.close(helper, 3, doc, owner=ALICE)
    st.close(helper, 4, f"{dest_dir}/{name}", owner=0)
    st.close(helper, 5, f"{dest_dir}/.DS_Store", owner=ALICE)
    st.step = 3


def sudo_over_ssh(st: Story, *, base: int = 1200, asid: int = 100012, port: int = 52144,
                  host: str = "203.0.113.9") -> None:
    """alice logs in over ssh, her shell runs sudo, and sudo runs ls as root."""
    listener = Proc(88, SSHD)
    st.accept(listener, host, port)
    conn = st.fork(listener, base)                              # per-connection sshd
    st.openssh(conn, ALICE, STAFF, "successful login alice", port=port, host=host)
    conn = st.setaudit_addr(conn, ALICE, asid, port, host)
    priv = st.fork(conn, base + 1)                              # the session's privsep child
    priv = st.setgid(priv, STAFF)
    priv = st.setuid(priv, ALICE)
    shell = st.fork(priv, base + 2)
    shell = st.execve(shell, ZSH, ["-zsh"])
    st.wait(2500)
    sudo = st.fork(shell, base + 3)
    sudo = st.execve(sudo, "/usr/bin/sudo", ["sudo", "ls", "/var/root"], mode=0o104755, owner=0)
    st.open(sudo, "/etc/sudoers", "r", fd=3, owner=0)
    st.wait(1800)                                                # the password prompt
    st.sudo(sudo, ["ls", "/var/root"])
    ls = st.fork(sudo, base + 4)
    ls = st.setuid(ls, 0)
    ls = st.execve(ls, "/bin/ls", ["ls", "/var/root"])
    st.open(ls, "/private/var/root", "r", fd=3, owner=0)
    st.exit(ls, 0)
    st.wait4(sudo, base + 4)
    st.exit(sudo, 0)
    st.wait4(shell, base + 3)
    st.wait(4000)
    st.exit(shell, 0)
    st.ssh_logout(conn, ALICE, STAFF, "alice", port=port, host=host)
    st.exit(priv, 0)
    st.exit(conn, 0)


def su(st: Story, *, shell_pid: int = 2100) -> None:
    """alice (in her GUI session) runs ``su bob`` and works as bob; then a failed ``su``."""
    shell = person(shell_pid, ZSH)
    st.chdir(shell, "/Users/alice")
    s = st.fork(shell, shell_pid + 1)
    s = st.execve(s, "/usr/bin/su", ["su", "bob"], mode=0o104755, owner=0)
    st.wait(1500)
    st.su(s, "successful authentication")
    s = st.setgid(s, STAFF)
    s = st.setuid(s, BOB)
    bob = st.fork(s, shell_pid + 2)
    bob = st.execve(bob, ZSH, ["-zsh"])
    st.open(bob, "/Users/bob/secret.txt", "r", fd=3, owner=BOB)
    st.open(bob, "/Users/bob/notes.txt", "wc", fd=4, created=True)
    st.exit(bob, 0)
    st.wait4(s, shell_pid + 2)
    st.exit(s, 0)
    st.wait(5000)
    f = st.fork(shell, shell_pid + 3)
    f = st.execve(f, "/usr/bin/su", ["su", "-"], mode=0o104755, owner=0)
    st.wait(2000)
    st.su(f, "bad su alice to root on /dev/ttys001", ok=False)
    st.exit(f, 1)


def pid_reuse(st: Story, *, shell_pid: int = 3000) -> None:
    """Three ways a pid gets a second life: exit then a new fork; no exit (killed) then a new
    fork; and the pid counter wrapping at 99999 onto a process older than the trail."""
    ld = launchd()
    old = Proc(100, "/usr/sbin/old-daemon")                      # running before the trail
    st.open(old, "/var/db/old-daemon.db", "rw", fd=7, owner=0)
    shell = person(shell_pid, ZSH)
    # 1. exit, then the same pid forked again a minute later
    a = st.fork(shell, shell_pid + 1)
    a = st.execve(a, "/bin/sleep", ["sleep", "1"])
    st.wait(1000)
    st.exit(a, 0)
    st.wait4(shell, shell_pid + 1)
    # 2. no exit record (killed by a signal), then the pid announced again
    b = st.fork(shell, shell_pid + 2)
    b = st.execve(b, "/usr/bin/yes", ["yes"])
    st.open(b, "/dev/null", "w", fd=1, owner=0)
    st.wait(2000)
    st.kill(shell, b, 9)
    st.wait4(shell, shell_pid + 2)
    st.wait(60_000)
    a2 = st.fork(shell, shell_pid + 1)
    a2 = st.execve(a2, "/usr/bin/true", ["true"])
    st.exit(a2, 0)
    b2 = st.fork(shell, shell_pid + 2)
    b2 = st.execve(b2, "/bin/cat", ["cat", "/etc/hosts"])
    st.open(b2, "/etc/hosts", "r", fd=3, owner=0)
    st.exit(b2, 0)
    # 3. wrap-around: 99998, 99999, then 100 again
    st.wait(30_000)
    for pid in (99998, 99999):
        p = st.spawn(ld, pid, "/usr/libexec/periodic-wrapper", ["periodic-wrapper", "daily"])
        st.exit(p, 0)
    new = st.spawn(ld, 100, "/usr/libexec/mdworker_shared", ["mdworker_shared", "-s", "mdworker"])
    st.open(new, "/private/var/folders/zz/mds.lock", "wc", fd=3, created=True)
    st.exit(new, 0)


def child_before_parent(st: Story, *, shell_pid: int = 4000) -> None:
    """A spawned child's records (file actions, its first syscalls) and a forked child's exec
    are committed before the parent's record that announces them."""
    shell = person(shell_pid, ZSH)
    st.chdir(shell, "/Users/alice/src")
    t = st.now
    # posix_spawn: file actions and an open of the child come first, stamped earlier
    grep = st.child(shell, shell_pid + 1, "/usr/bin/grep")
    st.file_action(grep, 3, [w.arg(2, 0, "flags"), w.path("/dev/null")], time=t + 1)
    st.file_action(grep, 209, [w.arg(1, 1, "fd"), w.arg(2, 2, "fd")], time=t + 1)
    st.open(grep, "/Users/alice/src/main.c", "r", fd=3, owner=ALICE, time=t + 2)
    st.spawn(shell, shell_pid + 1, "/usr/bin/grep", ["grep", "-n", "TODO", "main.c"], time=t + 3,
             child=grep)
    st.now = t + 3
    st.close(grep, 3, "/Users/alice/src/main.c", owner=ALICE)
    st.exit(grep, 0)
    st.wait4(shell, shell_pid + 1)
    # fork: the child execs before the parent's fork record is committed
    t = st.wait(500).now
    ls = st.child(shell, shell_pid + 2)
    ls = st.execve(ls, "/bin/ls", ["ls", "-la"], time=t + 1)
    st.fork(shell, shell_pid + 2, time=t + 2)
    st.now = t + 2
    st.open(ls, "/Users/alice/src", "r", fd=3, owner=ALICE)
    st.exit(ls, 0)


def daemon_auid_unset(st: Story, *, pid: int = 310) -> None:
    """launchd starts a third-party daemon: auid unset, root, launchd's session. Nobody is
    behind its work. A web server child drops to _www (uid 70)."""
    ld = launchd()
    d = st.spawn(ld, pid, "/Library/PrivilegedHelperTools/com.example.updaterd",
                 ["com.example.updaterd", "--check"], owner=0)
    d = replace(d, team_id="EXAMPLE123")
    st.open(d, "/Library/Preferences/com.example.updaterd.plist", "r", fd=3, owner=0)
    st.connect(d, "93.184.216.34", 443, fd=4)
    st.open(d, "/Library/Logs/updaterd.log", "w", fd=5, owner=0)
    web = st.spawn(ld, pid + 1, "/usr/sbin/httpd", ["httpd", "-D", "FOREGROUND"])
    web = st.setgid(web, 70)
    web = st.setuid(web, 70)
    st.open(web, "/Library/WebServer/Documents/index.html", "r", fd=8, owner=0)
    st.exit(d, 0)


def shell_pipeline(st: Story, *, shell_pid: int = 5000) -> None:
    """``cat /etc/passwd | grep alice | wc -l`` from alice's shell."""
    shell = person(shell_pid, ZSH)
    kids = []
    for n, (image, argv) in enumerate([("/bin/cat", ["cat", "/etc/passwd"]),
                                       ("/usr/bin/grep", ["grep", "alice"]),
                                       ("/usr/bin/wc", ["wc", "-l"])], start=1):
        k = st.fork(shell, shell_pid + n)
        kids.append(st.execve(k, image, argv))
    st.open(kids[0], "/etc/passwd", "r", fd=3, owner=0)
    st.close(kids[0], 3, "/etc/passwd", owner=0)
    for n, k in enumerate(kids, start=1):
        st.exit(k, 0)
        st.wait4(shell, shell_pid + n)


def script_interpreter(st: Story, *, shell_pid: int = 6000) -> None:
    """A ``#!/bin/sh`` script run from alice's shell: argv starts with the interpreter and the
    record's third path is the interpreter."""
    shell = person(shell_pid, ZSH)
    sh = st.fork(shell, shell_pid + 1)
    sh = st.execve(sh, "/Users/alice/bin/backup.sh", ["/bin/sh", "./backup.sh", "--full"],
                   upath="./backup.sh", interpreter="/bin/sh", owner=ALICE)
    tar = st.fork(sh, shell_pid + 2)
    tar = st.execve(tar, "/usr/bin/tar", ["tar", "-czf", "/Volumes/Backup/home.tgz",
                                           "/Users/alice/Documents"])
    st.open(tar, "/Users/alice/Documents/report.pdf", "r", fd=3, owner=ALICE)
    st.open(tar, "/Volumes/Backup/home.tgz", "wc", fd=4, created=True)
    st.exit(tar, 0)
    st.wait4(sh, shell_pid + 2)
    st.exit(sh, 0)


def login_logout(st: Story, *, login_pid: int = 7001, ssh_pid: int = 7100,
                 bob_asid: int = 100021) -> None:
    """Terminal runs ``login -pf alice`` (no new session), alice's shell runs and exits, login
    writes the logout; a failed and a successful ssh login by bob, his logout; and a kernel
    session (auid unset) starting and ending."""
    terminal = person(700, "/System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal")
    tty = 0x10000004
    st.session_event(w.AUE_SESSION_START, 100020)
    login = st.spawn(terminal, login_pid, "/usr/bin/login", ["login", "-pf", "alice"],
                     mode=0o104755, owner=0, euid=0)
    st.login(login, ALICE, STAFF, port=tty)
    sh = st.fork(login, login_pid + 1)
    sh = st.setuid(sh, ALICE)
    sh = st.execve(sh, ZSH, ["-zsh"])
    ls = st.fork(sh, login_pid + 2)
    ls = st.execve(ls, "/bin/ls", ["ls"])
    st.exit(ls, 0)
    st.wait(30_000)
    st.exit(sh, 0)
    st.login_logout(login, ALICE, STAFF, port=tty)
    st.exit(login, 0)
    # ssh: bob mistypes his password, then gets in from an IPv6 address
    listener = Proc(88, SSHD)
    host, port = "2001:db8::7", 50522
    first = st.fork(listener, ssh_pid)
    st.openssh(first, BOB, STAFF, "invalid password for user bob", port=port, host=host, ok=False)
    st.exit(first, 255)
    conn = st.fork(listener, ssh_pid + 1)
    st.openssh(conn, BOB, STAFF, "successful login bob", port=port + 1, host=host)
    conn = st.setaudit_addr(conn, BOB, bob_asid, port + 1, host)
    bsh = st.fork(conn, ssh_pid + 2)
    bsh = st.setuid(replace(bsh), BOB)
    bsh = st.execve(bsh, ZSH, ["-zsh"])
    st.open(bsh, "/Users/bob/.zshrc", "r", fd=3, owner=BOB)
    st.wait(10_000)
    st.exit(bsh, 0)
    st.ssh_logout(conn, BOB, STAFF, "bob", port=port + 1, host=host)
    st.exit(conn, 0)
    st.session_event(w.AUE_SESSION_END, 100020)


SCENARIOS: dict[str, tuple[str, Callable[[Story], None]]] = {
    "finder_copy": ("2024-03-15T10:00:00", finder_copy),
    "sudo_over_ssh": ("2024-03-15T11:00:00", sudo_over_ssh),
    "su": ("2024-03-15T12:00:00", su),
    "pid_reuse": ("2024-03-15T13:00:00", pid_reuse),
    "child_before_parent": ("2024-03-15T14:00:00", child_before_parent),
    "daemon_auid_unset": ("2024-03-15T15:00:00", daemon_auid_unset),
    "shell_pipeline": ("2024-03-15T16:00:00", shell_pipeline),
    "script_interpreter": ("2024-03-15T17:00:00", script_interpreter),
    "login_logout": ("2024-03-15T18:00:00", login_logout),
}


def build(name: str) -> bytes:
    """The bytes of one named scenario."""
    start, func = SCENARIOS[name]
    st = Story(start)
    func(st)
    return st.trail.getvalue()


def write_all(outdir) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCENARIOS:
        dest = outdir / f"{name}.trail"
        dest.write_bytes(build(name))
        written.append(dest)
    return written


# ---- the demo collection ----------------------------------------------------------------------

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

    st = new_file(_epoch("2024-03-15T08:00:00"))
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

    st = new_file(_epoch("2024-03-15T10:00:00"))
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

    st = new_file(_epoch("2024-03-15T14:00:00"))
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forensics.testing",
                                     description="write the named scenario trails and the demo")
    parser.add_argument("outdir", nargs="?", default="tests/fixtures/scenarios",
                        help="where <name>.trail files go (default tests/fixtures/scenarios)")
    parser.add_argument("--demo", default=None,
                        help="where the demo collection goes (default: OUTDIR/../demo)")
    parser.add_argument("--only", action="append", help="write only this scenario (repeatable)")
    args = parser.parse_args(argv)
    outdir = Path(args.outdir)
    names = args.only or list(SCENARIOS)
    outdir.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name not in SCENARIOS:
            print(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
            return 2
        (outdir / f"{name}.trail").write_bytes(build(name))
        print(outdir / f"{name}.trail")
    if not args.only:
        demo = Path(args.demo) if args.demo else outdir.parent / "demo"
        write_demo(demo)
        print(demo)
        etc = write_demo_etc(demo.parent / "demo_etc")
        print(etc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
