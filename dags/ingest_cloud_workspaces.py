"""
### Ingest new workspaces from the cloud app

Step 1 of the lead-to-Salesforce workflow, one **data interval** at a time (every 15 minutes by default,
`CLOUD_APP_INGEST_SCHEDULE` to change; backfill with `airflow backfill create`):

1. **extract_to_s3** pages through `GET /v1/workspaces` for the interval (HTTP connection `cloud_app_api`,
   retries honouring `Retry-After`), validates each record against the typed contract and writes gzip NDJSON
   to `s3://<landing>/cloud_app/workspaces/YYYY/MM/DD/HH/<interval>/`; records that break the contract go to
   `cloud_app/workspaces_quarantine/...` with their reason. Nothing is dropped silently.
2. **load_to_snowflake** replaces the interval in `<raw database>.CLOUD_APP.WORKSPACES` (and the quarantine table) with
   `COPY INTO` from exactly that prefix, writes a row to `<raw database>.CLOUD_APP.INGESTION_LOG` and fails loudly if
   extracted, valid, quarantined and loaded counts do not reconcile. On success it emits the
   `raw.cloud_app.workspaces` Asset, which schedules the activation DAG.

Re-running an interval overwrites the same objects and rows: no duplicates.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context

from include.assets import RAW_CLOUD_APP_WORKSPACES
from include.connections import CLOUD_APP_API, LANDING_S3, SNOWFLAKE
from include.dag_defaults import default_args
from include.lineage import lineage_task


@dag(
    dag_id="ingest_cloud_workspaces",
    # A data-interval timetable: each run owns [start, end), which keys its S3 prefix and raw rows.
    schedule=CronDataIntervalTimetable(os.environ.get("CLOUD_APP_INGEST_SCHEDULE", "*/15 * * * *"), timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=4,
    dagrun_timeout=timedelta(minutes=60),
    default_args=default_args(),
    tags=["ingestion", "cloud_app", "snowflake"],
    doc_md=__doc__,
)
def ingest_cloud_workspaces() -> None:
    @lineage_task
    def extract_to_s3() -> dict[str, Any]:
        from dataclasses import asdict

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from include import lineage
        from include.cloud_app.client import ENDPOINT, WorkspaceEventsClient
        from include.cloud_app.extract import QUARANTINE_PREFIX, RAW_PREFIX, extract_interval
        from include.settings import landing_bucket

        context = get_current_context()
        start, end = context["data_interval_start"], context["data_interval_end"]
        if start is None or end is None or end <= start:
            raise ValueError(f"run {context['run_id']} has no data interval to extract")
        client = WorkspaceEventsClient.from_connection(CLOUD_APP_API)
        result = extract_interval(
            client.pages(start, end), S3Hook(aws_conn_id=LANDING_S3), landing_bucket(), start, end
        )
        print(
            f"interval {result.interval_start} .. {result.interval_end}: extracted {result.extracted} in "
            f"{result.pages} pages ({client.retries} retries), valid {result.valid}, quarantined {result.quarantined}"
        )
        lineage.report(
            context["task"],
            inputs=[lineage.http_dataset(CLOUD_APP_API, f"/{ENDPOINT}")],
            outputs=[lineage.s3_dataset(landing_bucket(), prefix) for prefix in (RAW_PREFIX, QUARANTINE_PREFIX)],
        )
        return asdict(result)

    @lineage_task(outlets=[RAW_CLOUD_APP_WORKSPACES])
    def load_to_snowflake(extracted: dict[str, Any]) -> dict[str, Any]:
        from dataclasses import asdict

        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include import lineage
        from include.cloud_app.extract import QUARANTINE_PREFIX, RAW_PREFIX, ExtractionResult
        from include.cloud_app.load import load_interval, raw_tables
        from include.settings import landing_bucket

        context = get_current_context()
        result = ExtractionResult(**extracted)
        loaded = load_interval(SnowflakeHook(snowflake_conn_id=SNOWFLAKE), result, context["run_id"])
        namespace = lineage.snowflake_namespace()
        lineage.report(
            context["task"],
            inputs=[lineage.s3_dataset(landing_bucket(), prefix) for prefix in (RAW_PREFIX, QUARANTINE_PREFIX)],
            outputs=[lineage.warehouse_dataset(table, namespace) for table in raw_tables().values()],
        )
        print(f"loaded {loaded.loaded} rows, {loaded.quarantine_loaded} quarantined rows; counts reconcile")
        return {**extracted, **asdict(loaded)}

    load_to_snowflake(extract_to_s3())


ingest_cloud_workspaces()
