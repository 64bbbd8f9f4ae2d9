"""The notebooks run top to bottom against the current API (no Jupyter needed), each in under a
minute, and are committed without outputs."""

from __future__ import annotations

import json
import time

import polars as pl
import pytest

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: What each notebook must have found: frames with at least one row, and other checks.
EXPECT = {
    "deep-dive.ipynb": ("helper", "commands"),
    "incident-triage.ipynb": ("commands", "suspicious", "failures", "tree", "files"),
    "exfiltration-hunt.ipynb": ("outbound", "suspects", "by_whom", "usb", "scenarios"),
    "who-was-it.ipynb": ("kinds", "direct", "inferred", "evidence_tokens", "nobody", "limits"),
}


def _run(path) -> dict:
    namespace: dict = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)
    return namespace


def test_every_notebook_has_expectations():
    assert {p.name for p in NOTEBOOKS} == set(EXPECT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    assert notebook["nbformat"] == 4
    for cell in notebook["cells"]:
        assert "id" in cell and cell["cell_type"] in ("markdown", "code")
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.chdir(path.parent)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    started = time.perf_counter()
    namespace = _run(path)
    assert time.perf_counter() - started < 60, f"{path.name} took over a minute"
    for name in EXPECT[path.name]:
        assert isinstance(namespace[name], pl.DataFrame), name
        assert namespace[name].height >= 1, name


def test_the_deep_dives_find_what_they_are_about(monkeypatch):
    notebooks = ROOT / "notebooks"
    monkeypatch.chdir(notebooks)
    triage = _run(notebooks / "incident-triage.ipynb")
    assert "/Users/bob/secret.txt" in triage["files"]["path"].to_list()
    assert triage["person"].name == "alice"
    assert triage["again"].events.equals(triage["audit"].events)      # the Parquet round trip
    hunt = _run(notebooks / "exfiltration-hunt.ipynb")
    tied = hunt["suspects"].filter(pl.col("tie") != "near in time")
    assert {"/Volumes/USB/report.pdf", "/Volumes/Backup/home.tgz"} <= set(tied["to"])
    assert set(tied["attribution_kind"]) == {"direct", "inferred"}
    who = _run(notebooks / "who-was-it.ipynb")
    assert who["inferred"]["user"].to_list() == [501]
    assert who["asked_by"]["pid"].to_list() == [412] and who["started_by"]["pid"].to_list() == [1]
    assert who["nobody"]["user"].is_null().all()
    assert "_repr_html_" in dir(who["section"])
