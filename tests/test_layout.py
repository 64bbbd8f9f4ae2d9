"""The package's shape (docs/architecture.md): bands whose imports only point down.

Every ``import`` in ``forensics/`` is read with ``ast`` (deferred imports inside functions too)
and checked against the bands; the module graph must have no circle; ``click`` lives only under
``cli/``; ``report/`` reads frames only; ``model/`` keeps no module-level state; modules and
functions stay small.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forensics"

#: module prefix -> (band level, group). Lower levels are lower bands; two groups on one level
#: are siblings and may not import each other.
BANDS = [
    ("forensics.text", 0, "core"), ("forensics.schema", 0, "core"),
    ("forensics.errors", 0, "core"), ("forensics.tables", 0, "core"),
    ("forensics.window", 0, "core"), ("forensics.ids", 0, "core"),
    ("forensics.bsm", 1, "bsm"), ("forensics.model", 1, "model"),
    ("forensics.collection", 2, "collection"), ("forensics.testing", 2, "testing"),
    ("forensics.pipeline", 3, "pipeline"), ("forensics.pushdown", 3, "pipeline"),
    ("forensics.audit", 4, "facade"), ("forensics.reduce", 4, "facade"),
    ("forensics.explore", 4, "facade"), ("forensics.stored", 4, "facade"),
    ("forensics", 4, "facade"),                     # the package root: load, scan, read, errors
    ("forensics.report", 5, "report"),
    ("forensics.cli", 6, "cli"),
]

#: Deliberate upward reaches, each a deferred import inside one function, each documented in
#: docs/architecture.md. (importer, imported)
ALLOWED_UPWARD = {
    # Audit.section(name): a notebook convenience that renders one report section inline.
    ("forensics.explore", "forensics.report"),
}

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _band(module: str):
    best = None
    for prefix, level, group in BANDS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, level, group)
    assert best is not None, f"{module} is in no band: add it to BANDS and docs/architecture.md"
    return best[1], best[2]


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported name, line) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[:len(base) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:        # `from . import decode` names a module
                candidate = f"{target}.{alias.name}"
                found.append((candidate if candidate in MODULES else target, node.lineno))
    return found


def _internal(name: str) -> str | None:
    """The package module an import refers to (the longest known prefix), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, _line in _imports(module, path):
            target = _internal(name)
            if target is not None and target != module:
                graph[module].add(target)
    return graph


def test_every_module_is_in_a_band():
    for module in MODULES:
        _band(module)


def test_imports_point_down_the_bands():
    bad = []
    for module, path in MODULES.items():
        level, group = _band(module)
        for name, line in _imports(module, path):
            target = _internal(name)
            if target is None or target == module:
                continue
            t_level, t_group = _band(target)
            if module.startswith(target + ".") and t_group == "facade" and target == "forensics":
                continue     # a submodule's own package root, as seen by Python; not a use
            if (module.split(".")[0:2] == target.split(".")[0:2]) and t_group == group:
                continue     # inside one subpackage
            upward = t_level > level or (t_level == level and t_group != group)
            if upward and (_prefix(module), _prefix(target)) not in ALLOWED_UPWARD:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} ({group}) "
                           f"imports {target} ({t_group})")
    assert not bad, "imports that point up or sideways:\n" + "\n".join(bad)


def _prefix(module: str) -> str:
    for prefix, _level, _group in sorted(BANDS, key=lambda b: -len(b[0])):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return module


def test_no_import_circles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    counter = [0]

    def visit(v):            # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    # a package's __init__ importing its own submodules, which Python imports through the
    # package, is not a circle of ours: drop edges from a submodule to its own package root
    real = []
    for comp in circles:
        inner = {m for m in comp if not any(o.startswith(m + ".") for o in comp)}
        if len(inner) > 1:
            real.append(comp)
    assert not real, f"import circles: {real}"


def test_click_only_under_cli_and_nothing_imports_cli():
    for module, path in MODULES.items():
        names = [n for n, _ in _imports(module, path)]
        if not module.startswith("forensics.cli"):
            assert not any(n == "click" or n.startswith("click.") for n in names), (
                f"{module} imports click: the command line lives in forensics/cli/")
            assert not any((_internal(n) or "").startswith("forensics.cli") for n in names), (
                f"{module} imports the command line")


def test_report_reads_frames_only():
    forbidden = ("forensics.bsm", "forensics.collection", "forensics.pipeline")
    for module, path in MODULES.items():
        if not module.startswith("forensics.report"):
            continue
        for name, line in _imports(module, path):
            target = _internal(name) or ""
            assert not target.startswith(forbidden), (
                f"{path.name}:{line}: report/ reads Audit frames only, not {target}")


def test_model_keeps_no_module_level_state():
    for module, path in MODULES.items():
        if not module.startswith("forensics.model"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Global), f"{path.name}:{node.lineno}: global state"
        names = [n for n, _ in _imports(module, path)]
        assert "weakref" not in names, f"{path.name}: caches belong on the Audit object"
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in node.decorator_list:
                    text = ast.unparse(deco)
                    assert "cache" not in text, (
                        f"{path.name}:{node.lineno}: {text} caches at module level")
        # model takes frames, not files or the Audit
        for name, line in _imports(module, path):
            target = _internal(name) or ""
            assert not target.startswith(("forensics.audit", "forensics.collection",
                                          "forensics.pipeline")), f"{path.name}:{line}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module}: {lines} lines (at most {MAX_MODULE_LINES})"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_functions_are_short(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{module}: functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


def test_architecture_doc_names_every_module():
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(PACKAGE.parent)) for p in MODULES.values()
               if p.name != "__main__.py" and f"`{p.relative_to(PACKAGE.parent)}`" not in doc]
    assert not missing, f"docs/architecture.md does not name: {missing}"
