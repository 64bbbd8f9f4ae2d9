"""Shared by test_processes.py and test_attribution.py: trails -> records frames, users."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from forensics import schema
from forensics.bsm import backends
from forensics.tables import ClassTable, EventTable, Users

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "fixtures" / "scenarios"
DEMO = ROOT / "tests" / "fixtures" / "demo"
SHARED = ROOT.parent / "shared" / "fixtures"
REAL = SHARED / "real"

BACKENDS = ["python"] + (["c"] if backends.c_available() else [])

_EVENTS = None


def _event_frame() -> pl.DataFrame:
    global _EVENTS
    if _EVENTS is None:
        _EVENTS = EventTable.bundled().frame(ClassTable.bundled())
    return _EVENTS


def records_of(*paths, backend: str = "python") -> pl.DataFrame:
    """A records frame (schema.RECORDS) of trail files, in the order given."""
    frames = []
    for p in paths:
        core = backends.decode_records(Path(p).read_bytes(), backend).records
        f = core.with_columns(pl.lit(str(p)).alias("source")).join(
            _event_frame(), on="event", how="left", maintain_order="left")
        frames.append(f.select(list(schema.RECORDS.names())).cast(dict(schema.RECORDS)))
    return pl.concat(frames) if frames else schema.empty(schema.RECORDS)


def records_from_bytes(data: bytes, name: str = "test.trail", backend: str = "python"):
    core = backends.decode_records(data, backend).records
    f = core.with_columns(pl.lit(name).alias("source")).join(
        _event_frame(), on="event", how="left", maintain_order="left")
    return f.select(list(schema.RECORDS.names())).cast(dict(schema.RECORDS))


def scenario(name: str, backend: str = "python") -> pl.DataFrame:
    return records_of(SCENARIOS / f"{name}.trail", backend=backend)


PASSWD = """\
root:*:0:0:System Administrator:/var/root:/bin/sh
nobody:*:-2:-2:Unprivileged User:/var/empty:/usr/bin/false
_www:*:70:70:World Wide Web Server:/Library/WebServer:/usr/bin/false
alice:*:501:20:Alice:/Users/alice:/bin/zsh
bob:*:502:20:Bob:/Users/bob:/bin/zsh
"""

# the FreeBSD VM of the openbsm-parser trails (SOURCES.md)
FREEBSD_PASSWD = """\
root:*:0:0:Charlie &:/root:/bin/csh
jasper:*:1001:1001:Jasper:/home/jasper:/usr/local/bin/zsh
lp:*:1002:1002:lp:/var/spool/lpd:/usr/sbin/nologin
nobody:*:65534:65534:Unprivileged user:/nonexistent:/usr/sbin/nologin
"""


def users_from(tmp_path: Path, text: str = PASSWD) -> Users:
    path = tmp_path / "passwd"
    path.write_text(text)
    return Users.from_files(passwd=path)


def need_real(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"shared real trail {name} is absent")
    return path


def one(frame: pl.DataFrame, **where) -> dict:
    """The only row matching column == value conditions."""
    sel = frame
    for k, v in where.items():
        sel = sel.filter(pl.col(k) == v)
    assert sel.height == 1, f"{where}: {sel.height} rows"
    return sel.row(0, named=True)
