"""Load history into the local warehouse without the scheduler: one cloud-app window and a Salesforce mirror.

For working on the dbt models: the same include/ functions the ingestion DAGs run, called directly with
the connections of ``.local/localcloud.env``. The DAGs remain the way data arrives in every other case.

    python -m dev.backfill --hours 24
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import UTC, datetime, timedelta

from dev.localcloud.env import read_env_file
from dev.localcloud.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=24, help="window of signups to load, ending now")
    args = parser.parse_args(argv)
    os.environ.update(read_env_file(load_settings().env_file))

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.cloud_app.client import WorkspaceEventsClient
    from include.cloud_app.extract import extract_interval
    from include.cloud_app.load import load_interval
    from include.connections import CLOUD_APP_API, LANDING_S3, SALESFORCE, SNOWFLAKE
    from include.salesforce import mirror
    from include.settings import landing_bucket

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=args.hours)
    s3, warehouse = S3Hook(aws_conn_id=LANDING_S3), SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    client = WorkspaceEventsClient.from_connection(CLOUD_APP_API)
    extracted = extract_interval(client.pages(start, end), s3, landing_bucket(), start, end)
    loaded = load_interval(warehouse, extracted, f"backfill__{uuid.uuid4().hex[:8]}")
    print(f"cloud app {start:%Y-%m-%d %H:%M}..{end:%H:%M}: {loaded.loaded} loaded, {extracted.quarantined} quarantined")
    salesforce = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()
    for obj in mirror.OBJECTS:
        result = mirror.mirror_object(salesforce, s3, warehouse, landing_bucket(), obj, start, datetime.now(UTC))
        print(f"salesforce {obj.name}: {result.loaded} versions")


if __name__ == "__main__":
    main()
