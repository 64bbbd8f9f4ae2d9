"""The record order is a value passed in (no module-level cache), and model/ imports only
the core and Polars."""

from __future__ import annotations

import ast
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest

from forensics.model import attribution, order, processes, sessions
from tests.model.attribution_helpers import DEMO, records_of, scenario

MODEL = Path(processes.__file__).parent


def test_results_are_the_same_with_or_without_the_ordering_passed_in():
    recs = records_of(*sorted(p for p in DEMO.iterdir() if p.name != "current"))
    ordered = order.order(recs)
    assert ordered.get_column("seq").to_list() == list(range(recs.height))
    p = processes.build(recs)
    assert processes.build(recs, ordered).equals(p)
    assert attribution.events(recs, p, None, ordered=ordered).equals(attribution.events(recs, p))
    assert sessions.sessions(recs, None, ordered=ordered).equals(attribution.sessions(recs))


def test_an_ordering_of_other_records_is_refused():
    su, sudo = scenario("su"), scenario("sudo_over_ssh")
    with pytest.raises(ValueError, match="ordered"):
        processes.build(su, order.order(sudo))
    with pytest.raises(ValueError, match="ordered"):
        sessions.sessions(su, None, ordered=order.order(su, ()).drop("args"))


def test_frames_built_on_threads_do_not_share_state():
    """Two record frames worked on at once (fleet mode builds Audits on threads) each get
    their own result, whatever the interleaving."""
    names = ["su", "sudo_over_ssh", "finder_copy", "pid_reuse"] * 3
    frames = [scenario(n) for n in names]
    alone = [processes.build(f) for f in frames]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(processes.build, frames))
    for a, b in zip(alone, together):
        assert a.equals(b)


def test_model_imports_only_the_core_and_polars():
    allowed_abs = {"polars", *sys.stdlib_module_names}
    allowed_up = {"schema", "tables", "text", "errors", "window"}
    for path in MODEL.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                bad = [a.name for a in node.names if a.name.split(".")[0] not in allowed_abs]
                assert not bad, f"{path.name} imports {bad}"
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    assert node.module.split(".")[0] in allowed_abs, f"{path.name}: {node.module}"
                elif node.level == 2:
                    assert (node.module or "").split(".")[0] in allowed_up, \
                        f"{path.name} imports ..{node.module}"
                else:
                    assert node.level == 1, f"{path.name}: relative import level {node.level}"


def test_no_module_level_caches():
    """Nothing in model/ rebinds a module global or keeps frames by weak reference."""
    for path in MODEL.glob("*.py"):
        text = path.read_text()
        assert not any(isinstance(n, ast.Global) for n in ast.walk(ast.parse(text))), path.name
        assert "weakref" not in text, path.name


def test_records_in_several_chunks_give_the_same_results():
    """``load`` may hand over a frame of many chunks (one per file or batch); the lazy queries
    must not depend on the chunk layout (Polars panicked on one of them)."""
    files = sorted((DEMO.parent / "scenarios").glob("*.trail"))
    one_chunk = records_of(*files)
    chunked = pl.concat([records_of(f) for f in files], rechunk=False)
    assert chunked.n_chunks() > 1 and chunked.equals(one_chunk)
    p = processes.build(chunked)
    assert p.equals(processes.build(one_chunk))
    assert attribution.events(chunked, p).equals(attribution.events(one_chunk, p))
    assert sessions.sessions(chunked).equals(sessions.sessions(one_chunk))
