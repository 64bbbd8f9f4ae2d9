"""Decode benchmark: MB/s and peak memory for ``load(...).records`` on each backend.

    python benchmarks/bench_decode.py [--mb 200]

Input: a realistic mixed trail written by the project's own writer (benchmarks/out/, built
once). Baselines: reading the file (the ceiling, like `cat`), and the two backends; then the
process reconstruction and attribution on top of the decoded records. Each case runs pinned to
one core in its own process.
"""

from __future__ import annotations

import argparse

from measure import machine, mb, run
from workload import cached, mixed_trail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the input trail in MB")
    parser.add_argument("--skip-python", action="store_true", help="leave out the slow backend")
    args = parser.parse_args()
    path = cached(f"mixed-{args.mb}MB.trail", lambda: mixed_trail(args.mb * 1_000_000))
    size = path.stat().st_size
    p = str(path)
    cases = [("read file (ceiling, like cat)", "", f"open({p!r}, 'rb').read()", {}, None)]
    for backend in ("c", "python"):
        if backend == "python" and args.skip_python:
            continue
        cases.append((f"load().records, {backend} backend", "import forensics",
                      f"a = forensics.load({p!r}, backend={backend!r}); r = a.records\n"
                      "extra = {'rows': r.height, 'frame_bytes': r.estimated_size()}", {},
                      backend))
    cases.append(("processes + events (after a C decode)",
                  f"import forensics\na = forensics.load({p!r}, backend='c'); a.records",
                  "pr = a.processes; ev = a.events\n"
                  "extra = {'rows': ev.height, 'processes': pr.height, 'frame_bytes': ev.estimated_size()}",
                  {}, "c"))
    print(machine())
    print(f"input: {path.name}, {mb(size)} MB; one core")
    print()
    print("| case | seconds | MB/s | peak RSS (MB) | rows | frame (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, setup, stmt, env, backend in cases:
        try:
            res = run(setup, stmt, env=env, backend=backend)
        except Exception as err:  # report and go on: one broken case should not hide the rest
            print(f"| {name} | failed: {err} | | | | |")
            continue
        print(f"| {name} | {res['seconds']:.2f} | {size / res['seconds'] / 1e6:,.1f} | "
              f"{mb(res['peak_rss'])} | {res.get('rows', '')} | "
              f"{mb(res['frame_bytes']) if 'frame_bytes' in res else ''} |")


if __name__ == "__main__":
    main()
