"""activate_salesforce renders in both dbt execution modes (include/transform/cosmos_config.DbtExecution), with the
same work around dbt: the safety net on the task that runs `dbt build`, the gate after every dbt task, the syncs
after the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.transform.cosmos_config import MANIFEST_PATH, DbtExecution

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "activate_salesforce.py"
GATE = "approve_salesforce_changes"


def _render(monkeypatch, execution: DbtExecution):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("DBT_EXECUTION", execution.value)
    bag = DagBag(dag_folder=str(DAG_FILE), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    return bag.dags["activate_salesforce"]


def _selected_models() -> set[str]:
    """The models activation builds, from the manifest (a fork adding one changes this set, not the test)."""
    nodes = json.loads(MANIFEST_PATH.read_text())["nodes"].values()
    return {n["name"] for n in nodes if n["resource_type"] == "model" and n["original_file_path"].startswith("models/")}


@pytest.mark.parametrize("execution", list(DbtExecution), ids=lambda e: e.value)
def test_both_modes_run_the_same_work_around_dbt(monkeypatch, execution: DbtExecution) -> None:
    from include.assets import INGESTED_ASSETS
    from include.safety_net import skip_when_nothing_to_do

    dag = _render(monkeypatch, execution)
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("transform.")}
    builders = [t for t in dag.tasks if t.task_id in dbt_tasks and t.task_id.endswith(("dbt_build", "_watcher"))]
    [build] = builders  # one task runs `dbt build`
    assert build._pre_execute_hook is skip_when_nothing_to_do
    assert {a.name for a in build.inlets} == {a.name for a in INGESTED_ASSETS}
    leaves = {t for t in dbt_tasks if not dag.get_task(t).downstream_task_ids & dbt_tasks}
    assert leaves <= dag.get_task(GATE).upstream_task_ids, leaves - dag.get_task(GATE).upstream_task_ids
    syncs = [t for t in dag.tasks if t.task_id.startswith("sync_")]
    assert syncs
    assert all(GATE in t.upstream_task_ids or t.upstream_task_ids & {s.task_id for s in syncs} for t in syncs)


def test_build_and_report_runs_dbt_once_with_a_reporting_task_per_model(monkeypatch) -> None:
    from include.transform.dbt_build import DbtBuildProducer, DbtNodeBuildOperator, DbtNodeTestOperator

    dag = _render(monkeypatch, DbtExecution.BUILD_AND_REPORT)
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("transform.")]
    assert isinstance(dag.get_task("transform.dbt_build"), DbtBuildProducer)
    assert all(isinstance(t, DbtBuildProducer | DbtNodeBuildOperator | DbtNodeTestOperator) for t in dbt_tasks)
    reported = {t.task_id.removeprefix("transform.").removesuffix("_model_build") for t in dbt_tasks}
    assert _selected_models() <= reported


def test_cosmos_watcher_is_cosmos_own_producer_and_sensors(monkeypatch) -> None:
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    dag = _render(monkeypatch, DbtExecution.COSMOS_WATCHER)
    producer = dag.get_task("transform.dbt_producer_watcher")
    assert isinstance(producer, DbtProducerWatcherOperator)
    assert producer.retries == 0  # Cosmos does not re-run a retried producer
    watched = {t.task_id.split(".")[1] for t in dag.tasks if t.task_id.endswith(".run")}
    assert _selected_models() <= watched


def test_an_unknown_mode_is_a_clear_error(monkeypatch) -> None:
    from include.transform.cosmos_config import dbt_execution

    monkeypatch.setenv("DBT_EXECUTION", "watcher")
    with pytest.raises(ValueError, match="DBT_EXECUTION='watcher' is not one of: build_and_report, cosmos_watcher"):
        dbt_execution()
