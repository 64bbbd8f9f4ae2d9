"""Decode benchmark: MB/s and peak memory for ``load(...).records`` on each backend.

    python benchmarks/bench_decode.py [--mb 200] [--skip-python] [--before TREE]

Input: a realistic mixed trail written by the project's own writer (benchmarks/out/, built
once). Baselines: reading the file (the ceiling, like `cat`), and the two backends; then the
process reconstruction and attribution on top of the decoded records. Each case runs in its own
process, pinned to one core, except the C decode on both cores (a large file is decoded as two
halves at once). ``--before TREE`` adds the C cases measured with ``forensics`` from TREE, an
earlier commit's source tree with its C core built.
"""

from __future__ import annotations

import argparse

from measure import machine, mb, run
from workload import cached, mixed_trail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the input trail in MB")
    parser.add_argument("--skip-python", action="store_true", help="leave out the slow backend")
    parser.add_argument("--before", default=None,
                        help="an earlier commit's source tree (C core built) to measure too")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per case, the cases alternating (best shown)")
    args = parser.parse_args()
    path = cached(f"mixed-{args.mb}MB.trail", lambda: mixed_trail(args.mb * 1_000_000))
    size = path.stat().st_size
    p = str(path)
    load = (f"a = forensics.load({p!r}, backend={{backend!r}}); r = a.records\n"
            "extra = {{'rows': r.height, 'frame_bytes': r.estimated_size()}}")
    cases = [("read file (ceiling, like cat)", "", f"open({p!r}, 'rb').read()", "0", None, None)]
    trees = [(" (before)", args.before)] if args.before else []
    for suffix, tree in [*trees, ("", None)]:
        cases.append((f"load().records, c backend, one core{suffix}", "import forensics",
                      load.format(backend="c"), "0", "c", tree))
        cases.append((f"load().records, c backend, both cores{suffix}", "import forensics",
                      load.format(backend="c"), None, "c", tree))
    if not args.skip_python:
        cases.append(("load().records, python backend", "import forensics",
                      load.format(backend="python"), "0", "python", None))
    cases.append(("processes + events (after a C decode)",
                  f"import forensics\na = forensics.load({p!r}, backend='c'); a.records",
                  "pr = a.processes; ev = a.events\n"
                  "extra = {'rows': ev.height, 'processes': pr.height, 'frame_bytes': ev.estimated_size()}",
                  "0", "c", None))
    print(machine())
    print(f"input: {path.name}, {mb(size)} MB; best of {args.repeat}, the cases alternating")
    print()
    print("| case | seconds | MB/s | peak RSS (MB) | rows | frame (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    best: dict = {}
    for _ in range(args.repeat):
        for name, setup, stmt, cpus, backend, tree in cases:
            if isinstance(best.get(name), Exception):
                continue
            try:
                res = run(setup, stmt, cpus=cpus, backend=backend, tree=tree)
            except Exception as err:  # report and go on: one broken case should not hide the rest
                best[name] = err
                continue
            if name not in best or res["seconds"] < best[name]["seconds"]:
                best[name] = res
    for name, *_ in cases:
        res = best[name]
        if isinstance(res, Exception):
            print(f"| {name} | failed: {res} | | | | |")
            continue
        print(f"| {name} | {res['seconds']:.2f} | {size / res['seconds'] / 1e6:,.1f} | "
              f"{mb(res['peak_rss'])} | {res.get('rows', '')} | "
              f"{mb(res['frame_bytes']) if 'frame_bytes' in res else ''} |")


if __name__ == "__main__":
    main()
