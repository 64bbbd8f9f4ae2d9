"""Timing of process reconstruction and attribution on a large synthetic trail.

    python benchmarks/bench_attribution.py [--records 800000] [--out benchmarks/out]

Writes (once) a trail of about ``--records`` records with the trail writer: shells forking
children that exec and open, read and close files, pids wrapping at 99999, launchd-spawned
helpers asked for through authorization records, sudo and su. Then it decodes it (timed) and
times ``processes.build``, ``attribution.events`` and ``attribution.sessions``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from forensics import attribution, backends, processes
from forensics import scenarios as sc
from forensics import writer as w


def write_trail(dest: Path, records: int) -> Path:
    st = sc.Story("2024-03-15T08:00:00", step=2)
    st.auditd("startup")
    ld = sc.launchd()
    shells = [sc.person(500 + n, sc.ZSH, uid=501 + n % 3, asid=100007 + n % 3) for n in range(8)]
    finder = sc.person(412, sc.FINDER)
    pid = 1000
    n = 0
    files = [f"/Users/alice/Documents/file{k}.txt" for k in range(50)]

    def next_pid() -> int:
        nonlocal pid
        pid += 1
        if pid > 99999:
            pid = 1000
        return pid

    while len(st.trail._parts) < records:
        n += 1
        shell = shells[n % len(shells)]
        kid = st.fork(shell, next_pid())
        kid = st.execve(kid, "/usr/bin/grep", ["grep", "-r", "needle", "."])
        for k in range(18):
            path = files[(n + k) % len(files)]
            st.open(kid, path, "r", fd=3, owner=kid.auid)
            st.close(kid, 3, path, owner=kid.auid)
        st.exit(kid, 0)
        st.wait4(shell, kid.pid)
        if n % 50 == 0:
            st.ssauthorize(finder, "com.apple.desktopservices",
                           "/System/Library/CoreServices/Finder.app")
            proxy = st.spawn(ld, next_pid(), sc.XPCPROXY, ["xpcproxy", "com.apple.dsh"])
            helper = st.exec_in_place(proxy, sc.DSHELPER, ["DesktopServicesHelper"])
            st.open(helper, files[n % len(files)], "r", fd=3, owner=501)
            st.open(helper, f"/Volumes/USB/f{n}", "wc", fd=4, created=True)
            st.exit(helper, 0)
            st.close(helper, 3, files[n % len(files)], owner=501)
        if n % 200 == 0:
            sudo = st.fork(shell, next_pid())
            sudo = st.execve(sudo, "/usr/bin/sudo", ["sudo", "id"], mode=0o104755, owner=0)
            st.sudo(sudo, ["id"])
            cmd = st.fork(sudo, next_pid())
            cmd = st.setuid(cmd, 0)
            cmd = st.execve(cmd, "/usr/bin/id", ["id"])
            st.exit(cmd, 0)
            st.exit(sudo, 0)
    dest.parent.mkdir(parents=True, exist_ok=True)
    st.trail.write_to(dest)
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=800_000)
    ap.add_argument("--out", default="benchmarks/out")
    ap.add_argument("--backend", default=None)
    args = ap.parse_args(argv)
    out = Path(args.out)
    trail = out / f"synthetic-{args.records}.trail"
    if not trail.exists():
        t0 = time.perf_counter()
        write_trail(trail, args.records)
        print(f"wrote {trail} in {time.perf_counter() - t0:.1f} s")
    buf = trail.read_bytes()
    t0 = time.perf_counter()
    core = backends.decode_records(buf, args.backend).records
    t_decode = time.perf_counter() - t0
    records = core.with_columns(pl.lit(str(trail)).alias("source"))
    print(f"records {records.height}, decode ({backends.choose(args.backend)}) {t_decode:.2f} s")
    t0 = time.perf_counter()
    procs = processes.build(records)
    t_proc = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev = attribution.events(records, procs, None)
    t_ev = time.perf_counter() - t0
    t0 = time.perf_counter()
    ses = attribution.sessions(records, None)
    t_ses = time.perf_counter() - t0
    print(f"lifetimes {procs.height}: processes.build {t_proc:.2f} s")
    print(f"events {ev.height}: attribution.events {t_ev:.2f} s")
    print(f"sessions {ses.height}: attribution.sessions {t_ses:.2f} s")
    print(f"reconstruction + attribution {t_proc + t_ev + t_ses:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
