"""The local cloud's own DAG bundle (dev/dags): the platform checks, beside the pipeline's DAGs but never in dags/."""

from __future__ import annotations

from pathlib import Path

from include.dag_defaults import OWNER

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
DEV_DAGS_FOLDER = REPO_ROOT / "dev" / "dags"


def test_the_local_clouds_own_dags_parse_and_stay_out_of_dags() -> None:
    """dev/dags (the local cloud's second DAG bundle) holds the platform checks: they parse, carry the same
    owner, retries and timeouts, and none of them is in dags/, which the deployment image carries."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DEV_DAGS_FOLDER), safe_mode=False)
    assert bag.import_errors == {}
    assert "smoke_local_cloud" in bag.dags
    for dag in bag.dags.values():
        assert dag.tags, dag.dag_id
        assert dag.dagrun_timeout is not None, dag.dag_id
        for task in dag.tasks:
            assert (task.owner, bool(task.retries), task.execution_timeout is not None) == (OWNER, True, True), task
    pipeline = {p.name for p in DAGS_FOLDER.glob("*.py")}
    assert pipeline.isdisjoint(p.name for p in DEV_DAGS_FOLDER.glob("*.py"))
