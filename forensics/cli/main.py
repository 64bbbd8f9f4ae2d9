"""The ``knox-report`` command.

``knox-report PATH... [selection]`` is the main job; ``praudit``, ``reduce`` and ``export`` are
subcommands, imported only when named (``praudit`` starts without Polars). A first argument
that is not a subcommand name is a path, so the main job needs no verb. User mistakes print one
line and exit non-zero; so does anything unexpected (``--debug`` shows its traceback).
"""

from __future__ import annotations

import os
import shlex
import sys
import time

import click

from ..bsm.choice import VALID as BACKENDS
from ..errors import KnoxError
from .options import click_options, split_outputs
from .terminal import line

__all__ = ["main", "cli"]

#: Polars' allocator (jemalloc) keeps freed pages for 0.5 s, then 1 s more as pages the kernel
#: may take but still counts. The main job frees large intermediate frames one step after
#: another: handing them back within 0.1 s keeps its peak near what is alive (about 15% lower,
#: at no cost in time). jemalloc reads this when Polars loads, the last value of a setting
#: winning; Polars puts its own defaults first, and a parent process that imported Polars
#: passes those down, so these two settings go last (any other setting is kept).
_DECAY = "dirty_decay_ms:100,muzzy_decay_ms:0"
os.environ["_RJEM_MALLOC_CONF"] = ",".join(
    filter(None, (os.environ.get("_RJEM_MALLOC_CONF"), _DECAY)))


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
    if not text:
        from ..report import charts
        charts.preload()
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


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("KNOX_REPORT_DEBUG"))
    args = [a for a in args if a != "--debug"]
    try:
        return _run(args)
    except KnoxError as err:
        if debug:
            raise
        click.echo(f"knox-report: {line(err)}", err=True)
        return 2
    except MemoryError:
        if debug:
            raise
        click.echo("knox-report: out of memory; select less (--since/--until, -m, -u) or "
                   "read fewer files at once", err=True)
        return 1
    except Exception as err:       # noqa: BLE001 - never a traceback for a user
        if debug:
            raise
        first = (str(err).splitlines() or [""])[0][:300]
        click.echo(f"knox-report: internal error: {type(err).__name__}: {line(first)} "
                   "(run again with --debug for the traceback)", err=True)
        return 1


def _run(args: list[str]) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
