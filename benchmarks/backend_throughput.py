"""Quick throughput check of the two decoder backends (bytes in memory -> core records frame).

    python benchmarks/backend_throughput.py [--mb 100] [--python-mb 5] [--mixed]

Input: ../shared/fixtures/openbsm/trail/realistic.trail repeated to --mb in memory (or, with
--mixed, the benchmark workload's mixed trail). Reports wall-clock and CPU MB/s of
``backends.decode_records`` for the C core (best of three) and, on a --python-mb prefix, the
pure-Python decoder. Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forensics import backends  # noqa: E402


def _input(mb: int, mixed: bool) -> bytes:
    if mixed:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from workload import mixed_trail
        return mixed_trail(mb * 1_000_000)
    trail = ROOT.parent / "shared" / "fixtures" / "openbsm" / "trail" / "realistic.trail"
    base = trail.read_bytes()
    return base * (mb * 1_000_000 // len(base) + 1)


def _measure(buf: bytes, backend: str, repeat: int) -> tuple[float, float, int]:
    best_wall = best_cpu = float("inf")
    rows = 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = backends.decode_records(buf, backend)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        rows = result.records.height
        del result
    return len(buf) / 1e6 / best_wall, len(buf) / 1e6 / best_cpu, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--python-mb", type=int, default=5)
    parser.add_argument("--mixed", action="store_true",
                        help="use the benchmark workload's mixed trail")
    args = parser.parse_args()
    buf = _input(args.mb, args.mixed)
    kind = "mixed workload" if args.mixed else "realistic.trail repeated"
    print(f"input: {len(buf) / 1e6:.1f} MB ({kind})")
    if backends.c_available():
        wall, cpu, rows = _measure(buf, "c", 3)
        print(f"c       {wall:8.1f} MB/s wall  {cpu:8.1f} MB/s cpu  ({rows} records)")
    else:
        print("c       not built")
    if args.python_mb:
        part = buf[:args.python_mb * 1_000_000]
        wall, cpu, rows = _measure(part, "python", 1)
        print(f"python  {wall:8.1f} MB/s wall  {cpu:8.1f} MB/s cpu  "
              f"({rows} records, {len(part) / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
