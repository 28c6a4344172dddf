"""The upstream internals the code relies on (include/upstream_internals.py) are where and what it expects.

An upgrade of Cosmos, Airflow or a provider that moves, renames or changes one fails here, naming the symbol and
the version it was checked against, before a DAG run fails on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from include.upstream_internals import INTERNALS, Internal, problems
from tests.conftest import REPO_ROOT

try:  # the local cloud's own list (dev/); a fork without dev/ checks the product's alone
    from dev.localcloud.upstream_internals import INTERNALS as LOCAL_CLOUD_INTERNALS
except ImportError:
    LOCAL_CLOUD_INTERNALS = ()

EVERY_INTERNAL = (*INTERNALS, *LOCAL_CLOUD_INTERNALS)
# Modules that are not public API of their package: anything imported from them must be listed.
INTERNAL_MODULES = (
    "cosmos.airflow",
    "cosmos.cache",
    "cosmos.converter",
    "cosmos.core",
    "cosmos.dbt",
    "airflow.sdk.bases",
    "airflow.sdk.execution_time",
    "airflow.providers.openlineage.plugins",
    "airflow.providers.standard.decorators",
    "fakesnow",
)


@pytest.mark.parametrize("internal", EVERY_INTERNAL, ids=lambda internal: internal.symbol)
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


def _listed(module: str, name: str) -> bool:
    return any(i.symbol.startswith((f"{module}:{name}", f"{module}.{name}:")) for i in EVERY_INTERNAL)


def _internal(module: str, name: str) -> bool:
    private = name.startswith("_") and not name.startswith("__") and not module.startswith(("include", "dev"))
    return module.startswith(INTERNAL_MODULES) or private


def test_every_internal_the_code_imports_is_listed() -> None:
    """An import from a module that is not public API, or of a private name, without its line in the list fails."""
    roots = [REPO_ROOT / name for name in ("dags", "include", "plugins", "dev") if (REPO_ROOT / name).is_dir()]
    unlisted = sorted(
        f"{path}: from {module} import {name}"
        for root in roots
        for path, module, name in _imports(root)
        if _internal(module, name) and not _listed(module, name)
    )
    assert not unlisted, unlisted
