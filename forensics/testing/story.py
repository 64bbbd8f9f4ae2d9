"""The story builder: processes (:class:`Proc`) and a trail being written (:class:`Story`).

A :class:`Story` writes records with :mod:`forensics.bsm.writer` from a clock in whole
milliseconds, following the token order and contents the macOS kernel and the user-space writers
produce (see the project's notes on macOS semantics): argument tokens, subject, return, identity
for kernel records; the subject of sshd/login/sudo/su records carries the pid in its session-id
field; posix_spawn announces a new process with ``arg32(0, "child PID")`` and, without it,
replaces the image in place. Nothing here is random or reads the clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ..bsm import writer as w

__all__ = ["Proc", "Story", "person", "launchd", "cdhash", "signing_id", "epoch",
           "ALICE", "BOB", "STAFF", "LAUNCHD_ASID", "UNSET"]

UNSET = w.UNSET
ALICE, BOB, STAFF = 501, 502, 20
LAUNCHD_ASID = 100000


def epoch(text: str) -> int:
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
        self.now = epoch(start) if isinstance(start, str) else int(start)
        self.step = step
        self.trail = trail if trail is not None else w.Trail()

    # -- clock ---------------------------------------------------------------------------
    def at(self, when: str | int) -> "Story":
        self.now = epoch(when) if isinstance(when, str) else int(when)
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
