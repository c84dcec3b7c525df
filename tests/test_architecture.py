"""The architecture holds: layers, a pure engine, a fake GitHub apart, and no import cycle.

The contracts live in pyproject.toml (``[tool.importlinter]``) and ``lint-imports`` checks
them in ``make lint``; these tests prove that they catch what they are for, on a copy of the
tree with a bad import planted. import-linter does not see ``importlib.import_module``, so
:func:`import_cycles` does: it reads every import (inside functions too) and every
``import_module("literal")``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("analyzers", "bot", "fake_github")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """Every project module and the project modules it imports, anywhere in its code.

    ``from package import module`` counts as importing the module (as import-linter counts
    it), not the package; ``importlib.import_module("name")`` with a literal counts too.
    """
    files = {module_name(root, p): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                modules = [f"{base}.{alias.name}" for alias in node.names]
                submodules = [m for m in modules if m in files]
                found.update(submodules if len(submodules) == len(modules) else [base, *submodules])
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The three packages and pyproject.toml, copied where a bad import can be planted."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(root: Path, module: str, code: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + code + "\n", encoding="utf-8")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev extra (pip install -e '.[dev]')")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_has_no_import_cycle_counting_function_level_and_importlib_imports() -> None:
    assert import_cycles(import_graph(ROOT)) == []


def test_an_importlib_cycle_is_found(tree_copy: Path) -> None:
    plant(
        tree_copy,
        "bot.store.db",
        'def _late():\n    import importlib\n\n    return importlib.import_module("bot.checks.pipeline")',
    )
    cycles = import_cycles(import_graph(tree_copy))
    assert any({"bot.store.db", "bot.checks.pipeline"} <= set(cycle) for cycle in cycles)


def test_the_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_function_level_import_against_the_layers_breaks_a_contract(tree_copy: Path) -> None:
    plant(tree_copy, "bot.store.db", "def _late():\n    from bot.checks import pipeline  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "bot.store.db -> bot.checks.pipeline" in result.stdout


def test_the_engine_importing_the_app_breaks_a_contract(tree_copy: Path) -> None:
    plant(tree_copy, "analyzers.engine", "from bot.ops import settings  # noqa")
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "analyzers.engine -> bot.ops.settings" in result.stdout


def test_a_production_module_importing_the_fake_github_breaks_a_contract(
    tree_copy: Path,
) -> None:
    plant(tree_copy, "bot.checks.publish", "import fake_github  # noqa")
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "bot.checks.publish -> fake_github" in result.stdout


def test_a_cycle_inside_a_package_breaks_a_contract(tree_copy: Path) -> None:
    plant(
        tree_copy,
        "bot.checks.render",
        "def _late():\n    from bot.checks import pipeline  # noqa\n",
    )
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "No cycles are allowed in bot.checks" in result.stdout
    assert ".render -> .pipeline" in result.stdout
