"""The ``praudit`` click command (mounted by the main CLI as ``knox-report praudit``).

Options follow praudit's: ``-l -n -r|-s -x -d DELIM -p``. ``-p`` is praudit's "skip to the next
header byte" resync; knox-report always resyncs (properly, by framing), so ``-p`` is accepted
and changes nothing. User and group names come only from ``--passwd``/``--group``/``--dslocal``
(the evidence's files, never the analyst's machine); without them ids print as numbers, as
praudit prints an id it cannot resolve. Event names come from ``--audit-event`` or the bundled
macOS table. Usage errors exit 64 (EX_USAGE); an input that cannot be read is reported in one
line, the other inputs are still printed, and the exit status is 1.
"""

from __future__ import annotations

import io
import mmap
import os
import sys

import click

from ..bsm.praudit import Renderer
from ..bsm.stream import pieces
from ..errors import TableError
from .terminal import line as terminal_line
from ..tables import EventTable, Users

__all__ = ["praudit"]

EX_USAGE = 64


class _Command(click.Command):
    """Usage errors exit 64 (EX_USAGE), like praudit's usage()."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = EX_USAGE
            raise


def _read(path: str):
    """The file's bytes (memory-mapped when possible); '-' is stdin."""
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):        # empty files, pipes, special files
            return fh.read()


@click.command("praudit", cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-l", "oneline", is_flag=True, help="One record per line.")
@click.option("-n", "numeric", is_flag=True, help="Do not resolve user and group ids to names.")
@click.option("-r", "raw", is_flag=True, help="Raw numeric form (exclusive with -s).")
@click.option("-s", "short", is_flag=True, help="Event short names (exclusive with -r).")
@click.option("-x", "xml", is_flag=True, help="XML output.")
@click.option("-d", "delim", metavar="DELIM", default=",", show_default=True,
              help="Delimiter between token fields.")
@click.option("-p", "partial", is_flag=True,
              help="Accepted for compatibility; knox-report always resyncs after damage.")
@click.option("--passwd", type=click.Path(dir_okay=False), help="passwd file of the evidence.")
@click.option("--group", "group_file", type=click.Path(dir_okay=False),
              help="group file of the evidence.")
@click.option("--dslocal", type=click.Path(file_okay=False),
              help="macOS dslocal node folder of the evidence (users/ and groups/ plists).")
@click.option("--audit-event", "audit_event", type=click.Path(dir_okay=False),
              help="audit_event file of the evidence (default: bundled macOS table).")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.pass_context
def praudit(ctx, oneline, numeric, raw, short, xml, delim, partial, passwd, group_file, dslocal,
            audit_event, files):
    """Print audit trails the way OpenBSM praudit does, without its data loss.

    Damaged spans are skipped and reported on stderr; the records after them are printed.
    With no FILE (or FILE '-'), the trail is read from stdin.
    """
    if raw and short:
        click.echo("knox-report praudit: -r and -s are mutually exclusive", err=True)
        ctx.exit(EX_USAGE)
    try:
        events = EventTable.from_file(audit_event) if audit_event else EventTable.bundled()
        users = None
        if passwd or group_file or dslocal:
            users = Users.from_files(passwd=passwd, group=group_file, dslocal=dslocal)
    except TableError as exc:
        click.echo(f"knox-report praudit: {terminal_line(exc)}", err=True)
        ctx.exit(1)

    def warn(line: str) -> None:
        renderer.flush()
        out.flush()
        click.echo(terminal_line(line), err=True)

    out = getattr(sys.stdout, "buffer", sys.stdout)
    renderer = Renderer(out, oneline=oneline, numeric=numeric, raw=raw, short=short, xml=xml,
                        delim=os.fsencode(delim), events=events, users=users, warn=warn)
    try:
        status = _run(renderer, files or ("-",))
        renderer.end()
        out.flush()
    except BrokenPipeError:                  # praudit ... | head: stop quietly
        _silence_stdout()
        status = 1
    ctx.exit(status)


def _run(renderer: Renderer, paths) -> int:
    status = 0
    renderer.begin()
    for path in paths:
        if path == "-":                      # a pipe: print records as they arrive
            for base, piece in pieces(sys.stdin.buffer):
                renderer.trail(piece, "<stdin>", base)
                getattr(sys.stdout, "buffer", sys.stdout).flush()
            continue
        try:
            data = _read(path)
        except OSError as exc:
            renderer.flush()
            click.echo(f"knox-report praudit: {terminal_line(path)}: {exc.strerror or exc}",
                       err=True)
            status = 1
            continue
        try:
            renderer.trail(data, "<stdin>" if path == "-" else path)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    return status


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass
