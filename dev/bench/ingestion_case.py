"""One measured extract+load of a window, in its own process (so its peak RSS is its own).

``--mode pipeline`` runs the DAG's own task code (HttpHook client with retries and validation, S3Hook,
SnowflakeHook COPY); ``--mode baseline`` is the minimal loop a script would do: requests pages, gzip,
boto3 put_object, one COPY. Prints one JSON line: mode, records, seconds.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

PAGE = 1000
PART = 5000


def pipeline(start: datetime, end: datetime) -> int:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.cloud_app.client import WorkspaceEventsClient
    from include.cloud_app.extract import extract_interval
    from include.cloud_app.load import load_interval
    from include.connections import CLOUD_APP_API, LANDING_S3, SNOWFLAKE
    from include.settings import landing_bucket

    client = WorkspaceEventsClient.from_connection(CLOUD_APP_API, page_size=PAGE)
    result = extract_interval(client.pages(start, end), S3Hook(aws_conn_id=LANDING_S3), landing_bucket(), start, end)
    load_interval(SnowflakeHook(snowflake_conn_id=SNOWFLAKE), result, "bench")
    return result.extracted


def baseline(start: datetime, end: datetime) -> int:
    import os

    import boto3
    import requests
    import snowflake.connector

    s3_conn = json.loads(os.environ["AIRFLOW_CONN_AWS_LANDING"])
    api_conn = json.loads(os.environ["AIRFLOW_CONN_CLOUD_APP_API"])
    sf_conn = json.loads(os.environ["AIRFLOW_CONN_SNOWFLAKE_WAREHOUSE"])
    s3 = boto3.client(
        "s3", endpoint_url=s3_conn["extra"]["endpoint_url"], aws_access_key_id=s3_conn["login"],
        aws_secret_access_key=s3_conn["password"], region_name="us-east-1",
    )  # fmt: skip
    # A prefix of its own per run: COPY reads every file under it, so old parts must never be there.
    bucket, prefix = os.environ.get("LANDING_BUCKET", "landing"), f"bench_baseline/{uuid.uuid4().hex}/"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_conn['password']}"
    params = {"created_after": start.isoformat(), "created_before": end.isoformat(), "limit": PAGE}
    buffer, parts, count = [], 0, 0

    def flush() -> None:
        nonlocal buffer, parts
        data = io.BytesIO()
        with gzip.GzipFile(fileobj=data, mode="wb") as gz:
            gz.write("".join(json.dumps(r) + "\n" for r in buffer).encode())
        s3.put_object(Bucket=bucket, Key=f"{prefix}part-{parts:04d}.json.gz", Body=data.getvalue())
        buffer, parts = [], parts + 1

    while True:
        body = session.get(f"{api_conn['host']}/v1/workspaces", params=params, timeout=60).json()
        buffer += body["data"]
        count += len(body["data"])
        if len(buffer) >= PART:
            flush()
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    if buffer:
        flush()
    extra = sf_conn["extra"]
    with snowflake.connector.connect(
        account=extra["account"], user=sf_conn["login"], password=sf_conn["password"], host=extra["host"],
        port=extra["port"], database="RAW", network_timeout=600,
    ) as conn:  # fmt: skip
        # A fresh table per run, as the pipeline replaces its interval: both load into the same amount of data.
        conn.cursor().execute("CREATE OR REPLACE TABLE RAW.CLOUD_APP.BENCH_BASELINE (RECORD VARIANT)")
        conn.cursor().execute(
            f"COPY INTO RAW.CLOUD_APP.BENCH_BASELINE FROM @RAW.LANDING.LANDING_STAGE/{prefix} "
            "FILE_FORMAT = (FORMAT_NAME = 'RAW.LANDING.NDJSON_GZ')"
        )
        loaded = conn.cursor().execute("SELECT COUNT(*) FROM RAW.CLOUD_APP.BENCH_BASELINE").fetchone()
    if loaded is None or loaded[0] != count:
        raise RuntimeError(f"baseline loaded {loaded} rows for {count} records")
    return count


def peak_rss_kb() -> int:
    """This program's peak RSS since exec. psutil has no peak figure on Linux or macOS, so: Linux's VmHWM, not
    ru_maxrss, which there keeps the forking parent's size; elsewhere (macOS, no /proc) ru_maxrss, in bytes."""
    status = Path("/proc/self/status")
    if not status.exists():
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["pipeline", "baseline"], required=True)
    parser.add_argument("--start", type=datetime.fromisoformat, required=True)
    parser.add_argument("--end", type=datetime.fromisoformat, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    records = (pipeline if args.mode == "pipeline" else baseline)(args.start, args.end)
    seconds = time.perf_counter() - started
    print(json.dumps({"mode": args.mode, "records": records, "seconds": seconds, "peak_rss_kb": peak_rss_kb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
