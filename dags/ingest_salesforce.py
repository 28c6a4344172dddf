"""
### Mirror Salesforce into the warehouse

Step 2 of the lead-to-Salesforce workflow, every 15 minutes (`SALESFORCE_MIRROR_SCHEDULE` to change):
for each of **User, Account, Lead, Contact, Opportunity, Task**, one mapped task reads the records modified
since the object's high-water mark (newest `SystemModstamp` already in the warehouse, minus a 5-minute
overlap) up to the end of the data interval, or now if that is later, through `SalesforceHook` (connection
`salesforce_crm`, SOQL with `queryMore`; through `queryAll` for every object but User, so records deleted or
merged away arrive with `IsDeleted = true` and `MasterRecordId`), lands them in S3 as gzip NDJSON under
`salesforce/<object>/YYYY/MM/DD/HH/<interval>/` and `COPY INTO`s `<raw database>.SALESFORCE.<OBJECTS>` from exactly that
prefix.

Re-running an interval replaces its rows. Salesforce keeps only current versions, so a re-run reads records
up to now: a record modified since the first run is loaded as it is now instead of being dropped. The
overlap's duplicates (same Id and `SystemModstamp`) are expected: dbt staging keeps the latest version per Id.
**LeadStatus** (which Lead Status values convert a lead) has no `IsDeleted` and a removed value leaves no trace,
so it is read whole on every run and replaces `<raw database>.SALESFORCE.LEAD_STATUSES`.
On success the `raw.salesforce` Asset is emitted.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context

from include.assets import RAW_SALESFORCE
from include.connections import LANDING_S3, SALESFORCE, SNOWFLAKE
from include.dag_defaults import default_args
from include.lineage import lineage_task
from include.salesforce.mirror import OBJECTS


@dag(
    dag_id="ingest_salesforce",
    schedule=CronDataIntervalTimetable(os.environ.get("SALESFORCE_MIRROR_SCHEDULE", "*/15 * * * *"), timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,  # each run starts from the previous run's high-water mark
    dagrun_timeout=timedelta(minutes=60),
    default_args=default_args(),
    tags=["ingestion", "salesforce", "snowflake"],
    doc_md=__doc__,
)
def ingest_salesforce() -> None:
    @lineage_task(map_index_template="{{ sobject }}")
    def mirror_object(object_name: str) -> dict[str, Any]:
        from dataclasses import asdict

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include import lineage
        from include.salesforce import mirror
        from include.settings import landing_bucket

        context = get_current_context()
        context["sobject"] = object_name  # names each mapped task instance in the UI
        result = mirror.mirror_object(
            SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn(),
            S3Hook(aws_conn_id=LANDING_S3),
            SnowflakeHook(snowflake_conn_id=SNOWFLAKE),
            landing_bucket(),
            mirror.by_name(object_name),
            context["data_interval_start"],
            context["data_interval_end"],
        )
        print(f"{object_name}: {result.extracted} records modified since {result.since} loaded into the warehouse")
        mirrored = mirror.by_name(object_name)
        lineage.report(
            context["task"],
            inputs=[lineage.salesforce_dataset(object_name)],
            outputs=[
                lineage.s3_dataset(landing_bucket(), mirrored.prefix_root),
                lineage.warehouse_dataset(mirrored.table, lineage.snowflake_namespace()),
            ],
        )
        return asdict(result)

    @lineage_task(outlets=[RAW_SALESFORCE])
    def mirror_complete(results: list[dict[str, Any]]) -> dict[str, int]:
        from include import lineage

        # The raw.salesforce Asset this task publishes stands for the mirrored tables: say which, for lineage.
        namespace = lineage.snowflake_namespace()
        tables = [lineage.warehouse_dataset(obj.table, namespace) for obj in OBJECTS]
        lineage.report(get_current_context()["task"], inputs=tables)
        return {r["object"]: r["loaded"] for r in results}

    mirror_complete(mirror_object.expand(object_name=[obj.name for obj in OBJECTS]))


ingest_salesforce()
