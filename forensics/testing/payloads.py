"""A hostile trail: what an attacker who controls the evidence writes into it.

Every string in a trail is attacker-controlled: a program's arguments and environment, the paths
it opens, the text of sshd, su and sudo records, the user tables next to the trail. This module
writes one deterministic trail whose strings carry markup, template syntax, ``javascript:`` URLs,
terminal escape sequences (clear screen, OSC 52 clipboard writes), a right-to-left override,
invalid UTF-8 and a very long argument -- among ordinary work by alice, so every section of a
report has rows to show them in. Anything that renders the trail (the HTML report, the text
summary, a terminal) must show these strings as text and stay inert.

``hostile_trail()`` gives the bytes, ``write(path)`` writes them, ``write_etc(folder)`` writes
``passwd`` and ``group`` files whose names and comments are hostile too. Nothing here is random
or reads the clock.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..bsm import writer as w
from .story import ALICE, STAFF, Proc, Story, cdhash, launchd, person

__all__ = ["SCRIPT", "IMG", "TEMPLATE", "RAW", "JS_URL", "CLEAR", "OSC52", "RLO", "BREAKOUT",
           "INVALID_UTF8", "LONG_ARG", "FORMULA", "MARKUP", "TEXT_PAYLOADS", "START", "MALLORY",
           "HOSTILE_PASSWD", "HOSTILE_GROUP", "hostile_trail", "write", "write_etc"]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
RAW = "{% raw %}"
JS_URL = "javascript:alert(1)"
CLEAR = "\x1b[2J"                               # ESC: clear the screen
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"         # ESC ] 52: write "echo pwned" to the clipboard
RLO = "\u202e"                                   # right-to-left override
BREAKOUT = "</script><script>alert(1)</script>"  # out of a JSON island, if one is not escaped
INVALID_UTF8 = b"\xff\xfe\xc3\x28bad"            # bytes that are not UTF-8
LONG_ARG = "--data=" + "A" * 12_000 + SCRIPT     # one very long argument, markup at its end
FORMULA = "=cmd|'/c calc'!A1"                     # a spreadsheet formula, for CSV exports

MARKUP = [SCRIPT, IMG, TEMPLATE, RAW, JS_URL, BREAKOUT]
"""The payloads that a page, a template or a link could execute; each must show as text."""

TEXT_PAYLOADS = [SCRIPT, IMG, TEMPLATE, RAW, JS_URL]
"""Payloads with no control characters: a report shows them verbatim (findable as text)."""

START = "2024-03-16T09:00:00"
MALLORY = 502                                    # the user whose name in passwd is markup

_EVIL_BIN = "/Users/alice/Downloads/<script>alert(1)</script>/run"
_RLO_APP = f"/Users/alice/Downloads/invoice{RLO}fdp.app"
_HOSTILE_PATHS = [
    f'/Users/alice/Documents/{IMG}.txt',
    f"/tmp/{TEMPLATE}/{RAW}/notes",
    f"/tmp/{JS_URL}",
    f"/tmp/esc{CLEAR}{OSC52}end.log",
    f"/Users/alice/Desktop/report{RLO}txt.exe",
    f"/tmp/{BREAKOUT}",
]

HOSTILE_PASSWD = f"""##
# User Database (a hostile Mac's /etc/passwd)
##
nobody:*:-2:-2:Unprivileged User:/var/empty:/usr/bin/false
root:*:0:0:System Administrator:/var/root:/bin/sh
alice:*:501:20:Alice {SCRIPT}:/Users/alice:/bin/zsh
m<img src=x onerror=alert(1)>:*:502:20:{TEMPLATE} {RAW} {CLEAR}:/Users/mallory:/bin/zsh
"""
HOSTILE_GROUP = """##
# Group Database (a hostile Mac's /etc/group)
##
wheel:*:0:root
staff:*:20:root,alice
<script>alert(1)</script>:*:30:alice
"""


def _node(path: bytes) -> int:
    return int.from_bytes(cdhash(path.decode("latin-1"))[:4], "big")


def _exec(st: Story, proc: Proc, image, argv, env=(), *, time=None) -> Proc:
    """execve with its environment (``exec_env``); ``image`` may be bytes (not UTF-8)."""
    raw = image if isinstance(image, bytes) else image.encode()
    toks = [w.exec_args(argv)]
    if env:
        toks.append(w.exec_env(env))
    toks += [w.path(raw), w.path(raw), w.attr(0o100755, ALICE, STAFF, nodeid=_node(raw)),
             w.cdhash_data(cdhash(raw.decode("latin-1")))]
    st.kernel(proc, w.AUE_EXECVE, toks, time=time)
    return replace(proc, image=raw.decode("utf-8", "replace"))


def _open_raw(st: Story, proc: Proc, path: bytes, *, fd: int, write: bool = False) -> None:
    """open(2) of a path given as bytes (so it may be invalid UTF-8)."""
    number, flags = (w.AUE_OPEN_W, 0x1) if write else (w.AUE_OPEN_R, 0x0)
    st.kernel(proc, number, [w.arg(2, flags, "flags"), w.path(path), w.path(path),
                             w.attr(0o100644, proc.euid, STAFF, nodeid=_node(path))],
              ret=(0, fd))


def _auditd(st: Story, event: int, message: str) -> None:
    """auditd's own record (startup, shutdown) with a hostile text token."""
    st.trail.record(event, [w.text(message), w.return32()], time=st.wait(st.step).now / 1000)


def _logins(st: Story) -> None:
    """sshd and su records whose text, user names and messages carry the payloads."""
    sshd = Proc(88, "/usr/sbin/sshd")
    host, port = "198.51.100.66", 40022
    st.accept(sshd, host, port)
    conn = st.fork(sshd, 8800)
    st.openssh(conn, ALICE, STAFF, f"invalid user {SCRIPT}{CLEAR} from {host}", port=port,
               host=host, ok=False)
    st.exit(conn, 255)
    conn = st.fork(sshd, 8801)
    st.openssh(conn, MALLORY, STAFF, f"successful login {IMG}", port=port + 1, host=host)
    conn = st.setaudit_addr(conn, MALLORY, 100066, port + 1, host)
    sh = st.execve(st.setuid(st.fork(conn, 8802), MALLORY), "/bin/zsh", ["-zsh", TEMPLATE])
    st.open(sh, f"/Users/mallory/{SCRIPT}.txt", "wc", fd=3, created=True)
    st.exit(sh, 0)
    st.ssh_logout(conn, MALLORY, STAFF, f"m{IMG}", port=port + 1, host=host)
    st.exit(conn, 0)
    shell = person(8100, "/bin/zsh")
    s = st.fork(shell, 8101)
    s = st.execve(s, "/usr/bin/su", ["su", f"{TEMPLATE}{RLO}"], mode=0o104755, owner=0)
    st.su(s, f"bad su {RAW} to root on /dev/ttys{OSC52}", ok=False)
    st.exit(s, 1)


def _sudo(st: Story, shell: Proc) -> None:
    """sudo with hostile arguments: once refused (its message hostile), once allowed."""
    for n, ok in ((8110, False), (8111, True)):
        s = st.fork(shell, n)
        s = st.execve(s, "/usr/bin/sudo", ["sudo", "sh", "-c", f"echo {SCRIPT} > /tmp/{IMG}"],
                      mode=0o104755, owner=0)
        st.sudo(s, ["sh", "-c", f"echo {SCRIPT} > /tmp/{IMG}"], ok=ok,
                message=None if ok else f"3 incorrect password attempts {SCRIPT}")
        if ok:
            root = st.setuid(st.fork(s, n + 10), 0)
            root = st.execve(root, "/bin/sh", ["sh", "-c", f"echo {SCRIPT} > /tmp/{IMG}"])
            st.open(root, f"/tmp/{IMG}", "wc", fd=3, created=True)
            st.exit(root, 0)
        st.exit(s, 0 if ok else 1)


def _commands(st: Story, shell: Proc, rows: int) -> None:
    """alice's shell running hostile commands, then ``rows`` more opens of hostile paths."""
    kid = st.fork(shell, 8201)
    kid = _exec(st, kid, "/bin/echo", ["echo", *MARKUP, CLEAR, OSC52, f"abc{RLO}def"],
                env=[f"PS1={SCRIPT}", f"TERM=xterm{CLEAR}", f"CLIP={OSC52}", f"X={IMG}",
                     b"BAD=" + INVALID_UTF8])
    st.exit(kid, 0)
    kid = _exec(st, st.fork(shell, 8202), _EVIL_BIN, [_EVIL_BIN, JS_URL, LONG_ARG])
    st.connect(kid, "203.0.113.66", 4444, fd=4)
    st.open(kid, _HOSTILE_PATHS[0], "wc", fd=5, created=True)
    st.exit(kid, 0)
    kid = _exec(st, st.fork(shell, 8203), _RLO_APP.encode() + b"/Contents/MacOS/invoice",
                [f"invoice{RLO}fdp", b"--name=" + INVALID_UTF8])
    _open_raw(st, kid, b"/Users/alice/" + INVALID_UTF8 + b".txt", fd=3)
    _open_raw(st, kid, b"/tmp/ctl\x01\x07\x08\x7f\x9b.txt", fd=4, write=True)
    st.rename(kid, _HOSTILE_PATHS[1], _HOSTILE_PATHS[2], owner=ALICE)
    st.unlink(kid, _HOSTILE_PATHS[3], owner=ALICE)
    st.exit(kid, 0)
    kid = _exec(st, st.fork(shell, 8205), "/bin/sh", [FORMULA, "-c", f"echo {FORMULA}"])
    st.exit(kid, 0)
    cat = st.execve(st.fork(shell, 8204), "/bin/cat", ["cat", *_HOSTILE_PATHS])
    for n in range(rows):
        path = _HOSTILE_PATHS[n % len(_HOSTILE_PATHS)]
        st.open(cat, path, "r", fd=3 + n % 7, owner=ALICE, ok=n % 5 != 4)
        st.wait(750)
    st.exit(cat, 0)


def hostile_trail(rows: int = 240) -> bytes:
    """The hostile trail's bytes. ``rows`` extra file opens of hostile paths push the file
    table past the rows a report renders in its HTML, so the payloads also travel through
    the page's data islands and its JavaScript."""
    st = Story(START)
    _auditd(st, w.AUE_audit_startup, f"auditd::Audit startup {SCRIPT}{CLEAR}")
    ld = launchd()
    helper = st.spawn(ld, 8050, "/usr/libexec/xpcproxy", ["xpcproxy", f"com.evil.{IMG}"])
    helper = st.exec_in_place(helper, f"/Library/PrivilegedHelperTools/{SCRIPT}",
                              [f"{SCRIPT}", TEMPLATE])
    st.open(helper, f"/Library/Logs/{TEMPLATE}.log", "w", fd=3, owner=0)
    st.exit(helper, 0)
    _logins(st)
    shell = person(8200, "/bin/zsh")
    st.chdir(shell, f"/Users/alice/{RAW}")
    _commands(st, shell, rows)
    _sudo(st, shell)
    _auditd(st, w.AUE_audit_shutdown, f"auditd::Audit shutdown {OSC52}")
    return st.trail.getvalue()


def write(path, rows: int = 240) -> Path:
    """Write the hostile trail to ``path`` (its folder is created)."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(hostile_trail(rows))
    return dest


def write_etc(folder) -> tuple[Path, Path]:
    """Write hostile ``passwd`` and ``group`` files into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    passwd, group = folder / "passwd", folder / "group"
    passwd.write_text(HOSTILE_PASSWD, encoding="utf-8")
    group.write_text(HOSTILE_GROUP, encoding="utf-8")
    return passwd, group
