"""The shape of the Python tree: no import circle under dev/ or include/, and every module the Makefile runs exists.

An import circle works only as long as nobody reorders an import (and even a circle of imports made only for type
checking couples the modules as tightly): a module that two others need belongs below both of them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = tuple(name for name in ("dev", "include") if (REPO / name).is_dir())


def module_files(packages: tuple[str, ...] = PACKAGES, root: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file below ``packages`` (a package is named by its __init__)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or the nearest package above it that is one of ``modules`` (a name imported from a module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports anywhere: at the top, in a function, under TYPE_CHECKING."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(_known(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:  # `from pkg import module` imports the submodule
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in modules else _known(source, modules))
    return {target for target in found if target is not None and target != name}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Circles as paths that end where they start: a depth-first walk finds at least one wherever modules import
    each other (none: the graph has no circle)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str], on_path: set[str]) -> None:
        for target in sorted(graph[node]):
            if target in on_path:
                found.append([*path[path.index(target) :], target])
            elif target not in done:
                path.append(target)
                on_path.add(target)
                visit(target, path, on_path)
                on_path.discard(path.pop())
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start], {start})
    return found


def test_no_import_circle_under_dev_or_include() -> None:
    modules = module_files()
    assert "include.settings" in modules, "the scan found the packages"
    circles = cycles(import_graph(modules))
    assert not circles, "import circles: " + "; ".join(" -> ".join(circle) for circle in circles)


# The Makefile and, when the local cloud is there, its targets (dev/local-cloud.mk).
MAKEFILES = [path for path in (REPO / "Makefile", REPO / "dev" / "local-cloud.mk") if path.is_file()]
MAKEFILE_MODULES = sorted(
    {
        module
        for path in MAKEFILES
        for module in re.findall(r"\$\(VPY\) -m ((?:dev|include)(?:\.\w+)*)", path.read_text())
    }
)


@pytest.mark.parametrize("module", MAKEFILE_MODULES)
def test_every_module_the_makefile_runs_exists(module: str) -> None:
    path = REPO.joinpath(*module.split("."))
    assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), f"make runs a missing {module}"
