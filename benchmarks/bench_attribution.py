"""Timing of process reconstruction and attribution on a large synthetic trail.

    python benchmarks/bench_attribution.py [--records 800000] [--out benchmarks/out]

Writes (once) a trail of about ``--records`` records with the trail writer: shells forking
children that exec and open, read and close files, pids wrapping at 99999, launchd-spawned
helpers asked for through authorization records, sudo and su. Then it decodes it (timed) and
times ``processes.build``, ``attribution.events`` and ``attribution.sessions`` against
``forensics.load`` of the same trail (decode + derived columns), alternating, ``--runs`` times.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import polars as pl

from forensics.bsm import backends
from forensics.model import attribution, processes
from forensics.testing import scenarios as sc
from forensics.bsm import writer as w


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
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    out = Path(args.out)
    trail = out / f"synthetic-{args.records}.trail"
    if not trail.exists():
        t0 = time.perf_counter()
        write_trail(trail, args.records)
        print(f"wrote {trail} in {time.perf_counter() - t0:.1f} s")
    try:
        from forensics import load
    except ImportError:
        load = None
    buf = trail.read_bytes()
    times: dict[str, list[float]] = {}

    def timed(name, func):
        t0 = time.perf_counter()
        result = func()
        times.setdefault(name, []).append(time.perf_counter() - t0)
        return result

    for _ in range(args.runs):
        timed("decode", lambda: backends.decode_records(buf, args.backend))
        if load is not None:
            audit = timed("load", lambda: load(str(trail), backend=args.backend))
            records = audit.records
        else:
            records = backends.decode_records(buf, args.backend).records.with_columns(
                pl.lit(str(trail)).alias("source"))
        procs = timed("processes.build", lambda: processes.build(records))
        ev = timed("attribution.events", lambda: attribution.events(records, procs, None))
        ses = timed("attribution.sessions", lambda: attribution.sessions(records, None))
        times.setdefault("reconstruction + attribution", []).append(
            times["processes.build"][-1] + times["attribution.events"][-1]
            + times["attribution.sessions"][-1])
        n, lives, sessions = records.height, procs.height, ses.height
        del records, procs, ev, ses
        gc.collect()
    print(f"{n} records, {lives} lifetimes, {sessions} session rows, backend "
          f"{backends.choose(args.backend)}; median of {args.runs} runs (min-max):")
    for name, values in times.items():
        print(f"  {name:30s} {statistics.median(values):6.2f} s  "
              f"({min(values):.2f}-{max(values):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
