"""scan() benchmark: queries that select little from the ~1 GB /var/audit of bench_collection.

    python benchmarks/bench_scan.py [--files 40] [--mb-per-file 25]

``forensics.scan`` is lazy: each trail file is decoded, filtered and dropped before the next,
so a query that keeps little should cost the memory of one file's decode plus what it keeps,
not the collection. Each case runs in a fresh child process (its peak RSS is its own), on both
cores, with the C backend. The collection is the one ``bench_collection.py`` builds (built here
when absent).
"""

from __future__ import annotations


from bench_collection import prepared
from measure import machine, mb, run


def cases(folder: str, since: str, until: str) -> list[tuple[str, str]]:
    execs = "(pl.col('auid') == 502) & (pl.col('event_name') == 'AUE_EXECVE')"
    keep = "'time', 'pid', 'exec_argv'"
    return [
        ("(a) one user's execs: scan().filter() (predicate pushed down)",
         f"r = forensics.scan({folder!r}).filter({execs}).select({keep}).collect()"),
        ("(b) one user's execs: scan(auid=, event=) selection options",
         f"r = forensics.scan({folder!r}, auid=('502',), event=('AUE_EXECVE',))"
         f".select({keep}).collect()"),
        ("(c) one-hour window: scan(since=, until=)",
         f"r = forensics.scan({folder!r}, since={since!r}, until={until!r})"
         ".select('time', 'event_name', 'pid').collect()"),
        ("(d) events per name over everything (one column)",
         f"r = forensics.scan({folder!r}).group_by('event_name').len().collect()"),
        ("(e) for scale: load() of the same selection as (b)",
         f"r = forensics.load({folder!r}, auid=('502',), event=('AUE_EXECVE',)).records"),
    ]


def main() -> None:
    args, folder, total, raw, since, until = prepared(__doc__.splitlines()[0])
    print(machine())
    print(f"collection: {args.files} files, {mb(raw)} MB decompressed, {mb(total)} MB on disk "
          f"(every other file gzipped); both cores; C backend; best of 3")
    print()
    print("| case | seconds | peak RSS (MB) | rows kept | result (MB) |")
    print("|---|---:|---:|---:|---:|")
    for name, stmt in cases(str(folder), since, until):
        res = min((run("import polars as pl, forensics",
                        stmt + "\nextra = {'rows': r.height, 'frame_bytes': r.estimated_size()}",
                        cpus=None) for _ in range(3)), key=lambda r: r["seconds"])
        print(f"| {name} | {res['seconds']:.2f} | {mb(res['peak_rss'])} | {res['rows']:,} | "
              f"{mb(res['frame_bytes'])} |", flush=True)


if __name__ == "__main__":
    main()
