"""
### Smoke test of the local cloud

Proves the local cloud's landing path end to end with a handful of synthetic events:
**write** gzip NDJSON to the landing bucket (S3Hook) → **COPY INTO** `<raw database>.SMOKE.EVENTS` from the stage
(SnowflakeHook) → **count** what the warehouse holds.

A platform check of the local cloud only: it lives in `dev/dags/` (the local cloud's Airflow reads it as a
second DAG bundle), so it is never in the deployment image, and it creates its own `SMOKE` schema and table,
which the pipeline's bootstrap does not. Each run writes under its own prefix, so a re-run of the same run
re-copies nothing (Snowflake's load history skips files it loaded before). Triggered by hand; no schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

from include.connections import LANDING_S3, SNOWFLAKE
from include.dag_defaults import default_args
from include.landing import safe_key

SMOKE_TABLE = "SMOKE.EVENTS"  # in the raw database of include/settings.py (SNOWFLAKE_RAW_DATABASE)
EVENTS_PER_RUN = 5


@dag(
    dag_id="smoke_local_cloud",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=15),
    default_args=default_args(retries=1, retry_delay=timedelta(seconds=5)),
    tags=["smoke", "platform"],
    doc_md=__doc__,
)
def smoke_local_cloud() -> None:
    @task
    def create_smoke_table() -> str:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include.settings import raw_table

        table = raw_table(SMOKE_TABLE)
        schema = table.rsplit(".", 1)[0]
        hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
        hook.run([f"CREATE SCHEMA IF NOT EXISTS {schema}", f"CREATE TABLE IF NOT EXISTS {table} (RECORD VARIANT)"])
        return table

    @task
    def write_events_to_s3() -> dict[str, str | int]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from include.landing import write_ndjson_gz
        from include.settings import landing_bucket

        run_id = get_current_context()["run_id"]
        prefix = f"smoke/events/{safe_key(run_id)}/"
        events = [{"run_id": run_id, "sequence": n, "kind": "smoke"} for n in range(EVENTS_PER_RUN)]
        count = write_ndjson_gz(S3Hook(aws_conn_id=LANDING_S3), landing_bucket(), f"{prefix}part-0000.json.gz", events)
        return {"prefix": prefix, "written": count}

    @task
    def copy_into_warehouse(written: dict[str, str | int]) -> dict[str, int]:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include.settings import raw_table
        from include.warehouse.loading import copy_into

        table = raw_table(SMOKE_TABLE)
        result = copy_into(SnowflakeHook(snowflake_conn_id=SNOWFLAKE), table, str(written["prefix"]))
        return {
            "files_loaded": len(result.by_status("LOADED")),
            "files_skipped": len(result.by_status("LOAD_SKIPPED")),
            "rows_loaded": result.rows_loaded,
        }

    @task
    def count_warehouse_rows(loaded: dict[str, int]) -> dict[str, int]:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include.settings import raw_table
        from include.warehouse.loading import count_rows

        table = raw_table(SMOKE_TABLE)
        total = count_rows(SnowflakeHook(snowflake_conn_id=SNOWFLAKE), table)
        print(f"smoke: loaded {loaded['rows_loaded']} rows this run; {table} holds {total}")
        return {**loaded, "table_rows": total}

    loaded = copy_into_warehouse(write_events_to_s3())
    create_smoke_table() >> loaded
    count_warehouse_rows(loaded)


smoke_local_cloud()
