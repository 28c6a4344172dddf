from __future__ import annotations

import re

import pytest

from include.settings import WarehouseNames
from include.warehouse.bootstrap import render_bootstrap_sql

NAMES = WarehouseNames("RAW", "ANALYTICS", "LANDING", "LANDING_STAGE", "NDJSON_GZ")


def test_production_stage_uses_the_storage_integration() -> None:
    sql = render_bootstrap_sql("s3://acme-landing/", "S3_LANDING", NAMES)
    assert "URL = 's3://acme-landing/'\n    STORAGE_INTEGRATION = S3_LANDING" in sql
    assert "{{" not in sql


def test_local_stage_points_at_the_s3_directory_without_credentials() -> None:
    sql = render_bootstrap_sql("file:///tmp/cloud/s3/landing/", None, NAMES)
    assert "URL = 'file:///tmp/cloud/s3/landing/'\n    FILE_FORMAT = (FORMAT_NAME = 'RAW.LANDING.NDJSON_GZ')" in sql
    assert "STORAGE_INTEGRATION" not in sql


def test_every_statement_is_idempotent() -> None:
    statements = [s.strip() for s in render_bootstrap_sql("s3://b/", None, NAMES).split(";") if s.strip()]
    code = ["\n".join(x for x in s.splitlines() if not x.startswith("--")).strip() for s in statements]
    assert all(("IF NOT EXISTS" in s) or s.startswith("CREATE OR REPLACE STAGE") for s in code if s)
    assert any(s.startswith("CREATE TABLE") for s in code)


def test_the_bootstrap_creates_raw_tables_of_the_pipelines_sources_only() -> None:
    """The smoke DAG's SMOKE schema is the local cloud's (dev/dags creates it), never part of a deployment."""
    sql = render_bootstrap_sql("s3://b/", None, NAMES)
    schemas = set(re.findall(r"CREATE (?:TABLE|SCHEMA) IF NOT EXISTS RAW\.(\w+)", sql))
    assert schemas == {"LANDING", "CLOUD_APP", "SALESFORCE"}


@pytest.mark.parametrize(
    ("stage_url", "integration", "names", "message"),
    [
        ("s3://bucket", None, NAMES, "ending in '/'"),
        ("s3://bucket/'; DROP TABLE x; --/", None, NAMES, "stage URL"),
        ("http://bucket/", None, NAMES, "stage URL"),
        ("s3://bucket/", "INT; DROP", NAMES, "identifier"),
        ("s3://bucket/", None, WarehouseNames("RAW-DB", "A", "L", "S", "F"), "identifier"),
    ],
)
def test_unsafe_input_is_refused(stage_url, integration, names, message) -> None:
    with pytest.raises(ValueError, match=message):
        render_bootstrap_sql(stage_url, integration, names)
