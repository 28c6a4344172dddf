"""The parse check `astro dev parse` and `astro deploy` run inside the project image: every DAG file imports.

The Astro CLI runs `pytest .astro/test_dag_integrity_default.py` in a container of the built image, with dags/,
include/, plugins/, tests/ and .astro/ copied in (`astro deploy` refuses to deploy when it fails). This project's
version replaces the CLI's generated one, which builds Airflow 2's `DagBag(include_examples=False)` (gone in
Airflow 3.3) and patches connections, variables and `os.getenv` so DAGs that read them at parse time still pass.
Here nothing is patched and no metadata database is created: this project's DAGs read no connection, variable or
database while parsing, and a DAG that starts to fails this check. It keeps the CLI's contract: one test per DAG
file, and `.astro/dag_integrity_exceptions.txt` lists files allowed to fail. The deeper checks (owners, retries,
timeouts, asset conditions) are in tests/dags/, which `astro dev pytest` and `make test` run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = PROJECT / "dags"
EXCEPTIONS = Path(__file__).with_name("dag_integrity_exceptions.txt")

# The image sets AIRFLOW_HOME; a checkout without one must not write Airflow's files into ~/airflow.
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="astro-parse-airflow-home-")


def dag_files() -> list[str]:
    """Every Python file under dags/, relative to the project."""
    return sorted(str(p.relative_to(PROJECT)) for p in DAGS_FOLDER.rglob("*.py") if "__pycache__" not in p.parts)


def allowed_to_fail() -> set[str]:
    if not EXCEPTIONS.exists():
        return set()
    lines = (line.strip() for line in EXCEPTIONS.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


@pytest.fixture(scope="module")
def import_errors() -> dict[str, str]:
    """Import error per DAG file (relative path), from one DagBag of the whole folder, as the dag-processor sees it."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER), safe_mode=False)
    assert bag.dags, f"no DAG found in {DAGS_FOLDER}"
    return {str(Path(path).resolve().relative_to(PROJECT)): error for path, error in bag.import_errors.items()}


def test_the_dags_folder_has_dag_files() -> None:
    assert dag_files(), f"no Python file under {DAGS_FOLDER}"


@pytest.mark.parametrize("rel_path", dag_files())
def test_file_imports(rel_path: str, import_errors: dict[str, str]) -> None:
    if rel_path in allowed_to_fail():
        pytest.skip(f"{rel_path} is listed in {EXCEPTIONS.name}")
    assert rel_path not in import_errors, f"{rel_path} failed to import:\n{import_errors[rel_path]}"


def test_every_import_error_belongs_to_a_checked_file(import_errors: dict[str, str]) -> None:
    """An error outside the parametrized files (a file the glob above missed) must not go unreported."""
    unchecked = set(import_errors) - set(dag_files()) - allowed_to_fail()
    assert not unchecked, {path: import_errors[path] for path in unchecked}
