"""`make demo` starts the ingestions activation waits for: a source added to include/assets.INGESTED_ASSETS
without its DAG in dev/demo.py's INGESTIONS would leave the demo waiting for an activation run that never comes."""

from __future__ import annotations

from pathlib import Path

from dev.demo import INGESTIONS
from include.assets import INGESTED_ASSETS

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


def test_the_demo_runs_a_producer_of_every_asset_activation_waits_for() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER), safe_mode=False)
    produced = {
        outlet.name
        for dag_id in INGESTIONS
        for task in bag.dags[dag_id].tasks
        for outlet in task.outlets
        if hasattr(outlet, "name")
    }
    missing = {asset.name for asset in INGESTED_ASSETS} - produced
    assert not missing, f"dev/demo.py INGESTIONS runs no producer of {sorted(missing)}"
