"""The pipeline's compaction of a filtered file: the same rows, only their own strings, and no
pyarrow (issue 11: memory follows the selection)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import polars as pl
import pytest

import forensics
from forensics import pipeline
from forensics.bsm.choice import c_available

from .conftest import FIXTURES

DEMO = FIXTURES / "demo"


def test_a_compacted_frame_is_the_filtered_frame():
    records = forensics.load(DEMO).records
    kept = records.filter(pl.col("event_name").is_in(["AUE_EXECVE", "AUE_OPEN_RWTC"]))
    assert 0 < kept.height < records.height
    compacted = pipeline._compact(kept)
    assert compacted.schema == kept.schema
    assert compacted.equals(kept)
    assert pipeline._compact(kept.clear()).schema == kept.schema


@pytest.mark.skipif(not c_available(), reason="the C core is not built")
def test_a_selection_is_loaded_without_pyarrow(tmp_path):
    code = ("import json, sys, forensics\n"
            "a = forensics.load(sys.argv[1], event=('AUE_EXECVE',), auid=('501',))\n"
            "n = a.records.height\n"
            "print(json.dumps([n, 'pyarrow' in sys.modules]))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-P", "-c", code, str(DEMO)], capture_output=True,
                          text=True, cwd=tmp_path, env=env, check=False)
    if proc.returncode != 0:
        pytest.fail(proc.stderr)
    rows, imported = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rows > 0 and not imported
