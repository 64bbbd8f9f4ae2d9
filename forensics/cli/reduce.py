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
from .options import click_options
from .reduce_run import EX_USAGE, PROG, load_tables, run

__all__ = ["reduce", "EX_USAGE", "load_tables"]


class _Command(click.Command):
    """Usage errors print one line and exit 64 (EX_USAGE), like auditreduce's usage()."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            click.echo(f"{PROG}: {exc.format_message()} (see --help)", err=True)
            raise click.exceptions.Exit(EX_USAGE) from None


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
    ctx.exit(run(files, output, backend, quiet, since, until, tz, audit_event, audit_class,
                 passwd, group, dslocal, **options))
