"""Every DAG file imports cleanly and carries what operators need: owner, tags, retries, docs, timeouts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from include.dag_defaults import OWNER

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag_bag(report: list[str]):
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS_FOLDER), safe_mode=False)
    elapsed = time.perf_counter() - started
    files = len(list(DAGS_FOLDER.glob("*.py")))
    report.append(f"DagBag parse of dags/ ({files} files, {len(bag.dags)} DAGs): {elapsed:.2f}s")
    return bag


def test_no_import_errors(dag_bag) -> None:
    assert dag_bag.import_errors == {}


def test_every_dag_file_defines_a_dag(dag_bag) -> None:
    files_with_dags = {Path(dag.fileloc).name for dag in dag_bag.dags.values()}
    dag_files = {p.name for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_")}
    assert dag_files == files_with_dags
    assert dag_bag.dags, "no DAGs found"


def test_dags_have_owner_tags_docs_and_limits(dag_bag) -> None:
    problems = []
    for dag_id, dag in dag_bag.dags.items():
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if not (dag.doc_md and len(dag.doc_md.strip()) > 40):
            problems.append(f"{dag_id}: no doc_md")
        if dag.dagrun_timeout is None:
            problems.append(f"{dag_id}: no dagrun_timeout")
        for task in dag.tasks:
            if task.owner != OWNER:
                problems.append(f"{dag_id}.{task.task_id}: owner {task.owner!r}")
            if not task.retries:
                problems.append(f"{dag_id}.{task.task_id}: no retries")
            if task.execution_timeout is None:
                problems.append(f"{dag_id}.{task.task_id}: no execution_timeout")
    assert problems == []


def test_every_task_alerts_through_the_one_notifier(dag_bag) -> None:
    """A failed task anywhere posts the same message to the same place: include/alerts.py."""
    from include.alerts import PipelineFailureNotifier

    silent = [
        f"{dag_id}.{task.task_id}"
        for dag_id, dag in dag_bag.dags.items()
        for task in dag.tasks
        if not any(isinstance(cb, PipelineFailureNotifier) for cb in task.on_failure_callback or [])
    ]
    assert silent == []


def test_activation_has_a_deadline_that_alerts(dag_bag) -> None:
    from airflow.sdk import DeadlineReference

    from include.alerts import missed_deadline_callback

    [deadline] = dag_bag.dags["activate_salesforce"].deadline
    assert deadline.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert deadline.callback.path == f"{missed_deadline_callback.__module__}.{missed_deadline_callback.__name__}"


def test_activation_waits_for_every_ingestion(dag_bag) -> None:
    """Signups must meet a CRM mirror at least as new as they are: every ingestion's Asset, not any one. An ingestion
    DAG's Asset that activation does not wait for (a new source added without include/assets.INGESTED_ASSETS) fails
    here, naming it."""
    from include.assets import INGESTED_ASSETS

    condition = dag_bag.dags["activate_salesforce"].timetable.asset_condition
    assert type(condition).__name__.endswith("AssetAll"), condition  # the DagBag holds serialized conditions
    assert {a.name for a in condition.objects} == {a.name for a in INGESTED_ASSETS}
    produced = {
        outlet.name
        for dag in dag_bag.dags.values()
        if "ingestion" in dag.tags
        for task in dag.tasks
        for outlet in task.outlets
        if hasattr(outlet, "name")
    }
    assert produced, "the ingestion DAGs declare the Assets they deliver"
    not_awaited = produced - {a.name for a in INGESTED_ASSETS}
    assert not not_awaited, f"activation does not wait for {sorted(not_awaited)}: add them to INGESTED_ASSETS"


def test_preflight_checks_every_service_in_its_own_documented_task(dag_bag) -> None:
    from include.preflight.run import SERVICES

    dag = dag_bag.dags["preflight"]
    assert sorted(dag.task_ids) == sorted(f"check_{service}" for service in SERVICES)
    for service in SERVICES:
        checker = dag.get_task(f"check_{service}")
        assert list(checker.op_args) == [service]
        assert checker.doc_md, f"check_{service} has no documentation"
        assert not checker.upstream_task_ids, "a failing service must not keep the others from being checked"


def test_dag_files_parse_without_the_metadata_database(tmp_path) -> None:
    """No Variable, connection, XCom or database read at parse time: parsing costs the same after a thousand runs
    as after one, and the dag-processor never waits on the database for it."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/no-such-dir/airflow.db"}  # fmt: skip
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    script = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        f"bag = DagBag(dag_folder={str(DAGS_FOLDER)!r}, safe_mode=False); "
        "print(json.dumps({'dags': sorted(bag.dags), 'errors': {k: v[-300:] for k, v in bag.import_errors.items()}}))"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert len(parsed["dags"]) == len(list(DAGS_FOLDER.glob("*.py")))
