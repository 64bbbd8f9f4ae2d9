"""Report benchmark: the HTML report against a bare decode of the same input.

    python benchmarks/bench_report.py [--mb 200 100] [--files 40] [--mb-per-file 25] [--only trail]

Inputs: the 200 MB benchmark trail of ``bench_decode.py`` (and a 100 MB one, for the page-size
target) and the ~1 GB ``/var/audit`` of ``bench_collection.py`` (built once under
benchmarks/out/). For each: a bare decode
(``forensics.load(PATH).records``) and the main job writing its HTML report
(``knox-report PATH -o FILE``), each as a whole process (imports included) from a temporary
folder with the installed package and the C backend, using both cores. Reported: wall time,
peak RSS, the HTML's size, and the report's cost in decodes. Targets (issue 8): the report
costs at most 10x the bare decode, the 1 GB collection's report takes under 60 s, and the page
for the 100 MB trail stays under 25 MB.
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


def measure(label: str, path: Path, out: Path) -> dict:
    decode = run_command(["-c", _DECODE, str(path)], env=_ENV)
    html = out / f"{path.name}.html"
    report = run_command(["-m", "forensics.cli", str(path), "-o", str(html)], env=_ENV)
    return {"label": label, "decode": decode, "report": report, "html": html.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[200, 100],
                        help="sizes of the single trails in MB")
    parser.add_argument("--files", type=int, default=40, help="files in the collection")
    parser.add_argument("--mb-per-file", type=int, default=25)
    parser.add_argument("--only", choices=["trail", "collection"], default=None)
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
    print("| input | bare decode s | decode peak MB | report s | report peak MB | HTML MB "
          "| report / decode |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="knox-bench-report-") as out:
        for label, path in inputs:
            try:
                r = measure(label, path, Path(out))
            except Exception as err:  # report and go on: one failure should not hide the rest
                print(f"| {label} | failed: {err} | | | | | |", flush=True)
                continue
            ratio = r["report"]["seconds"] / r["decode"]["seconds"]
            print(f"| {label} | {r['decode']['seconds']:.2f} | {mb(r['decode']['peak_rss'])} | "
                  f"{r['report']['seconds']:.2f} | {mb(r['report']['peak_rss'])} | "
                  f"{mb(r['html'])} | {ratio:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
