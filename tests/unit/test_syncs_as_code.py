"""Syncs as code stay consistent: syncs.yaml, the dbt marts' contracts and exposures, and the activation DAG.

A column renamed in a mart, a sync added without its exposure, or a DAG task for a sync that is not
configured fails here, before anything reaches Hightouch or Salesforce. The lead conversion mart is held to the
same rules: its consumer is an Airflow task (convertLead() through the Salesforce API), not a Hightouch sync.
"""

from __future__ import annotations

import json

import pytest
import yaml

from include.hightouch.syncs import SYNCS_FILE, Sync, default_syncs
from include.salesforce import conversion
from include.transform.cosmos_config import MANIFEST_PATH
from tests.conftest import REPO_ROOT

SYNCS = default_syncs().syncs
DBT_PROJECT = REPO_ROOT / "dbt_project"
#: The Airflow task that reads the lead conversion mart, as its exposure names it (meta.airflow_task).
CONVERSION_TASK = "activate_salesforce.convert_salesforce_leads"


@pytest.fixture(scope="module")
def manifest() -> dict:
    assert MANIFEST_PATH.exists(), "run `make setup` to build the dbt manifest"
    return json.loads(MANIFEST_PATH.read_text())


def _model_node(manifest: dict, table: str) -> dict:
    """The dbt model that builds ``[database.]schema.table``."""
    schema, name = table.split(".")[-2:]
    nodes = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and (node["schema"].upper(), (node.get("alias") or node["name"]).upper()) == (schema, name)
    ]
    assert len(nodes) == 1, f"{table} is not exactly one dbt model"
    return nodes[0]


def _key_tests(manifest: dict, node: dict, column: str) -> set[str]:
    """The generic tests dbt runs on one column of a model."""
    return {
        test["test_metadata"]["name"]
        for test in manifest["nodes"].values()
        if test["resource_type"] == "test"
        and test.get("attached_node") == node["unique_id"]
        and (test.get("column_name") or "").lower() == column.lower()
        and test.get("test_metadata")
    }


@pytest.mark.parametrize("sync", SYNCS, ids=lambda s: s.slug)
def test_every_mapped_column_is_in_the_models_contract(manifest, sync: Sync) -> None:
    node = _model_node(manifest, sync.model)
    assert node["config"]["contract"]["enforced"], f"{node['name']}: contract not enforced"
    contract_columns = {name.upper() for name, column in node["columns"].items() if column.get("data_type")}
    assert sync.columns <= contract_columns, f"{sync.slug}: not in the contract: {sync.columns - contract_columns}"


@pytest.mark.parametrize("sync", SYNCS, ids=lambda s: s.slug)
def test_primary_key_is_tested_unique_and_not_null(manifest, sync: Sync) -> None:
    tests = _key_tests(manifest, _model_node(manifest, sync.model), sync.primary_key)
    assert {"unique", "not_null"} <= tests, f"{sync.slug}: {sync.primary_key} tests {tests}"


def test_the_conversion_task_reads_a_contracted_mart_keyed_by_lead(manifest) -> None:
    node = _model_node(manifest, conversion.MART)
    assert node["config"]["contract"]["enforced"], f"{node['name']}: contract not enforced"
    contract_columns = {name.upper() for name, column in node["columns"].items() if column.get("data_type")}
    assert set(conversion.MART_COLUMNS) <= contract_columns, set(conversion.MART_COLUMNS) - contract_columns
    tests = _key_tests(manifest, node, "lead_id")
    assert {"unique", "not_null", "relationships"} <= tests, f"lead_id tests {tests}"


def _consumer(exposure: dict) -> tuple[str, str]:
    """What reads the exposed mart: ("hightouch_sync_slug", slug) or ("airflow_task", "dag_id.task_id")."""
    meta = {**exposure.get("meta", {}), **exposure["config"]["meta"]}
    named = [(key, meta[key]) for key in ("hightouch_sync_slug", "airflow_task") if meta.get(key)]
    assert len(named) == 1, f"{exposure['name']}: names {named}, not exactly one Hightouch sync or Airflow task"
    return named[0]


def test_every_mart_consumer_has_an_exposure_and_every_exposure_a_consumer(manifest) -> None:
    """One exposure per Hightouch sync and one for the conversion task, each on exactly the model it reads."""
    exposed: dict[tuple[str, str], set[str]] = {}
    for exposure in manifest["exposures"].values():
        consumer = _consumer(exposure)
        assert consumer not in exposed, f"two exposures for {consumer}"
        exposed[consumer] = set(exposure["depends_on"]["nodes"])
    expected = {("hightouch_sync_slug", sync.slug): sync.model for sync in SYNCS}
    expected[("airflow_task", CONVERSION_TASK)] = conversion.MART
    assert set(exposed) == set(expected)
    for consumer, table in expected.items():
        assert exposed[consumer] == {_model_node(manifest, table)["unique_id"]}, consumer


def test_each_mart_is_described_once_in_its_docs_block(manifest) -> None:
    """What a synced mart holds is written once, in a dbt docs block named after the mart: its description and
    its exposure's both render that block, and syncs.yaml and the mart's SQL point at it instead of restating it."""
    project = manifest["metadata"]["project_name"]
    exposures = {_consumer(exposure): exposure for exposure in manifest["exposures"].values()}
    consumers = {("hightouch_sync_slug", sync.slug): sync.model for sync in SYNCS}
    consumers[("airflow_task", CONVERSION_TASK)] = conversion.MART
    for consumer, table in consumers.items():
        node = _model_node(manifest, table)
        block = manifest["docs"].get(f"doc.{project}.{node['name']}")
        assert block, f"{node['name']}: no docs block named after the mart (models/marts/_marts__docs.md)"
        text = block["block_contents"].strip()
        assert text, f"{node['name']}: empty docs block"
        assert node["description"].strip() == text, f"{node['name']}: its description is not its docs block"
        assert exposures[consumer]["description"].strip() == text, f"{consumer}: exposure not described by the block"
        sql = (DBT_PROJECT / node["original_file_path"]).read_text()
        first_sentence = text.split(". ")[0]
        assert first_sentence not in sql, f"{node['original_file_path']} restates its docs block"
    raw = yaml.safe_load(SYNCS_FILE.read_text())
    restated = [entry["slug"] for entry in raw["syncs"] if "description" in entry]
    assert not restated, f"syncs.yaml describes {restated}: the mart's docs block is the description"


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
            everything_before = by_slug[sync.slug].get_flat_relative_ids(upstream=True)
            dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("transform.")}
            assert dbt_tasks, "the DAG renders the dbt project"
            assert dbt_tasks <= everything_before, f"{sync.slug} must wait for every dbt model and test"

    dag_id, task_id = CONVERSION_TASK.split(".")
    assert dag.dag_id == dag_id
    convert = dag.task_dict[task_id]
    # Into the contact the contacts sync has just written; nothing else waits for it.
    assert convert.upstream_task_ids == {by_slug["salesforce-contacts"].task_id}
    assert convert.downstream_task_ids == set()


@pytest.mark.parametrize("sync", SYNCS, ids=lambda s: s.slug)
def test_a_sync_waits_for_every_sync_that_writes_what_it_references(sync: Sync) -> None:
    """A record referenced by external id must exist before the reference is written (Salesforce refuses an
    unknown foreign key), so the syncs that write the referenced object run first; nothing else orders them,
    which lets independent syncs run side by side."""
    referenced = {reference.object for reference in sync.parent_references}
    writers = {other.slug for other in SYNCS if other.destination_object in referenced and other is not sync}
    assert writers <= set(sync.depends_on), f"{sync.slug} references {sorted(referenced)}: wait for {writers}"
