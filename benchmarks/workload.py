"""Deterministic benchmark inputs built with the project's own trail writer.

``mixed_trail(target_bytes)`` is a realistic macOS-like mix: launchd spawning XPC helpers
through xpcproxy, shells running commands with argv/env/identity, file opens/closes/renames/
unlinks, sockets, forks and exits, and user-space authorization and login records. Records are
100-600 bytes, as on a real Mac with `pc,ex,fr,fw,fc,fd,nt` enabled.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from forensics.bsm import writer as w

OUT = Path(__file__).resolve().parent / "out"
START = 1710493200.0          # 2024-03-15 09:00:00 UTC

_APPS = ["/usr/bin/curl", "/bin/ls", "/usr/bin/git", "/usr/bin/python3", "/bin/cp", "/usr/bin/ssh",
         "/usr/bin/tar", "/usr/bin/grep", "/usr/bin/find", "/usr/bin/zip"]
_ENV = ["PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/Users/alice", "LANG=en_US.UTF-8",
        "SHELL=/bin/zsh", "TERM=xterm-256color", "USER=alice", "TMPDIR=/var/folders/xy/T/",
        "SSH_AUTH_SOCK=/private/tmp/com.apple.launchd.abc/Listeners", "LOGNAME=alice"]


def _records(rng: random.Random, t: float, pid_base: int):
    """One burst of activity (about 25 records); yields (event, tokens, time)."""
    user = rng.choice([501, 502])
    asid = 100000 + user
    shell = pid_base
    subj = lambda pid, auid=user, euid=None: w.subject(auid=auid, euid=euid, pid=pid, asid=asid,
                                                      uid=user if auid != w.UNSET else 0)
    app = rng.choice(_APPS)
    child = shell + 1
    ident = w.identity("com.apple.zsh", cdhash=bytes(rng.getrandbits(8) for _ in range(20)),
                       platform=True)
    yield w.AUE_FORK, [w.arg(0, child, "child PID"), subj(shell), w.return32(0, child), ident], t
    argv = [app.rsplit("/", 1)[1]] + [f"--opt{i}={rng.randrange(10**6)}" for i in range(rng.randrange(1, 6))]
    yield w.AUE_EXECVE, [w.exec_args(argv), w.exec_env(_ENV[:rng.randrange(3, len(_ENV))]),
                         w.path(app), w.path(app), w.attr(0o100755, 0, 0, nodeid=rng.randrange(1 << 32)),
                         w.cdhash_data(bytes(20)), subj(child), w.return32(), ident], t + 0.001
    for i in range(rng.randrange(4, 12)):
        p = f"/Users/{'alice' if user == 501 else 'bob'}/Documents/project{rng.randrange(50)}/file{i}.txt"
        yield w.AUE_OPEN_R, [w.arg(2, 0, "flags"), w.path(p), w.path(p),
                             w.attr(0o100644, user, 20, nodeid=rng.randrange(1 << 32)),
                             subj(child), w.return32(0, 3 + i), ident], t + 0.002 + i / 1000
        yield w.AUE_CLOSE, [w.arg(2, 3 + i, "fd"), w.path(p), w.attr(0o100644, user, 20),
                            subj(child), w.return32(), ident], t + 0.0025 + i / 1000
    out = f"/private/tmp/out{rng.randrange(1000)}.bin"
    yield w.AUE_OPEN_WC, [w.arg(3, 0o644, "mode"), w.arg(2, 0x601, "flags"), w.path(out),
                          subj(child), w.return32(0, 9), ident], t + 0.02
    yield w.AUE_CONNECT, [w.arg(1, 5, "fd"), w.sockinet(f"93.184.{rng.randrange(256)}.{rng.randrange(256)}", 443),
                          subj(child), w.return32(), ident], t + 0.021
    if rng.random() < 0.3:
        yield w.AUE_RENAME, [w.path(out), w.path(out), w.attr(), w.path(out + ".done"), subj(child),
                             w.return32(), ident], t + 0.022
    if rng.random() < 0.2:
        yield w.AUE_UNLINK, [w.path(out), w.path(out), w.attr(), subj(child), w.return32(), ident], t + 0.023
    yield w.AUE_EXIT, [w.exit_token(0), subj(child), w.return32(), ident], t + 0.03
    # launchd spawns an XPC helper through xpcproxy (auid unset, launchd's session)
    xpc = child + 1
    root = lambda pid: w.subject(auid=w.UNSET, euid=0, egid=0, ruid=0, rgid=0, pid=pid, asid=100000)
    yield w.AUE_POSIX_SPAWN, [w.arg(0, xpc, "child PID"), w.exec_args(["xpcproxy", "com.apple.DesktopServicesHelper"]),
                              w.path("/usr/libexec/xpcproxy"), w.path("/usr/libexec/xpcproxy"), w.attr(0o100755),
                              w.cdhash_data(bytes(20)), root(1), w.return32(),
                              w.identity("com.apple.xpc.launchd", cdhash=bytes(20), platform=True)], t + 0.04
    helper = "/System/Library/PrivateFrameworks/DesktopServicesPriv.framework/Versions/A/Resources/DesktopServicesHelper"
    yield w.AUE_POSIX_SPAWN, [w.exec_args([helper]), w.path(helper), w.path(helper), w.attr(0o100755),
                              w.cdhash_data(bytes(20)), root(xpc), w.return32(),
                              w.identity("com.apple.xpc.proxy", cdhash=bytes(20), platform=True)], t + 0.041
    if rng.random() < 0.2:
        yield w.AUE_ssauthorize, [w.subject(auid=user, pid=shell, asid=asid, uid=user),
                                  w.text("system.privilege.admin"), w.text("client /bin/zsh"),
                                  w.text("creator /bin/zsh"), w.return32()], t + 0.05


def mixed_trail(target_bytes: int, *, seed: int = 7, start: float = START,
                seconds_per_burst: float = 0.5) -> bytes:
    """About ``target_bytes`` of records (deterministic for a seed)."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    size = 0
    t = start
    pid = 300
    while size < target_bytes:
        for event, toks, when in _records(rng, t, pid):
            data = w.record(event, toks, time=when)
            parts.append(data)
            size += len(data)
        t += seconds_per_burst
        pid = pid + 3 if pid < 99990 else 300
    return b"".join(parts)


def shift_times(buf: bytes, seconds: int) -> bytes:
    """The same trail with every header32 time moved by ``seconds``."""
    from forensics.bsm.decode import frame
    out = bytearray(buf)
    for item in frame(buf):
        if item.kind == "record" and buf[item.offset] == 0x14:
            sec = struct.unpack_from(">I", buf, item.offset + 10)[0]
            struct.pack_into(">I", out, item.offset + 10, sec + seconds)
    return bytes(out)


def cached(name: str, make) -> Path:
    """A benchmark input under benchmarks/out/, built once."""
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(make())
        tmp.rename(path)
    return path
