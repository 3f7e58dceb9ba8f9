"""The layout rules the code promises, checked on its source.

- no import cycles among ``recsys`` modules (every import counts: top level, inside functions,
  under ``TYPE_CHECKING``);
- ``recsys/`` never imports Streamlit or the UI;
- no source file of the library or the app is longer than ``MAX_LINES``, data tables excepted;
- ``pages/`` holds only page files;
- ``docs/ARCHITECTURE.md`` cites only names that exist;
- ``.ci/run`` runs the README's check-and-test command verbatim.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from ui.nav import PAGE_FILES

ROOT = Path(__file__).resolve().parents[1]
RECSYS = ROOT / "recsys"

#: Longest source file allowed in recsys/, ui/, pages/ and app.py.
MAX_LINES = 500
#: Files allowed to be longer: data tables only, never logic. ``recsys/data/demo/tables.py``
#: is the demo store's hand-written catalogue (phone models, accessories, prices, Chinese
#: names): one literal per row, which splitting would only scatter.
LONG_FILE_ALLOWLIST = {"recsys/data/demo/tables.py"}


# ---------------------------------------------------------------------------- the import graph
def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _recsys_files(root: Path = ROOT) -> list[Path]:
    return sorted((root / "recsys").rglob("*.py"))


def _imports(path: Path, root: Path = ROOT) -> Iterator[tuple[str, str | None, int]]:
    """Every import in the file as ``(module, imported name or None, line)``, relative resolved.

    ``ast.walk`` visits the whole tree: imports inside functions and under ``if TYPE_CHECKING``
    count like top-level ones.
    """
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                yield module, alias.name, node.lineno


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the recsys modules it imports.

    ``from pkg import submodule`` is an edge to the submodule only (not to ``pkg``), ``from
    module import name`` an edge to the module, ``import a.b`` an edge to ``a.b``.
    """
    files = {_module_name(p, root): p for p in _recsys_files(root)}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges: set[str] = set()
        for module, imported, _ in _imports(path, root):
            if imported is not None and f"{module}.{imported}" in files:
                edges.add(f"{module}.{imported}")
            elif module in files:
                edges.add(module)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan) with more than one module, or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """The walker finds function-level, TYPE_CHECKING and relative imports, and the cycle."""
    pkg = tmp_path / "recsys" / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / "recsys" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from recsys.sub.b import B\n"
    )
    (pkg / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "c.py").write_text("from recsys.sub import a\nimport recsys.sub\n")
    graph = _graph(tmp_path)
    assert graph["recsys.sub.a"] == {"recsys.sub.b"}
    assert graph["recsys.sub.b"] == {"recsys.sub.c"}
    assert graph["recsys.sub.c"] == {"recsys.sub.a", "recsys.sub"}
    assert _cycles(graph) == [["recsys.sub.a", "recsys.sub.b", "recsys.sub.c"]]


def test_no_import_cycles_in_recsys():
    graph = _graph()
    assert sum(len(e) for e in graph.values()) > 100, "the import graph looks empty"
    assert _cycles(graph) == []


def test_recsys_never_imports_streamlit_or_the_ui():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _recsys_files()
        for module, _, line in _imports(path)
        if module.split(".")[0] in ("streamlit", "ui", "pages", "app")
    ]
    assert found == []


# ---------------------------------------------------------------------------- file sizes
def _app_sources() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in ("recsys", "ui", "pages"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_no_source_file_longer_than_the_limit():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _app_sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert {f: n for f, n in long.items() if f not in LONG_FILE_ALLOWLIST} == {}


def test_the_long_file_allowlist_holds_only_data_tables():
    for name in LONG_FILE_ALLOWLIST:
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        assert functions == [], f"{name} holds logic; only data tables may pass {MAX_LINES} lines"


# ---------------------------------------------------------------------------- pages/
def test_pages_holds_only_page_files():
    entries = sorted(p.name for p in (ROOT / "pages").iterdir() if p.name != "__pycache__")
    assert all(re.fullmatch(r"\d+_[a-z_]+\.py", e) for e in entries), entries
    assert {f"pages/{e}" for e in entries} == set(PAGE_FILES.values())


def test_nothing_imports_a_page():
    sources = [*_app_sources(), *sorted((ROOT / "tests").glob("*.py"))]
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sources
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pages")
        or (
            isinstance(node, ast.Import)
            and any(a.name.split(".")[0] == "pages" for a in node.names)
        )
    ]
    assert found == []


# ---------------------------------------------------------------------------- CI
def test_ci_runs_the_readme_command_verbatim():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(python3\.11 -m venv .*)\n```", readme)
    test_command = next(c for c in commands if "pytest" in c)
    assert "ruff check" in test_command and "mypy" in test_command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()
