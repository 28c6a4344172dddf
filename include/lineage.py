"""OpenLineage for the pipeline's own steps, so a lineage backend sees one graph from the cloud-app API to Salesforce.

Airflow's OpenLineage provider emits an event for every task; it knows the datasets of operators that describe
them (Cosmos's dbt operators do) but not what a Python task read or wrote. Each of our steps says so at run
time, when it knows (from its connections) where it read and wrote:

- ``lineage_task``: ``@task`` whose operator answers the provider's ``get_openlineage_facets_on_complete`` with
  what the task body reported through ``report(inputs, outputs)``;
- the Hightouch sync operator and the dbt build report the same way (``include/hightouch/operator.py``,
  ``include/transform/dbt_build.py``).

Dataset names follow the OpenLineage naming conventions where they exist, and are chosen to meet the names other
emitters use: a warehouse table is named as dbt's OpenLineage integration names it (``snowflake://<account>`` and
``database.schema.<source name | model alias>``, read from the dbt manifest), so the table a loader writes is the
dataset dbt reads. Where no convention exists (an HTTP API, a Salesforce object) the connection names the
namespace: ``https://<api host>`` with the endpoint path, ``salesforce://<connection id>`` with the object.

With no OpenLineage transport configured the provider emits nothing and none of this costs anything but a few
attribute writes. docs/deploy-to-astro.md says how to send the events to Astro Observe or any backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from openlineage.client.event_v2 import Dataset

from include.connections import SALESFORCE, SNOWFLAKE
from include.transform.paths import MANIFEST_PATH

# --- datasets ------------------------------------------------------------------------------------------------


def snowflake_namespace(conn_id: str = SNOWFLAKE) -> str:
    """``snowflake://<account>``, normalised as dbt's and the Snowflake provider's OpenLineage code do."""
    from airflow.sdk import BaseHook
    from openlineage.common.provider.snowflake import fix_account_name

    extra = BaseHook.get_connection(conn_id).extra_dejson
    return f"snowflake://{fix_account_name(str(extra.get('account', '')))}"


@cache
def _dbt_relation_names(manifest_path: Path = MANIFEST_PATH) -> dict[str, tuple[str, str]]:
    """``SCHEMA.TABLE`` (upper case) -> (schema, the table's name) as dbt's OpenLineage integration names them:
    a source by its source table name, a model or seed by its alias. Keyed without the database, which is
    deployment configuration (SNOWFLAKE_RAW_DATABASE...) and may differ from the manifest's."""
    manifest = json.loads(manifest_path.read_text())
    names: dict[str, tuple[str, str]] = {}
    for node in [*manifest.get("sources", {}).values(), *manifest.get("nodes", {}).values()]:
        if node.get("resource_type") not in {"source", "model", "seed", "snapshot"}:
            continue
        table = node.get("identifier") or node.get("alias") or node["name"]
        label = node["name"] if node["resource_type"] == "source" else (node.get("alias") or node["name"])
        names[f"{node['schema']}.{table}".upper()] = (node["schema"], label)
    return names


def warehouse_dataset(table: str, namespace: str) -> Dataset:
    """A warehouse table (``DATABASE.SCHEMA.TABLE``), named as dbt names it when dbt knows it."""
    database, _, schema_and_table = table.partition(".")
    known = _dbt_relation_names().get(schema_and_table.upper())
    return Dataset(namespace=namespace, name=f"{database}.{known[0]}.{known[1]}" if known else table)


def s3_dataset(bucket: str, prefix: str) -> Dataset:
    return Dataset(namespace=f"s3://{bucket}", name=prefix.strip("/") or "/")


def http_dataset(conn_id: str, path: str) -> Dataset:
    """An HTTP API endpoint: the connection's scheme and host, and the path."""
    from urllib.parse import urlsplit

    from airflow.sdk import BaseHook

    host = BaseHook.get_connection(conn_id).host or conn_id
    parts = urlsplit(host if "://" in host else f"https://{host}")
    return Dataset(namespace=f"{parts.scheme}://{parts.netloc}", name=path)


def salesforce_dataset(sobject: str, conn_id: str = SALESFORCE) -> Dataset:
    return Dataset(namespace=f"salesforce://{conn_id}", name=sobject)


# --- reporting -------------------------------------------------------------------------------------------------

_INPUTS, _OUTPUTS = "_openlineage_inputs", "_openlineage_outputs"


def report(task: Any, inputs: Iterable[Dataset] = (), outputs: Iterable[Dataset] = ()) -> None:
    """Record what this try of ``task`` read and wrote, for the OpenLineage event that ends it."""
    setattr(task, _INPUTS, [*getattr(task, _INPUTS, []), *inputs])
    setattr(task, _OUTPUTS, [*getattr(task, _OUTPUTS, []), *outputs])


def reported(task: Any) -> Any:
    """The provider's ``OperatorLineage`` of what ``task`` reported (empty when nothing was)."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=list(getattr(task, _INPUTS, [])), outputs=list(getattr(task, _OUTPUTS, [])))


class ReportsLineage:
    """Mixin: the OpenLineage provider asks the operator for its lineage when the task ends."""

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return reported(self)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return reported(self)


@cache
def _decorated_operator_class() -> type:
    from airflow.providers.standard.decorators.python import _PythonDecoratedOperator

    class LineagePythonDecoratedOperator(ReportsLineage, _PythonDecoratedOperator):
        custom_operator_name = "@task"

    return LineagePythonDecoratedOperator


def lineage_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """``@task``, with the lineage the task body reports (``report(get_current_context()["task"], ...)``)."""
    from airflow.sdk.bases.decorator import task_decorator_factory

    return task_decorator_factory(
        python_callable=python_callable, decorated_operator_class=_decorated_operator_class(), **kwargs
    )


# --- dbt: one event per node task --------------------------------------------------------------------------------


def relation_unique_ids(manifest_path: Path = MANIFEST_PATH) -> dict[str, str]:
    """``schema.alias`` of a model's or seed's relation (as dbt's OpenLineage integration names it, without the
    database, which is deployment configuration) -> its unique_id."""
    manifest = json.loads(manifest_path.read_text())
    return {
        f"{node['schema']}.{node.get('alias') or node['name']}": uid
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in {"model", "seed", "snapshot"}
    }


def emit_dbt_node_lineage(context: Any, node_events: Iterable[Any], node_task_ids: dict[str, str]) -> int:
    """Emit, for each node task of the build, a COMPLETE event with its model's inputs and output.

    ``node_events`` are the per-node events dbt's OpenLineage integration derives from the build's artifacts (Cosmos
    computes them for the build task); each is re-labelled as the Airflow task that shows that node, with the run
    id the provider gives that task instance and the DAG run as parent, so a backend shows lineage on the task a
    person looks at. Returns how many were emitted (none when OpenLineage is disabled).
    """
    from airflow.providers.openlineage import conf
    from airflow.providers.openlineage.plugins.listener import get_openlineage_listener
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import parent_run

    if conf.is_disabled():
        return 0
    listener = get_openlineage_listener()
    adapter = listener.adapter
    dag_run, ti = context["dag_run"], context["ti"]
    logical_date = dag_run.logical_date or dag_run.run_after
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=adapter.build_dag_run_id(ti.dag_id, logical_date, dag_run.clear_number)),
        job=parent_run.Job(namespace=conf.namespace(), name=ti.dag_id),
    )
    by_relation = relation_unique_ids()
    emitted = 0
    for event in node_events:
        relations = [o.name.split(".", 1)[-1] for o in event.outputs]
        uid = next((by_relation[name] for name in relations if name in by_relation), None)
        task_id = node_task_ids.get(uid or "")
        if task_id is None:
            continue
        run_id = adapter.build_task_instance_run_id(ti.dag_id, task_id, 1, logical_date, -1)
        adapter.emit(
            RunEvent(
                eventType=RunState.COMPLETE if event.eventType == RunState.COMPLETE else event.eventType,
                eventTime=event.eventTime,
                run=Run(runId=run_id, facets={**event.run.facets, "parent": parent}),
                job=Job(namespace=conf.namespace(), name=f"{ti.dag_id}.{task_id}", facets=event.job.facets),
                inputs=event.inputs,
                outputs=event.outputs,
                producer=event.producer,
            )
        )
        emitted += 1
    return emitted
