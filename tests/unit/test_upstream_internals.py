"""The upstream internals the code relies on (include/upstream_internals.py) are where and what it expects.

An upgrade of Cosmos, Airflow or a provider that moves, renames or changes one fails here, naming the symbol and
the version it was checked against, before a DAG run fails on it. (The local cloud's own list is checked by
dev/tests/test_local_cloud_internals.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from include.upstream_internals import INTERNALS, Internal, problems
from tests.conftest import REPO_ROOT

# Modules that are not public API of their package: anything imported from them must be listed.
INTERNAL_MODULES = (
    "cosmos.airflow",
    "cosmos.cache",
    "cosmos.converter",
    "cosmos.core",
    "cosmos.dbt",
    "airflow.models",
    "airflow.sdk.bases",
    "airflow.sdk.execution_time",
    "airflow.providers.openlineage.plugins",
    "airflow.providers.standard.decorators",
    "cosmos.plugin",
    "fakesnow",
)


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda internal: internal.symbol)
def test_each_internal_is_as_the_code_uses_it(internal: Internal) -> None:
    assert not problems(internal)


def test_a_renamed_symbol_fails_naming_it_and_the_version(monkeypatch) -> None:
    import cosmos.airflow.graph

    internal = next(i for i in INTERNALS if i.symbol == "cosmos.airflow.graph:create_task_metadata")
    monkeypatch.delattr(cosmos.airflow.graph, "create_task_metadata")
    monkeypatch.setattr(cosmos.airflow.graph, "build_task_metadata", lambda **kwargs: None, raising=False)
    [problem] = problems(internal)
    assert problem.startswith("cosmos.airflow.graph:create_task_metadata (used by dbt_build.build_node_task")
    assert f"checked against astronomer-cosmos {internal.checked_against}" in problem
    assert "is gone" in problem


def test_a_changed_signature_fails_naming_what_is_missing(monkeypatch) -> None:
    import cosmos.airflow.graph

    internal = next(i for i in INTERNALS if i.symbol == "cosmos.airflow.graph:create_task_metadata")
    monkeypatch.setattr(cosmos.airflow.graph, "create_task_metadata", lambda node, execution_mode, args, **kw: None)
    [problem] = problems(internal)
    assert "no longer has ['render_config', 'dbt_dag_task_group_identifier'" in problem


def _imports(root: Path) -> set[tuple[str, str, str]]:
    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {(str(path.relative_to(REPO_ROOT)), node.module, alias.name) for alias in node.names}
    return found


def _listed(module: str, name: str, internals: tuple[Internal, ...]) -> bool:
    return any(i.symbol.startswith((f"{module}:{name}", f"{module}.{name}:")) for i in internals)


def _internal(module: str, name: str) -> bool:
    private = name.startswith("_") and not name.startswith("__") and not module.startswith(("include", "dev"))
    return module.startswith(INTERNAL_MODULES) or private


def unlisted_internals(roots: list[Path], internals: tuple[Internal, ...]) -> list[str]:
    """Imports under ``roots`` of a module that is not public API, or of a private name, that ``internals`` lacks."""
    return sorted(
        f"{path}: from {module} import {name}"
        for root in roots
        for path, module, name in _imports(root)
        if _internal(module, name) and not _listed(module, name, internals)
    )


def test_every_internal_the_product_imports_is_listed() -> None:
    """dev/ has its own list, checked by dev/tests/test_local_cloud_internals.py."""
    assert not unlisted_internals([REPO_ROOT / name for name in ("dags", "include", "plugins")], INTERNALS)
