"""
### Reconcile deletions Salesforce's recycle bin no longer shows

Daily (`SALESFORCE_RECONCILE_SCHEDULE`, default 05:00 UTC). The mirror (`ingest_salesforce`) sees a deletion only
while the record sits in Salesforce's recycle bin, which keeps it 15 days at most, is purged early when full, and
is skipped altogether by a hard delete or an emptied bin. This DAG compares, for **Account, Lead, Contact,
Opportunity and Task**, every Id the warehouse holds as live with the Ids Salesforce still has (`queryAll`,
`IsDeleted = false`, through `salesforce_crm`), and lands a tombstone (the record's last mirrored version with
`IsDeleted = true`) for each one Salesforce no longer has, in `<raw database>.SALESFORCE.RECONCILED_DELETIONS`
(S3 prefix `salesforce/reconciled_deletions/...`, `COPY INTO`). dbt staging reads the tombstones with each
object's versions, so such a record is deleted from then on, like any deletion by sales
(`include/salesforce/reconciliation.py`). Re-running a day replaces its tombstones. On success the
`raw.salesforce` Asset is emitted: the next activation acts on what changed.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task

from include.assets import RAW_SALESFORCE
from include.connections import LANDING_S3, SALESFORCE, SNOWFLAKE
from include.dag_defaults import default_args


@dag(
    dag_id="reconcile_salesforce_deletions",
    schedule=CronDataIntervalTimetable(os.environ.get("SALESFORCE_RECONCILE_SCHEDULE", "0 5 * * *"), timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args=default_args(execution_timeout=timedelta(hours=1)),
    tags=["ingestion", "salesforce", "snowflake"],
    doc_md=__doc__,
)
def reconcile_salesforce_deletions() -> None:
    @task(outlets=[RAW_SALESFORCE])
    def reconcile_ids() -> dict[str, Any]:
        """Tombstones for the records Salesforce no longer has; returns how many per object."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include.salesforce.reconciliation import reconcile
        from include.settings import landing_bucket

        context = get_current_context()
        result = reconcile(
            SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn(),
            S3Hook(aws_conn_id=LANDING_S3),
            SnowflakeHook(snowflake_conn_id=SNOWFLAKE),
            landing_bucket(),
            context["data_interval_start"],
            context["data_interval_end"],
        )
        for object_name, count in result.missing.items():
            print(f"{object_name}: {count} records live in the warehouse that Salesforce no longer has")
        return {"missing": result.missing, "loaded": result.loaded, "prefix": result.prefix}

    reconcile_ids()


reconcile_salesforce_deletions()
