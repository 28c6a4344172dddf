"""The benchmark's generated DAG files (dev/bench/modes.py) parse, and its WATCHER variant is the shipped switch."""

from __future__ import annotations

from pathlib import Path

from dev.bench.modes import VARIANTS, variant_files


def test_the_cosmos_variants_parse_with_the_shipped_dags(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    for name, text in variant_files().items():
        (tmp_path / name).write_text(text)
    bag = DagBag(dag_folder=str(tmp_path), safe_mode=False)
    assert bag.import_errors == {}
    assert {VARIANTS["cosmos_local"], VARIANTS["cosmos_watcher"]} <= set(bag.dags)
    watcher = bag.dags[VARIANTS["cosmos_watcher"]]
    assert watcher.get_task("transform.dbt_producer_watcher").retries == 0
    local = bag.dags[VARIANTS["cosmos_local"]]
    assert not any(t.task_id.endswith("_watcher") for t in local.tasks)
