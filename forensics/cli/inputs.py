"""What the report's run facts say about its inputs: each path given, its size and sha256; for
a folder, the files read from it (hashing is bounded by the files actually read)."""

from __future__ import annotations

import hashlib
import os

import polars as pl

from ..report.sections import Input

__all__ = ["describe", "sha256_of", "hashed_bytes", "given_bytes"]

_CHUNK = 1 << 20


def sha256_of(path: str, advance=None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            if advance is not None:
                advance(len(chunk))
    return digest.hexdigest()


def _file(path: str, advance) -> Input:
    try:
        size = os.path.getsize(path)
        return Input(path, "file", size, sha256_of(path, advance))
    except OSError as err:
        return Input(path, f"file (not hashed: {err.strerror})", None, None)


def _members(folder: str, sources: pl.DataFrame) -> list[str]:
    """The files read from ``folder`` (an archive member is hashed as its archive)."""
    if not sources.height:
        return []
    prefix = os.path.join(folder, "")
    read = sources.filter(pl.col("read")).get_column("path").to_list()
    return sorted({p.split("!", 1)[0] for p in read if p.startswith(prefix)})


def hashed_bytes(paths, sources: pl.DataFrame) -> int:
    """Bytes :func:`describe` reads (for a progress bar)."""
    n = 0
    for path in paths:
        for f in (_members(path, sources) if os.path.isdir(path) else [path]):
            try:
                n += os.path.getsize(f)
            except OSError:
                pass
    return n


def given_bytes(paths) -> tuple[int, int]:
    """Files and bytes under the paths given (for the progress line; nothing is opened)."""
    files = size = 0
    for path in paths:
        if os.path.isdir(path):
            for folder, _dirs, names in os.walk(path):
                for name in names:
                    try:
                        size += os.path.getsize(os.path.join(folder, name))
                        files += 1
                    except OSError:
                        pass
        elif os.path.exists(path):
            files += 1
            size += os.path.getsize(path)
    return files, size


def describe(paths, sources: pl.DataFrame, advance=None) -> list[Input]:
    """The inputs as given; a folder lists the trail files read from it, each hashed."""
    out = []
    for path in paths:
        if os.path.isdir(path):
            files = [_file(p, advance) for p in _members(path, sources)]
            total = sum(f.size or 0 for f in files)
            out.append(Input(path, f"folder ({len(files)} files read)", total, None, files))
        else:
            out.append(_file(path, advance))
    return out
