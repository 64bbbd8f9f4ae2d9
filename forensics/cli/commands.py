"""The click commands: the ``knox-report`` group, its default command ``report`` (the main job)
and the subcommands ``praudit``, ``reduce`` and ``export``, imported only when named
(``praudit`` starts without Polars). A first argument that is not a subcommand name is a path,
so the main job needs no verb. :func:`run` invokes the group; ``forensics.cli.main.main``
wraps it (one line, never a traceback, for a user's mistake).
"""

from __future__ import annotations

import shlex
import sys
import time

import click

from ..bsm.choice import VALID as BACKENDS
from .options import click_options, split_outputs
from .terminal import line

__all__ = ["cli", "run"]


#: Subcommands, imported when named: ``praudit`` must not pay for Polars.
_LAZY = {"praudit": ("praudit", "praudit"), "reduce": ("reduce", "reduce"),
         "export": ("export", "export")}


class _Cli(click.Group):
    """A group whose default command is ``report``: ``knox-report PATH...``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.list_commands(ctx) and args[0] not in (
                "--help", "-h", "--version"):
            args = ["report", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx):
        return sorted({*self.commands, *_LAZY})

    def get_command(self, ctx, name):
        if name in _LAZY and name not in self.commands:
            import importlib
            module, attr = _LAZY[name]
            self.add_command(getattr(importlib.import_module(f"{__package__}.{module}"), attr),
                             name)
        return self.commands.get(name)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="knox-report")
def cli() -> None:
    """Forensics and reporting for macOS and FreeBSD BSM audit trails.

    \b
    knox-report /evidence/audit/ --since yesterday      HTML report (knox-report.html)
    knox-report praudit [-l -n -r -s -x] FILE...          praudit's text, without its data loss
    knox-report reduce [auditreduce options] FILE...      selected records as a trail on stdout
    """


@cli.command("report")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "outputs", multiple=True, metavar="FILE|file=RE",
              help="Report file (default knox-report.html; - for stdout); a value like "
                   "file=RE or pid=N is auditreduce's -o object filter.")
@click.option("--text", "text", is_flag=True,
              help="Print the full text summary instead of writing the HTML report.")
@click.option("--force", is_flag=True,
              help="Overwrite the report file even if it is not a knox-report report.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no lines on the terminal.")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Decoder backend (default: $KNOX_REPORT_BACKEND, else c when built).")
@click_options(object_short=False)
@click.pass_context
def report(ctx, paths, outputs, text, force, quiet, backend, **options) -> None:
    """Read trails, /var/audit folders or archives; write one self-contained HTML report."""
    from ..audit import load
    from ..collection import timewords
    from ..report import html, sections, structure, summary
    from . import inputs, page
    from .progress import Progress

    started = time.monotonic()
    objects = list(options.pop("objects", ()) or ())
    output = split_outputs(outputs, objects, "report file")
    if text and output is not None:
        raise click.UsageError("--text prints the summary; it takes no -o FILE")
    output = output or page.DEFAULT
    if not text:
        page.check_target(output, force)
    zone = timewords.resolve_zone(options.get("tz"))
    progress = Progress(quiet)
    n_files, n_bytes = inputs.given_bytes(paths) if progress.on else (0, 0)
    with progress.step(f"reading {n_files} file(s), {n_bytes / 1e6:,.1f} MB"):
        audit = load(*paths, backend=backend, objects=tuple(objects),
                     columns=structure.RECORD_COLUMNS, **options)
    given = []
    if not text:                                 # the text summary does not list inputs
        with progress.step("hashing inputs", inputs.hashed_bytes(paths, audit.sources)) as adv:
            given = inputs.describe(paths, audit.sources, adv)
    argv = (ctx.obj or {}).get("argv") if isinstance(ctx.obj, dict) else None
    run = sections.Run(command=shlex.join(["knox-report", *(argv or sys.argv[1:])]),
                       selection=_selection_text(options, objects), zone=str(zone),
                       inputs=given, started=started, version=_version())
    with progress.step("attributing and building the report"):
        built = sections.build(audit, run, only=summary.SECTIONS if text else None)
    del audit            # the report holds its own values: the frames go before it is written
    if text:
        click.echo(summary.render_report(built), nl=False)
        return
    with progress.step("writing the report"):
        body = html.render(built)
        page.write(output, body, sys.stdout)
    if not quiet and output != "-":
        for line in page.lines(built, output, len(body.encode("utf-8"))):
            click.echo(line)


def _selection_text(options: dict, objects: list) -> str:
    """The selection as options on a command line (tables and the zone are not selection)."""
    skip = {"tz", "audit_event", "audit_class", "passwd", "group", "dslocal"}
    flags = {"klass": "class", "auid": "user", "objects": "object"}
    words = []
    for key, value in options.items():
        if key in skip or value in (None, False, (), []):
            continue
        flag = "--" + flags.get(key, key)
        for one in (value if isinstance(value, (tuple, list)) else [value]):
            words.append(flag if one is True else f"{flag} {shlex.quote(str(one))}")
    words.extend(f"--object {shlex.quote(o)}" for o in objects)
    return " ".join(words)


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("knox-report")
    except Exception:                       # not installed: the source tree's
        from .. import __version__
        return __version__


def run(args: list[str]) -> int:
    """Invoke the group on ``args``; the exit code (click's errors printed as click does)."""
    try:
        code = cli.main(args=args, prog_name="knox-report", standalone_mode=False,
                        obj={"argv": args})
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        click.echo("knox-report: aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except BrokenPipeError:
        return 0
    except OSError as err:
        click.echo(f"knox-report: {line(err.filename or '')}: {err.strerror or err}", err=True)
        return 1
    return code if isinstance(code, int) else 0


