"""The tests `astro dev pytest` runs in the deployment image import only what the image has.

The image carries dags/, include/, plugins/, .astro/ and tests/ (the CLI copies tests/ in), but not dev/ (the
local cloud) nor the tooling packages of requirements-dev.txt. tests/conftest.py leaves tests/integration and
tests/static out of the collection there; every other module (tests/dags, tests/unit, fixtures, .astro) must
import nothing else unless it first skips itself with ``if not CHECKOUT: pytest.skip(..., allow_module_level=True)``.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import REPO_ROOT

FIRST_PARTY = {"include", "tests", "dags", "plugins"}
LOCAL_ONLY = {"dev"}  # the local cloud's package: never in the image
NOT_COLLECTED_IN_IMAGE = {"integration", "static"}  # tests/conftest.py: collect_ignore_glob


def image_modules() -> list[Path]:
    """The Python files the image's test run imports."""
    tests = [
        path
        for path in (REPO_ROOT / "tests").rglob("*.py")
        if path.relative_to(REPO_ROOT / "tests").parts[0] not in NOT_COLLECTED_IN_IMAGE
    ]
    return sorted([*tests, *(REPO_ROOT / ".astro").glob("*.py")])


def _closure(names: set[str]) -> set[str]:
    """Distributions ``names`` install, following their installed metadata (extras not taken)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_canonical(requirement.name))
    return seen


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def image_distributions() -> set[str]:
    """What the image installs: the Runtime's Airflow with its dependencies, requirements.txt, and pytest (the
    Runtime ships it for `astro dev pytest`). A lower bound of the Runtime, which is all this check needs."""
    pinned = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", (REPO_ROOT / "requirements.txt").read_text(), re.M)
    return _closure({"apache-airflow", "pytest", *(_canonical(name) for name in pinned)})


def _module_distributions() -> dict[str, set[str]]:
    return {module: {_canonical(d) for d in dists} for module, dists in metadata.packages_distributions().items()}


def _is_checkout_guard(statement: ast.stmt) -> bool:
    """``if not CHECKOUT: pytest.skip(..., allow_module_level=True)``."""
    if not (isinstance(statement, ast.If) and isinstance(statement.test, ast.UnaryOp)):
        return False
    if not (isinstance(statement.test.op, ast.Not) and getattr(statement.test.operand, "id", None) == "CHECKOUT"):
        return False
    return any(
        isinstance(node, ast.Call)
        and ast.unparse(node.func) == "pytest.skip"
        and any(k.arg == "allow_module_level" and getattr(k.value, "value", None) is True for k in node.keywords)
        for node in ast.walk(statement)
    )


def unguarded_imports(source: str) -> list[str]:
    """Top-level packages imported (anywhere in the module) before a module-level checkout guard, or with none."""
    names: list[str] = []
    for statement in ast.parse(source).body:
        if _is_checkout_guard(statement):
            break
        for node in ast.walk(statement):
            if isinstance(node, ast.Import):
                names += [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.append(node.module.split(".")[0])
    return names


def missing_from_image(source: str, in_image: set[str], module_dists: dict[str, set[str]]) -> set[str]:
    missing = set()
    for name in unguarded_imports(source):
        if name in sys.stdlib_module_names or name in FIRST_PARTY or name == "__future__":
            continue
        if name in LOCAL_ONLY or not (module_dists.get(name, set()) & in_image):
            missing.add(name)
    return missing


@pytest.fixture(scope="module")
def in_image() -> set[str]:
    return image_distributions()


@pytest.fixture(scope="module")
def module_dists() -> dict[str, set[str]]:
    return _module_distributions()


def test_no_module_the_image_collects_imports_dev_or_tooling_unguarded(in_image, module_dists) -> None:
    problems = {}
    for path in image_modules():
        missing = missing_from_image(path.read_text(), in_image, module_dists)
        if missing:
            problems[str(path.relative_to(REPO_ROOT))] = sorted(missing)
    assert problems == {}, "guard these with `if not CHECKOUT: pytest.skip(NOT_IN_IMAGE, allow_module_level=True)`"


def test_the_image_run_covers_dags_unit_and_the_parse_check() -> None:
    folders = {path.relative_to(REPO_ROOT).parts[:2] for path in image_modules()}
    assert {("tests", "dags"), ("tests", "unit"), (".astro", "test_dag_integrity_default.py")} <= folders


DBT_COMMANDS = {"build", "run", "test", "seed", "compile", "parse", "docs", "ls", "list", "show", "snapshot"}


def test_every_dbt_call_in_the_tests_writes_its_own_target() -> None:
    """Test workers run in parallel and dbt_project/target (the manifest the DAGs render) is shared: a dbt command
    started by a test writes its artifacts and logs elsewhere (--target-path, --log-path)."""
    offenders = []
    for path in sorted((REPO_ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.List) or len(node.elts) < 2:
                continue
            executable, command = ast.unparse(node.elts[0]), node.elts[1]
            if not re.search(r"""["']dbt["']\)*$""", executable):
                continue
            if isinstance(command, ast.Constant) and command.value in DBT_COMMANDS:
                flags = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if not {"--target-path", "--log-path"} <= flags:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} dbt {command.value}")
    assert not offenders, offenders
