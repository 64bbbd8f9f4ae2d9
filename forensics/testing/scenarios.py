"""Named, deterministic scenarios: small trails that tell one story each.

Every scenario is one scene of :mod:`.scenes` written by the :class:`~.story.Story` builder from a
fixed start time and fixed pids (no randomness, no clock), so regenerating one gives the same
bytes. This module is also the front door the tests use: it re-exports the builder
(:mod:`.story`), the scenes and the demo collection (:mod:`.demo`).

``python -m forensics.testing OUTDIR`` writes ``OUTDIR/<name>.trail`` for every scenario and
the ``demo`` collection, a directory laid out like ``/var/audit``::

    python -m forensics.testing tests/fixtures/scenarios --demo tests/fixtures/demo

and, next to the demo, ``demo_etc/passwd`` and ``demo_etc/group``: the demo Mac's own user
tables, for user names (``load(..., passwd=..., group=...)``).

The tests state, scenario by scenario, the lifetimes and attributions expected from them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from .demo import DEMO_GROUP, DEMO_PASSWD, demo_trails, write_demo, write_demo_etc
from .scenes import (DSHELPER, FINDER, SSHD, XPCPROXY, ZSH, child_before_parent,
                     daemon_auid_unset, finder_copy, login_logout, pid_reuse, script_interpreter,
                     shell_pipeline, su, sudo_over_ssh)
from .story import (ALICE, BOB, LAUNCHD_ASID, STAFF, UNSET, Proc, Story, cdhash, launchd, person,
                    signing_id)

__all__ = ["SCENARIOS", "Proc", "Story", "build", "write_all", "write_demo", "write_demo_etc",
           "demo_trails", "main", "DEMO_PASSWD", "DEMO_GROUP", "ALICE", "BOB", "STAFF",
           "LAUNCHD_ASID", "UNSET", "cdhash", "signing_id", "launchd", "person", "FINDER",
           "XPCPROXY", "DSHELPER", "ZSH", "SSHD"]


SCENARIOS: dict[str, tuple[str, Callable[[Story], None]]] = {
    "finder_copy": ("2024-03-15T10:00:00", finder_copy),
    "sudo_over_ssh": ("2024-03-15T11:00:00", sudo_over_ssh),
    "su": ("2024-03-15T12:00:00", su),
    "pid_reuse": ("2024-03-15T13:00:00", pid_reuse),
    "child_before_parent": ("2024-03-15T14:00:00", child_before_parent),
    "daemon_auid_unset": ("2024-03-15T15:00:00", daemon_auid_unset),
    "shell_pipeline": ("2024-03-15T16:00:00", shell_pipeline),
    "script_interpreter": ("2024-03-15T17:00:00", script_interpreter),
    "login_logout": ("2024-03-15T18:00:00", login_logout),
}


def build(name: str) -> bytes:
    """The bytes of one named scenario."""
    start, func = SCENARIOS[name]
    st = Story(start)
    func(st)
    return st.trail.getvalue()


def write_all(outdir) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCENARIOS:
        dest = outdir / f"{name}.trail"
        dest.write_bytes(build(name))
        written.append(dest)
    return written



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forensics.testing",
                                     description="write the named scenario trails and the demo")
    parser.add_argument("outdir", nargs="?", default="tests/fixtures/scenarios",
                        help="where <name>.trail files go (default tests/fixtures/scenarios)")
    parser.add_argument("--demo", default=None,
                        help="where the demo collection goes (default: OUTDIR/../demo)")
    parser.add_argument("--only", action="append", help="write only this scenario (repeatable)")
    args = parser.parse_args(argv)
    outdir = Path(args.outdir)
    names = args.only or list(SCENARIOS)
    outdir.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name not in SCENARIOS:
            print(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
            return 2
        (outdir / f"{name}.trail").write_bytes(build(name))
        print(outdir / f"{name}.trail")
    if not args.only:
        demo = Path(args.demo) if args.demo else outdir.parent / "demo"
        write_demo(demo)
        print(demo)
        etc = write_demo_etc(demo.parent / "demo_etc")
        print(etc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
