"""Create (or bring up to date) the schemas, file format, stage and raw tables in the pipeline's databases.

Idempotent: safe to run on every start, the same command on the local cloud as in production::

    python -m include.warehouse.bootstrap --stage-url s3://my-landing-bucket/ --storage-integration S3_LANDING
"""

from __future__ import annotations

import argparse
import re
from importlib import resources

import jinja2

from include.connections import SNOWFLAKE
from include.settings import WarehouseNames, warehouse_names

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# Snowflake external stages read cloud storage (https://docs.snowflake.com/en/sql-reference/sql/create-stage).
_STAGE_URL = re.compile(r"^(s3|gcs|azure)://[^'\s]+/$")


def render_bootstrap_sql(
    stage_url: str, storage_integration: str | None = None, names: WarehouseNames | None = None
) -> str:
    """The bootstrap script with names and stage location filled in; raises ValueError on unsafe input."""
    names = names or warehouse_names()
    if not _STAGE_URL.match(stage_url):
        raise ValueError(f"stage URL must look like s3://bucket/prefix/ (ending in '/'), got {stage_url!r}")
    for value in (*vars(names).values(), storage_integration or "X"):
        if not _IDENTIFIER.match(value):
            raise ValueError(f"not a plain Snowflake identifier: {value!r}")
    source = resources.files("include.sql").joinpath("bootstrap_warehouse.sql").read_text()
    template = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False).from_string(source)  # noqa: S701 - SQL, not HTML
    return template.render(
        raw_database=names.raw_database,
        analytics_database=names.analytics_database,
        landing_schema=names.landing_schema,
        stage_fqn=names.stage_fqn,
        file_format_fqn=names.file_format_fqn,
        stage_url=stage_url,
        stage_credentials=f"\n    STORAGE_INTEGRATION = {storage_integration}" if storage_integration else "",
    )


def bootstrap(stage_url: str, storage_integration: str | None = None, conn_id: str = SNOWFLAKE) -> int:
    """Run the bootstrap through the Airflow Snowflake connection; return the number of statements."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    sql = render_bootstrap_sql(stage_url, storage_integration)
    hook = SnowflakeHook(snowflake_conn_id=conn_id)
    statements = [s for s in hook.split_sql_string(sql, strip_semicolon=True) if s.strip()]
    hook.run(statements)
    return len(statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bootstrap the warehouse objects the pipeline needs.")
    parser.add_argument("--stage-url", required=True, help="the stage's location, e.g. s3://my-landing-bucket/")
    parser.add_argument("--storage-integration", help="Snowflake storage integration for the S3 stage")
    parser.add_argument("--conn-id", default=SNOWFLAKE)
    args = parser.parse_args(argv)
    count = bootstrap(args.stage_url, args.storage_integration, args.conn_id)
    print(f"warehouse bootstrap: {count} statements applied")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
