"""Load a window of cloud-app signups (in intervals of ``--chunk-hours``) and optionally a Salesforce mirror.

The same include/ functions the ingestion DAGs run (as dev/backfill.py does), with explicit windows so a
benchmark controls how much lands and in which intervals. Run with a bench cloud's environment.
Prints one JSON line: {"loaded": n, "quarantined": n, "intervals": n}.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=datetime.fromisoformat, required=True)
    parser.add_argument("--end", type=datetime.fromisoformat, required=True)
    parser.add_argument("--chunk-hours", type=float, default=24)
    parser.add_argument("--mirror", action="store_true", help="also mirror the six Salesforce objects")
    args = parser.parse_args()

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.cloud_app.client import WorkspaceEventsClient
    from include.cloud_app.extract import extract_interval
    from include.cloud_app.load import load_interval
    from include.connections import CLOUD_APP_API, LANDING_S3, SALESFORCE, SNOWFLAKE
    from include.settings import landing_bucket

    s3, warehouse = S3Hook(aws_conn_id=LANDING_S3), SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    client = WorkspaceEventsClient.from_connection(CLOUD_APP_API, page_size=1000)
    loaded = quarantined = intervals = 0
    start = args.start
    while start < args.end:
        end = min(start + timedelta(hours=args.chunk_hours), args.end)
        extracted = extract_interval(client.pages(start, end), s3, landing_bucket(), start, end)
        loaded += load_interval(warehouse, extracted, f"bench__{uuid.uuid4().hex[:8]}").loaded
        quarantined += sum(extracted.quarantined.values())
        intervals += 1
        start = end
    if args.mirror:
        from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

        from include.salesforce import mirror

        salesforce = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()
        for obj in mirror.OBJECTS:
            mirror.mirror_object(salesforce, s3, warehouse, landing_bucket(), obj, args.start, datetime.now(UTC))
    print(json.dumps({"loaded": loaded, "quarantined": quarantined, "intervals": intervals}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
