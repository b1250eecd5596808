"""The import rules: forecast and solver never import each other or api; api has no import cycles,
no unexplained imports inside functions and takes no private names from other modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "common": {"forecast", "solver", "api"},
    "forecast": {"solver", "api"},
    "solver": {"forecast", "api"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_forbidden_layers(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no Python files"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_packages(f) & FORBIDDEN[package]) for f in files
    }
    offenders = {f: bad for f, bad in offenders.items() if bad}
    assert not offenders, f"{package} must not import {sorted(FORBIDDEN[package])}: {offenders}"


def test_checker_sees_imports(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text(
        "import solver.model\nfrom api.cli import app\nfrom . import x\n", encoding="utf-8"
    )
    assert imported_packages(f) == {"solver", "api"}


def test_never_highspy_with_ortools() -> None:
    """highspy and ortools crash in one process; no module may import highspy."""
    for package in ("forecast", "solver", "api"):
        for f in (ROOT / package).rglob("*.py"):
            assert "highspy" not in imported_packages(f), f


# --------------------------------------------------------------------------- api's own structure
def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (a folder under ``root``) by dotted name."""
    files: dict[str, Path] = {}
    for f in sorted((root / package).rglob("*.py")):
        parts = list(f.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = f
    return files


def import_nodes(path: Path) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement of a file, and whether it is inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nested = {
        id(n)
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        for n in ast.walk(f)
    }
    return [
        (n, id(n) in nested) for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
    ]


def absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (at top level or in functions)."""
    files = module_files(root, package)
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        for node, _ in import_nodes(path):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                source = absolute(module, path.name == "__init__.py", node)
                targets = [
                    f"{source}.{a.name}" if f"{source}.{a.name}" in files else source
                    for a in node.names
                ]
            graph[module].update(t for t in targets if t in files and t != module)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*path[path.index(n) :], n]
            if n not in state and (found := visit(n)) is not None:
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)) is not None:
            return found
    return None


def test_api_has_no_import_cycles() -> None:
    graph = import_graph(ROOT, "api")
    assert len(graph) > 40 and graph["api.store.jobs"], "the import graph looks empty"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycle_checker_sees_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub import b\n")
    (pkg / "a.py").write_text("def f():\n    from .sub.b import g\n")  # in a function, relative
    (pkg / "sub" / "b.py").write_text("from ..c import x\n")
    (pkg / "c.py").write_text("import pkg.a\nx = 1\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub"] == {"pkg.sub.b"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    (pkg / "c.py").write_text("x = 1\n")
    assert find_cycle(import_graph(tmp_path, "pkg")) is None


REASON = re.compile(r"#(?!\s*(?:noqa|type:|isort:|pragma))\s*\S+\s+\S+")


def unexplained_function_imports(path: Path) -> list[int]:
    """Lines of imports inside functions with no comment on that line or the one above saying
    why (start-up time, an optional dependency ...)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        node.lineno
        for node, nested in import_nodes(path)
        if nested
        and not any(REASON.search(lines[i]) for i in (node.lineno - 1, node.lineno - 2) if i >= 0)
    ]


def test_api_imports_inside_functions_say_why() -> None:
    offenders = {
        str(f.relative_to(ROOT)): lines
        for f in module_files(ROOT, "api").values()
        if (lines := unexplained_function_imports(f))
    }
    assert not offenders, f"imports inside functions need a comment saying why: {offenders}"


def test_function_import_checker(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text(
        "import os\n"
        "def a():\n    import json\n"
        "def b():\n    import json  # noqa: F401\n"
        "def c():\n    # optional dependency: only for plots\n    import json\n"
        "def d():\n    import json  # start-up time\n",
        encoding="utf-8",
    )
    assert unexplained_function_imports(f) == [3, 5]


OUR_PACKAGES = ("api", "common", "forecast", "solver")


def private_imports(path: Path, module: str) -> list[str]:
    """``from <ours> import _name``: a private name taken from another module."""
    found = []
    for node, _ in import_nodes(path):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = absolute(module, path.name == "__init__.py", node)
        if source.split(".")[0] in OUR_PACKAGES:
            found += [
                f"{source}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return found


@pytest.mark.parametrize("package", ["common", "forecast", "solver", "api"])
def test_no_private_names_taken_across_modules(package: str) -> None:
    offenders = {
        m: bad for m, f in module_files(ROOT, package).items() if (bad := private_imports(f, m))
    }
    assert not offenders, f"make these public or move them: {offenders}"


def test_private_import_checker(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    f = tmp_path / "api" / "m.py"
    f.write_text(
        "from api.x import public, _hidden\nfrom solver.y import _z as z\n"
        "from .w import _v\nfrom numpy import _private\nfrom api import __version__\n",
        encoding="utf-8",
    )
    assert private_imports(f, "api.m") == ["api.x._hidden", "solver.y._z", "api.w._v"]


def test_shared_kinds_and_rule_ids_are_defined_once() -> None:
    """ChannelKind, LeaveKind and LeaveStatus live in common.enums only; the soft rule ids a
    scenario may switch off are the solver's own list, and the scenario reference names them
    all."""
    from api.scenario import models
    from common import enums
    from forecast import schema as forecast_schema
    from solver import schema as solver_schema
    from solver.rule_ids import SOFT_RULES

    shared = {"ChannelKind", "LeaveKind", "LeaveStatus"}
    where = {
        f"{path.relative_to(ROOT)}:{node.name}"
        for package in ("common", "forecast", "solver", "api")
        for path in sorted((ROOT / package).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name in shared
    }
    assert where == {f"common/enums.py:{name}" for name in shared}
    assert forecast_schema.ChannelKind is solver_schema.ChannelKind is enums.ChannelKind
    assert models.SOFT_RULES is SOFT_RULES
    reference = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert [r for r in SOFT_RULES if f"`{r}`" not in reference] == []


def test_tests_mirror_the_packages() -> None:
    """Tests sit in folders named after what they test (forecast/, solver/, api/<sub-package>/,
    benchmarks/); only this whole-repository check stays at the top."""
    tests = ROOT / "tests"
    loose = sorted(p.name for p in tests.glob("test_*.py") if p.name != "test_layering.py")
    assert not loose, f"tests outside a package folder: {loose}"
    for path in tests.rglob("test_*.py"):
        folder = path.parent.relative_to(tests)
        if folder.parts:
            assert (ROOT / folder).is_dir(), f"{path.relative_to(ROOT)}: no package {folder}"


def test_api_sub_packages_have_no_cycle() -> None:
    """The sub-packages depend one way: e.g. the service uses the store, never the reverse."""
    graph = import_graph(ROOT, "api")
    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        source = ".".join(module.split(".")[:2])
        packages.setdefault(source, set())
        for target in imported:
            target = ".".join(target.split(".")[:2])
            if target != source:
                packages[source].add(target)
    assert "api.store" in packages["api.service"]  # the graph sees the packages
    cycle = find_cycle(packages)
    assert cycle is None, "sub-packages of api import each other: " + " -> ".join(cycle or [])
