"""Collection benchmark: a ~1 GB /var/audit of rotated trails, half of them gzipped.

    python benchmarks/bench_collection.py [--files 40] [--mb-per-file 25]

Cases: (a) a one-hour window, which must cost little more than the files it touches;
(b) a selective filter over everything (one user's execs); (c) everything, for scale.
Memory must follow what is selected, not the collection. Runs use both cores.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from datetime import datetime, timedelta, timezone

from measure import machine, mb, run
from workload import OUT, START, cached, mixed_trail, shift_times

_STAMP = "%Y%m%d%H%M%S"


def build(files: int, mb_per_file: int):
    base = cached(f"mixed-{mb_per_file}MB.trail", lambda: mixed_trail(mb_per_file * 1_000_000))
    data = base.read_bytes()
    from forensics.bsm.decode import frame
    import struct
    last = [item for item in frame(data) if item.kind == "record"][-1]
    span = struct.unpack_from(">I", data, last.offset + 10)[0] - int(START) + 2
    folder = OUT / f"collection-{files}x{mb_per_file}MB"
    if folder.exists():
        return folder, span
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for i in range(files):
        shift = i * span
        start = datetime.fromtimestamp(START + shift, timezone.utc)
        end = start + timedelta(seconds=span)
        name = f"{start.strftime(_STAMP)}.{end.strftime(_STAMP)}"
        body = shift_times(data, shift) if shift else data
        if i % 2:
            with gzip.open(tmp / (name + ".gz"), "wb", compresslevel=1) as out:
                out.write(body)
        else:
            (tmp / name).write_bytes(body)
    tmp.rename(folder)
    return folder, span


def prepared(description: str):
    """The collection a benchmark runs on, built once: (args, folder, on-disk bytes,
    decompressed bytes, and a one-hour window in its middle as ISO since/until)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--mb-per-file", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (the best shown)")
    args = parser.parse_args()
    folder, span = build(args.files, args.mb_per_file)
    total = sum(p.stat().st_size for p in folder.iterdir())
    raw = args.files * args.mb_per_file * 1_000_000
    mid = datetime.fromtimestamp(START + span * (args.files // 2) + span / 3, timezone.utc)
    return args, folder, total, raw, mid.isoformat(), (mid + timedelta(hours=1)).isoformat()


def main() -> None:
    args, folder, total, raw, since, until = prepared(__doc__.splitlines()[0])
    f = str(folder)
    cases = [
        ("(a) one-hour window", f"a = forensics.load({f!r}, since={since!r}, until={until!r})"),
        ("(b) one user's execs, everything", f"a = forensics.load({f!r}, auid=('502',), event=('AUE_EXECVE',))"),
        ("(c) everything", f"a = forensics.load({f!r})"),
    ]
    print(machine())
    print(f"collection: {args.files} files, {mb(raw)} MB decompressed, {mb(total)} MB on disk "
          f"(every other file gzipped); both cores; best of {args.repeat}")
    print()
    print("| case | seconds | peak RSS (MB) | files read | records kept | frame (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, stmt in cases:
        res = min((run("import forensics", stmt + "\nr = a.records\nextra = {'rows': r.height, "
                        "'frame_bytes': r.estimated_size(), 'read': int(a.sources['read'].sum())}",
                        cpus=None) for _ in range(args.repeat)), key=lambda r: r["seconds"])
        print(f"| {name} | {res['seconds']:.2f} | {mb(res['peak_rss'])} | {res['read']} | "
              f"{res['rows']:,} | {mb(res['frame_bytes'])} |")


if __name__ == "__main__":
    main()
