"""Syncs as code stay consistent: syncs.yaml, the dbt marts' contracts and exposures, and the activation DAG.

A column renamed in a mart, a sync added without its exposure, or a DAG task for a sync that is not
configured fails here, before anything reaches Hightouch or Salesforce.
"""

from __future__ import annotations

import json

import pytest

from include.hightouch.syncs import Sync, default_syncs
from include.transform.cosmos_config import MANIFEST_PATH

SYNCS = default_syncs().syncs


@pytest.fixture(scope="module")
def manifest() -> dict:
    assert MANIFEST_PATH.exists(), "run `make setup` to build the dbt manifest"
    return json.loads(MANIFEST_PATH.read_text())


def _model_node(manifest: dict, sync: Sync) -> dict:
    _database, schema, table = sync.model.split(".")
    nodes = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and (node["schema"].upper(), (node.get("alias") or node["name"]).upper()) == (schema, table)
    ]
    assert len(nodes) == 1, f"{sync.slug}: {sync.model} is not exactly one dbt model"
    return nodes[0]


@pytest.mark.parametrize("sync", SYNCS, ids=lambda s: s.slug)
def test_every_mapped_column_is_in_the_models_contract(manifest, sync: Sync) -> None:
    node = _model_node(manifest, sync)
    assert node["config"]["contract"]["enforced"], f"{node['name']}: contract not enforced"
    contract_columns = {name.upper() for name, column in node["columns"].items() if column.get("data_type")}
    assert sync.columns <= contract_columns, f"{sync.slug}: not in the contract: {sync.columns - contract_columns}"


@pytest.mark.parametrize("sync", SYNCS, ids=lambda s: s.slug)
def test_primary_key_is_tested_unique_and_not_null(manifest, sync: Sync) -> None:
    node = _model_node(manifest, sync)
    key = sync.primary_key.lower()
    tests = {
        test["test_metadata"]["name"]
        for test in manifest["nodes"].values()
        if test["resource_type"] == "test"
        and test.get("attached_node") == node["unique_id"]
        and (test.get("column_name") or "").lower() == key
        and test.get("test_metadata")
    }
    assert {"unique", "not_null"} <= tests, f"{sync.slug}: {sync.primary_key} tests {tests}"


def test_every_sync_has_an_exposure_and_every_exposure_a_sync(manifest) -> None:
    exposed = {}
    for exposure in manifest["exposures"].values():
        slug = exposure["config"]["meta"].get("hightouch_sync_slug") or exposure.get("meta", {}).get(
            "hightouch_sync_slug"
        )
        exposed[slug] = set(exposure["depends_on"]["nodes"])
    assert set(exposed) == {s.slug for s in SYNCS}
    for sync in SYNCS:
        assert exposed[sync.slug] == {_model_node(manifest, sync)["unique_id"]}, sync.slug


def test_the_dag_triggers_exactly_the_configured_syncs_in_dependency_order() -> None:
    from airflow.dag_processing.dagbag import DagBag

    from include.hightouch.operator import HightouchSyncOperator

    bag = DagBag(dag_folder="dags/activate_salesforce.py", safe_mode=False)
    assert bag.import_errors == {}
    dag = bag.dags["activate_salesforce"]
    triggered = {t.task_id: t for t in dag.tasks if isinstance(t, HightouchSyncOperator)}
    by_slug = {t.sync_slug: t for t in triggered.values()}
    assert set(by_slug) == {s.slug for s in SYNCS}, "DAG tasks and syncs.yaml differ"
    for sync in SYNCS:
        upstream_slugs = {
            triggered[task_id].sync_slug for task_id in by_slug[sync.slug].upstream_task_ids if task_id in triggered
        }
        assert upstream_slugs == set(sync.depends_on), sync.slug
        if not sync.depends_on:
            assert any(t.startswith("transform.") for t in by_slug[sync.slug].upstream_task_ids), (
                f"{sync.slug} must wait for every dbt model and test"
            )


@pytest.mark.parametrize("sync", SYNCS, ids=lambda s: s.slug)
def test_a_sync_waits_for_every_sync_that_writes_what_it_references(sync: Sync) -> None:
    """A record referenced by external id must exist before the reference is written (Salesforce refuses an
    unknown foreign key), so the syncs that write the referenced object run first; nothing else orders them,
    which lets independent syncs run side by side."""
    referenced = {reference.object for reference in sync.parent_references}
    writers = {other.slug for other in SYNCS if other.destination_object in referenced and other is not sync}
    assert writers <= set(sync.depends_on), f"{sync.slug} references {sorted(referenced)}: wait for {writers}"
