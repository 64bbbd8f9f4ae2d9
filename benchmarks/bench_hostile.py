"""Adversarial shapes at 1, 10 and 100 MB: decode time and peak memory must grow linearly.

Each shape is one class of hostile evidence (issue 10) scaled to the size asked for, written by
the project's own generators (``forensics.testing.hostile``), and loaded in a fresh process with
the C backend (``load().records``, and ``.events`` where attribution is what multiplies):

* resync: records whose header size is wrong, each framed by its trailer;
* exec cut: one exec record whose ``exec_args`` claims more strings than it holds, every string
  a candidate cut;
* helper join: a client and a launchd helper that each open one path many times.

A linear cost shows as a flat MB/s and a peak that grows with the input, not with its square.

    python benchmarks/bench_hostile.py [--sizes 1,10,100] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402

from forensics.bsm import writer as w  # noqa: E402
from forensics.testing import hostile  # noqa: E402


def resync(mb: int) -> bytes:
    one = len(hostile.wrong_sizes(1)) - len(hostile.wrong_sizes(0))
    return hostile.wrong_sizes(max(1, mb * 1_000_000 // one))


def exec_cut(mb: int) -> bytes:
    strings = mb * 1_000_000 // 2
    args = b"\x3c" + struct.pack(">I", strings + 1000) + b"=\0" * strings
    shell = hostile.person(6000, hostile.ZSH)
    rec = w.record(w.AUE_EXECVE, [args, w.path("/bin/ls"), shell.subject(), w.return32(),
                                  b"\xee" * 9], time=hostile.epoch("2024-03-15T08:05:00") / 1000)
    return hostile.good_trail() + rec + hostile.good_trail("2024-03-15T08:10:00")


def helper_join(mb: int) -> bytes:
    per = len(hostile.helper_join(101)) - len(hostile.helper_join(100))
    return hostile.helper_join(max(1, mb * 1_000_000 // per))


SHAPES = {
    "resync": (resync, "a = forensics.load(PATH); a.records"),
    "exec cut": (exec_cut, "a = forensics.load(PATH); a.records"),
    "helper join": (helper_join, "a = forensics.load(PATH); a.records; a.events"),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,10,100", help="input sizes in MB (default 1,10,100)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (the best is shown)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(measure.machine())
    print(f"best of {args.repeat} runs per row")
    print()
    print("| shape | input (MB) | seconds | MB/s | peak RSS (MB) | records |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.shapes.split(","):
        make, stmt = SHAPES[name]
        for mb in (int(s) for s in args.sizes.split(",")):
            path = out / f"hostile-{name.replace(' ', '-')}-{mb}MB.trail"
            if not path.exists():
                path.write_bytes(make(mb))
            size = path.stat().st_size
            res = min((measure.run("import forensics, forensics.audit, polars\nPATH = "
                                   + repr(str(path)), stmt + "\nextra = {'records': a.records.height}")
                       for _ in range(args.repeat)), key=lambda r: r["seconds"])
            print(f"| {name} | {measure.mb(size)} | {res['seconds']:.2f} | "
                  f"{size / 1e6 / res['seconds']:,.1f} | {measure.mb(res['peak_rss'])} | "
                  f"{res['records']:,} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
