"""The public Python API: names, frames and their columns."""

from __future__ import annotations

import polars as pl
import pytest

import forensics
from forensics import schema

from .conftest import FIXTURES, ROOT, shared_path

CONTRACT_RECORDS = ["source", "offset", "length", "time", "event", "event_name", "event_classes",
                    "modifier", "version", "auid", "euid", "egid", "ruid", "rgid", "pid", "asid",
                    "return_errno", "return_value", "success", "paths", "args", "exec_argv",
                    "exec_env", "exit_status", "exit_value", "text"]


def test_all_names_exist():
    assert sorted(forensics.__all__) == forensics.__all__
    for name in forensics.__all__:
        assert getattr(forensics, name) is not None


def test_backend_attribute_and_environment(monkeypatch):
    assert forensics.backend in ("c", "python")
    monkeypatch.setenv("KNOX_REPORT_BACKEND", "python")
    assert forensics.backend == "python"
    monkeypatch.setenv("KNOX_REPORT_BACKEND", "rust")
    with pytest.raises(forensics.BackendError, match="valid backends are c, python"):
        forensics.backend


def test_load_a_var_audit_folder(backend):
    audit = forensics.load(shared_path("openbsm", "auditdir"), backend=backend)
    assert audit.backend == backend
    assert audit.records.schema == schema.RECORDS
    for column in CONTRACT_RECORDS:
        assert column in audit.records.columns
    assert audit.records.height == 63
    assert audit.errors.rows() == [(str(shared_path("openbsm", "auditdir", "20240314120000.crash_recovery")),
                                    2552, 40, "truncated record")]
    src = audit.sources
    assert src.schema == schema.SOURCES
    assert sorted(src["kind"].to_list()) == ["crash_recovery", "not_terminated", "skipped", "terminated"]
    assert src.filter(pl.col("read"))["records"].sum() == 63


def test_tokens_frame_is_lossless(backend):
    audit = forensics.load(shared_path("openbsm", "trail", "realistic.trail"), backend=backend)
    tokens = audit.tokens
    assert tokens.schema == schema.TOKENS
    assert tokens.height == audit.records["token_count"].sum()
    data = shared_path("openbsm", "trail", "realistic.trail").read_bytes()
    rebuilt = b"".join(tokens.sort("record_offset", "index")["raw"].to_list())
    assert rebuilt == data[12:-52]          # every record byte, between the two file tokens
    assert set(tokens.filter(pl.col("token_id") == 0xED)["name"]) == {"identity"}


def test_scan_is_lazy_and_equal(backend):
    path = shared_path("openbsm", "auditdir")
    lazy = forensics.scan(path, backend=backend)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(forensics.load(path, backend=backend).records)


def test_readme_documents_every_column():
    readme = (ROOT / "README.md").read_text()
    assert schema.markdown() in readme, "regenerate with: python -m forensics.schema"
    assert set(schema.FRAMES) == {"records", "processes", "events", "sessions"}
    for frame in schema.FRAMES:
        assert all(meaning for _, _, meaning in schema.FRAMES[frame]), frame
        assert schema.markdown(frame) in readme, f"regenerate with: python -m forensics.schema {frame}"


def test_schema_module_prints_every_readme_table():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "forensics.schema"], capture_output=True,
                         text=True, check=True).stdout
    for frame in schema.FRAMES:
        assert schema.markdown(frame) in out
    one = subprocess.run([sys.executable, "-m", "forensics.schema", "records"], capture_output=True,
                         text=True, check=True).stdout
    assert one == schema.markdown()


def test_derived_frames_have_their_declared_schemas():
    audit = forensics.load(FIXTURES / "scenarios" / "sudo_over_ssh.trail")
    assert audit.processes.schema == schema.PROCESSES
    assert audit.events.schema == schema.EVENTS
    assert audit.sessions.schema == schema.SESSIONS


def test_templates_ship_in_the_wheel(tmp_path):
    """`pip wheel .` puts the report templates and data tables inside the package."""
    import subprocess
    import sys
    import zipfile

    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {out.stderr.strip().splitlines()[-1:]}")
    wheel = next(tmp_path.glob("knox_report-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "forensics/report_templates/summary.txt.j2" in names
    assert "forensics/data/audit_event.tsv" in names


def test_damaged_file_inside_a_window(backend):
    """A window over the crash-recovery file: its good records and its damage are reported."""
    folder = shared_path("openbsm", "auditdir")
    audit = forensics.load(folder, since="2024-03-14T12:00:00Z", until="2024-03-14T13:00:00Z",
                           backend=backend)
    assert audit.records.height == 19
    assert audit.errors["reason"].to_list() == ["truncated record"]
    read = dict(audit.sources.select("kind", "read").rows())
    assert read == {"skipped": False, "crash_recovery": True, "terminated": False, "not_terminated": False}
    assert audit.sources.filter(~pl.col("read") & (pl.col("kind") != "skipped"))[
        "skip_reason"].to_list() == ["outside the time window (by its name)"] * 2


def test_sources_report_coverage_gaps(backend):
    audit = forensics.load(shared_path("openbsm", "auditdir"), backend=backend)
    gaps = audit.sources.filter(pl.col("read")).sort("name_start")["gap_before"].to_list()
    assert gaps[0] is None and all(g is not None for g in gaps[1:])


def test_readme_documents_every_process_column():
    from forensics.model import processes

    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _, _ in processes.LIFETIME if f"`{name}`" not in readme]
    assert not missing


def test_load_keeps_only_the_columns_asked_for(backend):
    path = shared_path("openbsm", "auditdir")
    full = forensics.load(path, backend=backend)
    some = forensics.load(path, backend=backend, columns=["paths", "event_name", "auid"])
    assert some.records.columns == ["source", "offset", "time", "event_name", "auid", "paths"]
    assert some.records.equals(full.records.select(some.records.columns))
    assert some.errors.equals(full.errors) and some.sources.equals(full.sources)
    with pytest.raises(forensics.KnoxError, match="no records column nope"):
        forensics.load(path, columns=["auid", "nope"])


def test_a_selection_reads_columns_the_projection_drops(backend):
    path = shared_path("openbsm", "auditdir")
    full = forensics.load(path, backend=backend, ruid=("0",))
    some = forensics.load(path, backend=backend, ruid=("0",), columns=["event"])
    assert some.records.height == full.records.height > 0
    assert some.records.columns == ["source", "offset", "time", "event"]
