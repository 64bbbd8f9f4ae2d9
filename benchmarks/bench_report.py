"""Report benchmark: the HTML report against a bare decode of the same input.

    python benchmarks/bench_report.py [--mb 200 100] [--files 40] [--mb-per-file 25] [--only trail]
                                      [--before TREE]

Inputs: the 200 MB benchmark trail of ``bench_decode.py`` (and a 100 MB one, for the page-size
target) and the ~1 GB ``/var/audit`` of ``bench_collection.py`` (built once under
benchmarks/out/). For each: a bare decode
(``forensics.load(PATH).records``) and the main job writing its HTML report
(``knox-report PATH -o FILE``), each as a whole process (imports included) from a temporary
folder with the installed package and the C backend, using both cores. Reported: wall time,
peak RSS, the HTML's size, and the report's cost in decodes. Targets (issue 8): the report
costs at most 10x the bare decode, the 1 GB collection's report takes under 60 s, and the page
for the 100 MB trail stays under 25 MB; (issue 11) the report's peak stays within 4x a single
trail's size and 3 GB for the 1 GB collection.

``--before TREE`` measures the same cases a second time with ``forensics`` imported from TREE,
an earlier commit's source tree with its C core built (``git archive REV | tar -x -C TREE``, then
``python forensics/bsm/_build_ffi.py`` inside it), alternating with the current package, so the
README's before/after figures come from one run on one machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench_collection import build as build_collection
from measure import machine, mb, run_command
from workload import cached, mixed_trail

_DECODE = ("import forensics, sys\n"
           "a = forensics.load(sys.argv[1])\n"
           "r = a.records\n"
           "assert a.backend == 'c', a.backend\n")
_ENV = {"KNOX_REPORT_BACKEND": "c"}      # fail rather than measure the Python decoder


def measure(label: str, path: Path, out: Path, tree: str | None = None) -> dict:
    decode = run_command(["-c", _DECODE, str(path)], env=_ENV, tree=tree)
    html = out / f"{path.name}.html"
    report = run_command(["-m", "forensics.cli", str(path), "-o", str(html), "--force"],
                         env=_ENV, tree=tree)
    return {"label": label, "decode": decode, "report": report, "html": html.stat().st_size,
            "size": _size(path)}


def _size(path: Path) -> int:
    """Bytes of trail data: a file's size, or a folder's files decompressed."""
    if path.is_file():
        return path.stat().st_size
    import gzip
    total = 0
    for p in path.iterdir():
        with (gzip.open(p) if p.suffix == ".gz" else open(p, "rb")) as f:
            while chunk := f.read(1 << 24):
                total += len(chunk)
    return total


def _row(label: str, r: dict) -> str:
    ratio = r["report"]["seconds"] / r["decode"]["seconds"]
    return (f"| {label} | {r['decode']['seconds']:.2f} | {mb(r['decode']['peak_rss'])} | "
            f"{r['report']['seconds']:.2f} | {mb(r['report']['peak_rss'])} | "
            f"{r['report']['peak_rss'] / r['size']:.1f}x | {mb(r['html'])} | {ratio:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[200, 100],
                        help="sizes of the single trails in MB")
    parser.add_argument("--files", type=int, default=40, help="files in the collection")
    parser.add_argument("--mb-per-file", type=int, default=25)
    parser.add_argument("--only", choices=["trail", "collection"], default=None)
    parser.add_argument("--before", default=None,
                        help="an earlier commit's source tree (C core built) to measure too")
    args = parser.parse_args()
    inputs = []
    if args.only in (None, "trail"):
        for size in args.mb:
            trail = cached(f"mixed-{size}MB.trail", lambda n=size: mixed_trail(n * 1_000_000))
            inputs.append((f"{mb(trail.stat().st_size)} MB trail", trail))
    if args.only in (None, "collection"):
        folder, _ = build_collection(args.files, args.mb_per_file)
        on_disk = sum(p.stat().st_size for p in folder.iterdir())
        inputs.append((f"~{args.files * args.mb_per_file / 1000:.0f} GB /var/audit "
                       f"({args.files} files, {mb(on_disk)} MB on disk)", folder))
    print(machine())
    print("whole processes (imports included), C backend, both cores")
    print()
    print("| input | bare decode s | decode peak MB | report s | report peak MB "
          "| peak / input | HTML MB | report / decode |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="knox-bench-report-") as out:
        for label, path in inputs:
            for name, tree in [("before", args.before), ("now", None)]:
                if name == "before" and tree is None:
                    continue
                try:
                    r = measure(label, path, Path(out), tree)
                except Exception as err:  # report and go on: one failure should not hide the rest
                    print(f"| {label} ({name}) | failed: {err} | | | | | | |", flush=True)
                    continue
                print(_row(f"{label}, {name}" if args.before else label, r), flush=True)


if __name__ == "__main__":
    main()
