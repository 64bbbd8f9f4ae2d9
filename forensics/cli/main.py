"""The ``knox-report`` command.

``knox-report PATH... [selection]`` is the main job; ``praudit``, ``reduce`` are subcommands.
A first argument that is not a subcommand name is a path, so the main job needs no verb.
User mistakes print one line and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import re
import sys

import click
import polars as pl

from ..errors import KnoxError
from ..audit import load
from ..bsm import backends
from ..collection import timewords
from .options import click_options
from ..report import summary

__all__ = ["main", "cli"]

_OBJECT = re.compile(r"^(file|pid|msgqid|semid|shmid|sock)=")


class _Cli(click.Group):
    """A group whose default command is ``report``: ``knox-report PATH...``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["report", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="knox-report")
def cli() -> None:
    """Forensics and reporting for macOS and FreeBSD BSM audit trails.

    \b
    knox-report /evidence/audit/ --since yesterday      summary of what happened
    knox-report praudit [-l -n -r -s -x] FILE...          praudit's text, without its data loss
    knox-report reduce [auditreduce options] FILE...      selected records as a trail on stdout
    """


@cli.command("report")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "outputs", multiple=True, metavar="FILE|file=RE",
              help="Report file; a value like file=RE or pid=N is auditreduce's -o object filter.")
@click.option("--backend", type=click.Choice(backends.VALID), default=None,
              help="Decoder backend (default: $KNOX_REPORT_BACKEND, else c when built).")
@click_options(object_short=False)
def report(paths, outputs, backend, **options) -> None:
    """Read trails, /var/audit folders or archives and summarise them."""
    objects = list(options.pop("objects", ()) or ())
    output = None
    for value in outputs:
        if _OBJECT.match(value):
            objects.append(value)
        elif output is None:
            output = value
        else:
            raise click.UsageError("-o given twice for the report file")
    if output is not None:
        raise click.UsageError(
            "the HTML report is not part of this version yet; run without -o for the summary")
    audit = load(*paths, backend=backend, objects=tuple(objects), **options)
    zone = timewords.resolve_zone(options.get("tz"))
    click.echo(summary.render(audit, zone), nl=False)


def _mount() -> None:
    from .praudit import praudit
    from .reduce import reduce

    cli.add_command(praudit, "praudit")
    cli.add_command(reduce, "reduce")


def main(argv: list[str] | None = None) -> int:
    _mount()
    try:
        code = cli.main(args=argv, prog_name="knox-report", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        click.echo("knox-report: aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except KnoxError as err:
        click.echo(f"knox-report: {err}", err=True)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as err:
        click.echo(f"knox-report: {err.filename or ''}: {err.strerror or err}", err=True)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
