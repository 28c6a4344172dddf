from __future__ import annotations

import re

import pytest

from include.settings import WarehouseNames
from include.warehouse.bootstrap import render_bootstrap_sql
from tests.conftest import REPO_ROOT

NAMES = WarehouseNames("RAW", "ANALYTICS", "LANDING", "LANDING_STAGE", "NDJSON_GZ")


def test_production_stage_uses_the_storage_integration() -> None:
    sql = render_bootstrap_sql("s3://acme-landing/", "S3_LANDING", NAMES)
    assert "URL = 's3://acme-landing/'\n    STORAGE_INTEGRATION = S3_LANDING" in sql
    assert "{{" not in sql


def test_a_stage_on_local_files_is_refused() -> None:
    """Snowflake's external stages read cloud storage; the local cloud's stage is s3:// like production's."""
    with pytest.raises(ValueError, match="stage URL must look like s3://"):
        render_bootstrap_sql("file:///tmp/cloud/s3/landing/", None, NAMES)


def test_every_statement_is_idempotent() -> None:
    statements = [s.strip() for s in render_bootstrap_sql("s3://b/", None, NAMES).split(";") if s.strip()]
    code = ["\n".join(x for x in s.splitlines() if not x.startswith("--")).strip() for s in statements]
    assert all(("IF NOT EXISTS" in s) or s.startswith("CREATE OR REPLACE STAGE") for s in code if s)
    assert any(s.startswith("CREATE TABLE") for s in code)


# What needs an account-level privilege (CREATE DATABASE, CREATE ROLE, CREATE WAREHOUSE, CREATE INTEGRATION,
# MANAGE GRANTS) that the pipeline's least-privilege role does not hold: an administrator's, once
# (include/sql/production_setup.sql). Snowflake's access control requirements for these statements make no
# exception for IF NOT EXISTS on an object that exists.
ACCOUNT_LEVEL = re.compile(
    r"^\s*(CREATE\s+(OR\s+REPLACE\s+)?(DATABASE|ROLE|WAREHOUSE|(STORAGE\s+)?INTEGRATION|USER)\b|GRANT\b|USE\s+ROLE\b)",
    re.IGNORECASE,
)


def test_the_bootstrap_runs_only_what_the_pipelines_own_role_may_run() -> None:
    sql = render_bootstrap_sql("s3://acme-landing/", "S3_LANDING", NAMES)
    code = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    statements = [s for s in code.split(";") if s.strip()]
    account_level = [s.strip().splitlines()[0] for s in statements if ACCOUNT_LEVEL.match(s)]
    assert not account_level, f"an administrator's statements in the pipeline's bootstrap: {account_level}"


def test_the_administrator_creates_the_databases_the_bootstrap_fills() -> None:
    from pathlib import Path

    setup = (Path(__file__).resolve().parents[2] / "include" / "sql" / "production_setup.sql").read_text()
    for database in (NAMES.raw_database, NAMES.analytics_database):
        assert f"CREATE DATABASE IF NOT EXISTS {database} " in setup
        assert f"GRANT OWNERSHIP ON DATABASE {database} TO ROLE TRANSFORMER" in setup


def test_the_bootstrap_creates_raw_tables_of_the_pipelines_sources_only() -> None:
    """The landing schema and the schemas of the dbt project's raw sources: the smoke DAG's SMOKE schema is the
    local cloud's (dev/dags creates it), never part of a deployment."""
    import yaml

    sql = render_bootstrap_sql("s3://b/", None, NAMES)
    schemas = set(re.findall(r"CREATE (?:TABLE|SCHEMA) IF NOT EXISTS RAW\.(\w+)", sql))
    sources = {
        source["schema"]
        for path in (REPO_ROOT / "dbt_project" / "models").rglob("_*__sources.yml")
        for source in yaml.safe_load(path.read_text())["sources"]
    }
    assert schemas == {NAMES.landing_schema, *sources}


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
