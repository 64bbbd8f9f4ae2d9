"""The scenes: short stories, one macOS behaviour each, written onto a :class:`~.story.Story`.

Each scene takes the story and the pids (and sessions) to use, so the named scenarios
(:mod:`.scenarios`) and the demo day (:mod:`.demo`) can tell the same story at other times and
with other pids. The tests state, scene by scene, the lifetimes and attributions expected.
"""

from __future__ import annotations

from dataclasses import replace

from ..bsm import writer as w
from .story import ALICE, BOB, STAFF, Proc, Story, launchd, person

__all__ = ["FINDER", "XPCPROXY", "DSHELPER", "ZSH", "SSHD", "finder_copy", "sudo_over_ssh", "su",
           "pid_reuse", "child_before_parent", "daemon_auid_unset", "shell_pipeline",
           "script_interpreter", "login_logout"]

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

