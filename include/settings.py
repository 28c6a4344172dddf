"""Deployment settings that are not secrets: names of the bucket, databases, schemas and raw tables.

Read from environment variables with the defaults below, so a fork renames them in one place
(``.env`` / Astro environment variables) without touching code. Read at call time, never at import time:
every raw table name the loaders use comes from ``raw_table`` (so from ``SNOWFLAKE_RAW_DATABASE``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class WarehouseNames:
    raw_database: str
    analytics_database: str
    landing_schema: str
    stage: str
    file_format: str

    @property
    def stage_fqn(self) -> str:
        return f"{self.raw_database}.{self.landing_schema}.{self.stage}"

    @property
    def file_format_fqn(self) -> str:
        return f"{self.raw_database}.{self.landing_schema}.{self.file_format}"

    def raw_table(self, schema_and_table: str) -> str:
        """``"CLOUD_APP.WORKSPACES"`` -> ``"<raw database>.CLOUD_APP.WORKSPACES"``."""
        return f"{self.raw_database}.{schema_and_table}"


def landing_bucket() -> str:
    return os.environ.get("LANDING_BUCKET", "landing")


def warehouse_names() -> WarehouseNames:
    return WarehouseNames(
        raw_database=os.environ.get("SNOWFLAKE_RAW_DATABASE", "RAW"),
        analytics_database=os.environ.get("SNOWFLAKE_ANALYTICS_DATABASE", "ANALYTICS"),
        landing_schema=os.environ.get("SNOWFLAKE_LANDING_SCHEMA", "LANDING"),
        stage=os.environ.get("SNOWFLAKE_LANDING_STAGE", "LANDING_STAGE"),
        file_format=os.environ.get("SNOWFLAKE_LANDING_FILE_FORMAT", "NDJSON_GZ"),
    )


def raw_table(schema_and_table: str) -> str:
    """A raw table's full name in the configured raw database, e.g. ``raw_table("SALESFORCE.LEADS")``."""
    return warehouse_names().raw_table(schema_and_table)
