"""The ``reduce`` click command (mounted by the main CLI as ``knox-report reduce``).

``knox-report reduce [auditreduce options] [tables] [FILE...]`` writes the selected records,
raw, to stdout (or ``--output``). With no FILE, or FILE ``-``, the trail is read from stdin.
Options are auditreduce's (``-A -a -b -c -d -e -f -g -j -m -o -r -u -v -z``) with readable
long forms; see docs/selection.md. Usage errors (a bad option, ``-d`` with ``-a``, an
unknown event, class or user name, a bad regex or date) print one line and exit 64 like
auditreduce; an input that cannot be opened exits 1 before anything is written.
"""

from __future__ import annotations

import click

from ..bsm import choice as backends
from ..collection import selection as filters, timewords
from .options import click_options
from .terminal import line as terminal_line
from ..errors import BackendError, CollectionError, TableError
from ..reduce import collect_inputs, reduce as run_reduce
from ..tables import ClassTable, EventTable, Users

__all__ = ["reduce", "EX_USAGE", "load_tables"]

EX_USAGE = 64
PROG = "knox-report reduce"


class _Command(click.Command):
    """Usage errors print one line and exit 64 (EX_USAGE), like auditreduce's usage()."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            click.echo(f"{PROG}: {exc.format_message()} (see --help)", err=True)
            raise click.exceptions.Exit(EX_USAGE) from None


def load_tables(audit_event=None, audit_class=None, passwd=None, group=None, dslocal=None):
    """The evidence's tables; audit_event class names resolve through the given audit_class."""
    from ..tables import Tables

    classes = ClassTable.from_file(audit_class) if audit_class else ClassTable.bundled()
    # NOTE: without --audit-event the bundled event table keeps the bundled class masks.
    events = (EventTable.from_file(audit_event, classes=classes) if audit_event
              else EventTable.bundled())
    return Tables(events, classes, Users.from_files(passwd=passwd, group=group, dslocal=dslocal))


def _fail(ctx, message: str, code: int):
    click.echo(f"{PROG}: {terminal_line(message)}", err=True)
    ctx.exit(code)


@click.command("reduce", cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click_options
@click.option("--output", "output", type=click.Path(dir_okay=False, allow_dash=True),
              default="-", metavar="FILE", help="Write the trail here (default: stdout).")
@click.option("--backend", type=click.Choice(backends.VALID), default=None,
              help="Decoder backend (default: $KNOX_REPORT_BACKEND, else c when built).")
@click.option("-q", "--quiet", is_flag=True, help="Do not report skipped damage on stderr.")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.pass_context
def reduce(ctx, files, output, backend, quiet, since, until, tz, audit_event, audit_class,
           passwd, group, dslocal, **options):
    """Select audit records like OpenBSM auditreduce and write them, raw, as a trail.

    Every record is examined, whatever its header, subject, process or return token kind,
    and reading goes on after damaged bytes. Inputs are copied in the order given, never
    sorted. With no FILE (or FILE '-') the trail is read from stdin.

    \b
    knox-report reduce -m AUE_EXECVE -u alice trail > execs.trail
    knox-report reduce -c lo -d 20240316 --tz UTC /evidence/var/audit/ > logins.trail
    knox-report reduce -o 'file=^/Users/[^/]+/\\.ssh/' trail | knox-report praudit
    """
    def warn(line: str) -> None:
        if not quiet:
            click.echo(f"{PROG}: warning: {terminal_line(line)}", err=True)

    try:
        backend = backends.choose(backend)
    except BackendError as exc:
        _fail(ctx, str(exc), EX_USAGE)
    try:
        tables = load_tables(audit_event, audit_class, passwd, group, dslocal)
    except TableError as exc:
        _fail(ctx, str(exc), 1)
    try:
        zone = timewords.resolve_zone(tz)
        start, end = timewords.window(since, until, tz=zone)
    except timewords.TimeError as exc:
        _fail(ctx, str(exc), EX_USAGE)
    try:
        selection = filters.Selection.from_options(tables=tables, tz=zone, **options)
    except filters.SelectionError as exc:
        _fail(ctx, str(exc), EX_USAGE)
    try:
        inputs = collect_inputs(files or ("-",), warn)
    except CollectionError as exc:
        _fail(ctx, str(exc), 1)
    try:
        out = click.open_file(output, "wb")
    except OSError as exc:
        _fail(ctx, f"cannot write {output}: {exc.strerror or exc}", 1)
    with out:
        stats = run_reduce(inputs, selection, out, tables=tables, since=start, until=end,
                           backend=backend, warn=warn)
        out.flush()
    ctx.exit(1 if stats.read_errors else 0)
