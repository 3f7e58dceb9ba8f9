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
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

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


# ---------------------------------------------------------------------------- docs
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
#: A dotted name in backticks that starts at a top-level package of the project.
_CITED = re.compile(r"`((?:recsys|ui)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")
#: A project path in backticks: ``recsys/data/split.py``, ``ui/``, ``tests/test_fusion.py`` ...
_PATH = re.compile(r"`((?:recsys|ui|pages|tests|locales|docs|\.ci)/[A-Za-z0-9_./-]*)`")


def _resolve(dotted: str) -> object:
    """Import the longest module prefix of ``dotted``, then getattr the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        try:
            obj: object = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name is None or not f"{module}.".startswith(f"{err.name}."):
                raise  # the module exists, but an import inside it is broken
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def _cited_names(path: Path) -> list[str]:
    return sorted(set(_CITED.findall(path.read_text(encoding="utf-8"))))


def _cited_paths(path: Path) -> list[str]:
    return sorted(set(_PATH.findall(path.read_text(encoding="utf-8"))))


def test_resolve_fails_on_a_missing_name():
    assert _resolve("recsys.service.training.train_run").__name__ == "train_run"
    assert _resolve("recsys.service.run.Run.evaluate").__name__ == "evaluate"
    with pytest.raises(AttributeError):
        _resolve("recsys.service.training.no_such_function")
    with pytest.raises(AttributeError):
        _resolve("recsys.no_such_module.thing")


def test_the_docs_cite_many_names():
    assert len(_cited_names(ARCHITECTURE)) >= 40
    assert len(_cited_paths(ARCHITECTURE)) >= 100
    assert len(_cited_names(CONTRIBUTING)) >= 5


@pytest.mark.parametrize("doc", [ARCHITECTURE, CONTRIBUTING], ids=lambda p: p.name)
def test_every_name_the_docs_cite_exists(doc):
    missing = []
    for name in _cited_names(doc):
        try:
            _resolve(name)
        except (ImportError, AttributeError) as err:
            missing.append(f"{name}: {err}")
    assert missing == []


@pytest.mark.parametrize("doc", [ARCHITECTURE, CONTRIBUTING], ids=lambda p: p.name)
def test_every_path_the_docs_cite_exists(doc):
    assert [p for p in _cited_paths(doc) if not (ROOT / p).exists()] == []


def test_architecture_lists_every_recsys_module():
    """One line per module: ``recsys/x/y.py``; a package's ``__init__.py`` may be cited as ``recsys/x/``."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = []
    for path in _recsys_files():
        rel = path.relative_to(ROOT).as_posix()
        package = f"`{path.parent.relative_to(ROOT).as_posix()}/`"
        if f"`{rel}`" not in text and not (path.name == "__init__.py" and package in text):
            missing.append(rel)
    assert missing == []


def test_architecture_names_every_model_fusion_method_and_normaliser():
    from recsys.models import MODEL_NAMES
    from recsys.ranking.fusion import FUSERS
    from recsys.ranking.normalise import NORMALIZERS

    text = ARCHITECTURE.read_text(encoding="utf-8")
    names = [*MODEL_NAMES, *FUSERS, *NORMALIZERS]
    assert [n for n in names if f"`{n}`" not in text] == []


def _signature_blocks(text: str) -> list[tuple[str, list[str]]]:
    """``python`` blocks as ``(module, lines)`` runs: a ``# recsys.module`` comment starts a run."""
    runs: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            head = re.fullmatch(r"# ((?:recsys|ui)[\w.]*)", line.strip())
            if head:
                runs.append((head.group(1), []))
            elif runs and line.strip():
                runs[-1][1].append(re.split(r"\s+# ", line)[0].rstrip())
    return runs


def _doc_parameters(line: str) -> tuple[list[str], list[str]]:
    """``def f(a, b=1, *, c) -> T`` -> (positional names, keyword-only names); self/cls dropped."""
    tree = ast.parse(line.strip() + ": ...")
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    positional = [x.arg for x in (*a.posonlyargs, *a.args)]
    if a.vararg:
        positional.append("*" + a.vararg.arg)
    keyword = [x.arg for x in a.kwonlyargs] + (["**" + a.kwarg.arg] if a.kwarg else [])
    return [p for p in positional if p not in ("self", "cls")], keyword


def _code_parameters(obj: object) -> tuple[list[str], list[str]]:
    """The same split for a real function, method, classmethod or property."""
    if isinstance(obj, property):
        obj = obj.fget
    if isinstance(obj, classmethod | staticmethod):
        obj = obj.__func__
    positional, keyword = [], []
    for p in inspect.signature(obj).parameters.values():  # type: ignore[arg-type]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            positional.append("*" + p.name)
        elif p.kind is p.KEYWORD_ONLY:
            keyword.append(p.name)
        else:
            keyword.append("**" + p.name)
    return [p for p in positional if p not in ("self", "cls")], keyword


def _class_members(cls: type) -> set[str]:
    names = set(dir(cls))
    for klass in cls.__mro__:
        names |= set(getattr(klass, "__annotations__", {}))
    return names


def _check_signatures(text: str) -> tuple[int, list[str]]:
    """Compare every ``def`` and class attribute of the doc's python blocks with the code."""
    checked, problems = 0, []
    for module_name, lines in _signature_blocks(text):
        module = importlib.import_module(module_name)
        cls: type | None = None
        for line in lines:
            indented = line.startswith(" ")
            stripped = line.strip()
            if stripped.startswith("class "):
                name = re.match(r"class (\w+)", stripped).group(1)  # type: ignore[union-attr]
                cls = getattr(module, name, None)
                if cls is None:
                    problems.append(f"{module_name}.{name}: no such class")
                continue
            if not indented:
                cls = None
            owner = f"{module_name}.{cls.__name__}" if indented and cls else module_name
            if stripped.startswith("def "):
                name = re.match(r"def (\w+)", stripped).group(1)  # type: ignore[union-attr]
                if indented and cls is not None:
                    obj = inspect.getattr_static(cls, name, None)
                else:
                    obj = getattr(module, name, None)
                if obj is None:
                    problems.append(f"{owner}.{name}: missing")
                    continue
                doc, code = _doc_parameters(stripped), _code_parameters(obj)
                if doc != code:
                    problems.append(f"{owner}.{name}: the doc says {doc}, the code has {code}")
                checked += 1
            elif indented and cls is not None:
                attr = re.match(r"(\w+)\s*:", stripped)
                if attr and attr.group(1) not in _class_members(cls):
                    problems.append(f"{owner}.{attr.group(1)}: no such attribute")
                checked += bool(attr)
    return checked, problems


def test_architecture_signatures_match_the_code():
    checked, problems = _check_signatures(ARCHITECTURE.read_text(encoding="utf-8"))
    assert problems == []
    assert checked >= 100


def test_the_signature_check_catches_drift():
    doc = (
        "```python\n# recsys.service.training\n"
        "def train_run(dataset, preset, *, progress=None, stages=STAGES) -> Run\n"
        "# recsys.service.preset\nclass Preset:\n    colour: str\n"
        "    def with_fusion(self, fusion) -> Preset\n```\n"
    )
    checked, problems = _check_signatures(doc)
    assert checked == 3
    assert len(problems) == 2
    assert "train_run" in problems[0] and "tune" in problems[0]
    assert "colour" in problems[1]


# ---------------------------------------------------------------------------- CI
def test_ci_runs_the_readme_command_verbatim():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(python3\.11 -m venv .*)\n```", readme)
    test_command = next(c for c in commands if "pytest" in c)
    assert "ruff check" in test_command and "mypy" in test_command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()
