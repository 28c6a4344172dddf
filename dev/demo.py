"""``make demo``: run the pipeline on the local cloud through the real Airflow scheduler and say what it did.

Until the full pipeline lands this runs the smoke DAG: events to S3, COPY INTO Snowflake, count.
"""

from __future__ import annotations

import sys
import time

from dev.localcloud.airflow_api import AirflowApi
from dev.localcloud.settings import load_settings

DAG_ID = "smoke_local_cloud"


def main() -> int:
    settings = load_settings()
    started = time.monotonic()
    api = AirflowApi(f"http://127.0.0.1:{settings.airflow_port}")
    print(f"[demo] waiting for Airflow to parse {DAG_ID} ...", flush=True)
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    run_id = api.trigger(DAG_ID)
    print(f"[demo] triggered {DAG_ID} run {run_id}; the scheduler is running it ...", flush=True)
    state = api.wait_for_run(DAG_ID, run_id)
    tasks = api.task_states(DAG_ID, run_id)
    print(f"[demo] run {state} in {time.monotonic() - started:.1f}s; tasks: {tasks}")
    if state != "success":
        print(f"[demo] FAILED: see the task logs at http://localhost:{settings.airflow_port}/dags/{DAG_ID}")
        return 1
    written = api.xcom(DAG_ID, run_id, "write_events_to_s3")
    summary = api.xcom(DAG_ID, run_id, "count_warehouse_rows")
    print(
        "[demo] what it did:\n"
        f"  S3       wrote {written['written']} events to s3://{settings.bucket}/{written['prefix']}part-0000.json.gz\n"
        f"  COPY     {summary['files_loaded']} file(s) loaded, {summary['files_skipped']} skipped, "
        f"{summary['rows_loaded']} rows into RAW.SMOKE.EVENTS\n"
        f"  COUNT    RAW.SMOKE.EVENTS now holds {summary['table_rows']} rows\n"
        "[demo] where to look:\n"
        f"  Airflow UI   http://localhost:{settings.airflow_port}/dags/{DAG_ID}\n"
        f"  S3 files     {settings.bucket_dir}/smoke/events/\n"
        "  Warehouse    make sql Q='SELECT COUNT(*) FROM RAW.SMOKE.EVENTS'"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
