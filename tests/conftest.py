"""Shared test fixtures: the shared reference data and the decoder backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.bsm import backends

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures"
FIXTURES = ROOT / "tests" / "fixtures"


def shared_path(*parts: str) -> Path:
    """A path inside ../shared/fixtures, skipping the test when that folder is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/fixtures is absent (reference trails not available here)")
    return SHARED.joinpath(*parts)


def shared_files(folder: str, pattern: str = "*") -> list[Path]:
    """Files for parametrizing at collection time (empty when ../shared is absent)."""
    base = SHARED / folder
    return sorted(p for p in base.glob(pattern) if p.is_file()) if base.is_dir() else []


@pytest.fixture(params=["python", "c"])
def backend(request) -> str:
    if request.param == "c" and not backends.c_available():
        pytest.skip("the C core is not built in this environment")
    return request.param
