"""``knox-report export PATH... [selection] --format FORMAT -o DIR``: the frames as files.

parquet, csv, jsonl: one file per frame (records, tokens, processes, events, sessions, sources,
errors) and a manifest; timesketch, timesketch-csv: one timeline file for Timesketch. The
selection options are the main command's. Progress shows on a terminal, never when piped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..audit import load
from ..bsm import backends
from ..report.exports import FRAMES
from .options import click_options, split_outputs

__all__ = ["export"]

FORMATS = ("parquet", "csv", "jsonl", "timesketch", "timesketch-csv")


class _Progress:
    """One line on stderr while frames are written (rich or tqdm when installed)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bar = None
        self._name = None

    def __call__(self, name: str, rows: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        if name != self._name:
            self._finish()
            self._name = name
            self._bar = _bar(name, total)
        self._bar.update(rows)

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        self._finish()


def _bar(name: str, total: int | None):
    try:
        from tqdm import tqdm
    except ImportError:
        return _Line(name, total)
    return _Tqdm(tqdm(desc=f"writing {name}", total=total, unit=" rows", file=sys.stderr,
                      leave=False))


class _Tqdm:
    def __init__(self, bar):
        self.bar, self.last = bar, 0

    def update(self, rows: int) -> None:
        self.bar.update(rows - self.last)
        self.last = rows

    def close(self) -> None:
        self.bar.close()


class _Line:
    """A plain ``\\r``-rewritten status line (no progress library installed)."""

    def __init__(self, name: str, total: int | None):
        self.name, self.total = name, total

    def update(self, rows: int) -> None:
        of = f" of {self.total:,}" if self.total is not None else ""
        click.echo(f"\rwriting {self.name}: {rows:,}{of} rows", nl=False, err=True)

    def close(self) -> None:
        click.echo("\r\033[K", nl=False, err=True)


def _split_outputs(outputs, objects):
    """``-o DIR`` is the folder; ``-o file=RE`` (and the like) is auditreduce's object filter."""
    folder = split_outputs(outputs, objects, "export folder")
    if folder is None:
        raise click.UsageError("give the export folder with -o DIR")
    return Path(folder)


@click.command("export")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="parquet", show_default=True,
              help="parquet, csv, jsonl: one file per frame; timesketch(-csv): a timeline.")
@click.option("-o", "--output", "outputs", multiple=True, metavar="DIR|file=RE",
              help="Export folder; file=RE, pid=N and the like are auditreduce's -o filter.")
@click.option("--frames", metavar="NAME,...", default=",".join(FRAMES), show_default=True,
              help="The frames to write (parquet, csv, jsonl).")
@click.option("--force", is_flag=True, help="Write into a folder that already holds files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no list of files written.")
@click.option("--backend", type=click.Choice(backends.VALID), default=None,
              help="Decoder backend (default: $KNOX_REPORT_BACKEND, else c when built).")
@click_options(object_short=False)
def export(paths, fmt, outputs, frames, force, quiet, backend, **options) -> None:
    """Write the frames of the selected records as Parquet, CSV, JSON Lines or a Timesketch
    timeline into a folder."""
    objects = list(options.pop("objects", ()) or ())
    folder = _split_outputs(outputs, objects)
    chosen = tuple(name.strip() for name in frames.split(",") if name.strip())
    unknown = [name for name in chosen if name not in FRAMES]
    if unknown or not chosen:
        raise click.BadParameter(f"one or more of {', '.join(FRAMES)}", param_hint="--frames")
    if folder.exists() and not folder.is_dir():
        raise click.UsageError(f"{folder} is a file; -o names a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise click.UsageError(f"{folder} is not empty; use --force to write into it")
    progress = _Progress(enabled=not quiet and sys.stderr.isatty())
    if progress.enabled:
        click.echo(f"reading {len(paths)} path(s)...", err=True)
    audit = load(*paths, backend=backend, objects=tuple(objects), **options)
    try:
        written = audit.write(folder, fmt, frames=chosen, progress=progress)
    finally:
        progress.close()
    if not quiet:
        for path in written.values():
            click.echo(str(path))
