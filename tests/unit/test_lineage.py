"""OpenLineage datasets as the pipeline names them, and what a step reports reaching the provider."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from openlineage.client.event_v2 import Dataset, Job, Run, RunEvent, RunState

from include import lineage
from include.hightouch.syncs import default_syncs

NS = "snowflake://acme-prod"
RUN_IDS = [f"0190a6f4-0000-7000-8000-00000000000{n}" for n in range(4)]


def test_a_raw_table_is_named_as_dbt_names_its_source_whatever_the_database() -> None:
    """dbt's integration names a source by its source table name; the loader must write that same dataset."""
    assert lineage.warehouse_dataset("RAW_FORK.CLOUD_APP.WORKSPACES", NS) == Dataset(
        NS, "RAW_FORK.CLOUD_APP.workspaces"
    )


def test_every_mart_a_sync_reads_is_named_as_dbt_names_the_model() -> None:
    for sync in default_syncs().syncs:
        database, _, table = sync.model.split(".")
        name = lineage.warehouse_dataset(sync.model, NS).name
        assert name.split(".")[0] == database
        assert name.split(".")[-1] == table.lower(), sync.slug  # the model's alias, as dbt writes it


def test_a_table_dbt_does_not_know_keeps_its_name() -> None:
    assert lineage.warehouse_dataset("RAW.ELSEWHERE.THING", NS).name == "RAW.ELSEWHERE.THING"


def test_api_salesforce_and_s3_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_API_TEST", '{"conn_type": "http", "host": "https://api.acme.example"}')
    assert lineage.http_dataset("api_test", "/v1/workspaces") == Dataset("https://api.acme.example", "/v1/workspaces")
    assert lineage.salesforce_dataset("Account") == Dataset("salesforce://salesforce_crm", "Account")
    assert lineage.s3_dataset("landing", "cloud_app/workspaces/") == Dataset("s3://landing", "cloud_app/workspaces")


def test_a_lineage_task_answers_the_provider_with_what_its_body_reported() -> None:
    from airflow.sdk import DAG

    with DAG("lineage_test", schedule=None, start_date=datetime(2026, 1, 1)):

        @lineage.lineage_task
        def step() -> None:
            pass

        operator = step().operator
    assert operator.get_openlineage_facets_on_complete(None).inputs == []
    lineage.report(operator, inputs=[Dataset("a", "in")], outputs=[Dataset("b", "out")])
    facets = operator.get_openlineage_facets_on_complete(None)
    assert (facets.inputs, facets.outputs) == ([Dataset("a", "in")], [Dataset("b", "out")])


def test_the_build_emits_one_event_per_node_task(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.openlineage import conf
    from airflow.providers.openlineage.plugins import listener

    emitted: list[RunEvent] = []
    adapter = SimpleNamespace(
        emit=emitted.append,
        build_dag_run_id=lambda dag_id, logical_date, clear_number: RUN_IDS[2],
        build_task_instance_run_id=lambda dag_id, task_id, try_number, logical_date, map_index: RUN_IDS[3],
    )
    monkeypatch.setattr(conf, "is_disabled", lambda: False)
    monkeypatch.setattr(listener, "get_openlineage_listener", lambda: SimpleNamespace(adapter=adapter))
    mart = next(uid for uid in lineage.relation_unique_ids().values() if uid.endswith(".sync_salesforce_accounts"))
    relation = next(name for name, uid in lineage.relation_unique_ids().items() if uid == mart)
    node_event = RunEvent(
        eventType=RunState.COMPLETE, eventTime="2026-12-07T10:00:00Z", run=Run(runId=RUN_IDS[0]),
        job=Job(namespace="dbt", name="x.build.run"), inputs=[Dataset(NS, "ANALYTICS.INTERMEDIATE.int_x")],
        outputs=[Dataset(NS, f"ANALYTICS.{relation}")], producer="dbt",
    )  # fmt: skip
    unrelated = RunEvent(eventType=RunState.COMPLETE, eventTime="2026-12-07T10:00:00Z", run=Run(runId=RUN_IDS[1]),
                         job=Job(namespace="dbt", name="y"), outputs=[Dataset(NS, "X.Y.z")],
                         producer="dbt")  # fmt: skip
    context: dict[str, Any] = {
        "dag_run": SimpleNamespace(logical_date=None, run_after=datetime(2026, 12, 7, tzinfo=UTC), clear_number=0),
        "ti": SimpleNamespace(dag_id="activate_salesforce"),
    }
    task_id = "transform.sync_salesforce_accounts_model_build"
    assert lineage.emit_dbt_node_lineage(context, [node_event, unrelated], {mart: task_id}) == 1
    [event] = emitted
    assert event.job.name == f"activate_salesforce.{task_id}"
    assert event.run.runId == RUN_IDS[3]
    assert event.run.facets["parent"].run.runId == RUN_IDS[2]
    assert (event.inputs, event.outputs) == (node_event.inputs, node_event.outputs)
