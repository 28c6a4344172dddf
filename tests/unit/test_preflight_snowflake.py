"""Snowflake preflight checks over SHOW / DESC results, through a scripted session (no warehouse).

Result columns are those the Snowflake reference documents: SHOW STAGES (``url``, ``storage_integration``,
``has_credentials``), SHOW FILE FORMATS (``type``, ``format_options``), DESC INTEGRATION (``property``,
``property_value``), SHOW GRANTS (``privilege``, ``granted_on``, ``granted_to``, ``grantee_name``) and SHOW FUTURE
GRANTS (``privilege``, ``grant_on``, ``grant_to``, ``grantee_name``); https://docs.snowflake.com/en/sql-reference/sql/show-grants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from include.preflight.checks import Status
from include.preflight.snowflake import (
    Stage,
    Target,
    allowed,
    bootstrap_objects,
    check_file_format,
    check_integration,
    missing_grants,
    run_checks,
)
from include.settings import WarehouseNames

NAMES = WarehouseNames("RAW", "ANALYTICS", "LANDING", "LANDING_STAGE", "NDJSON_GZ")
MARTS = ("ANALYTICS.MARTS.SYNC_A", "ANALYTICS.MARTS.SYNC_B")
EXPECTED = bootstrap_objects(NAMES)
GOOD_INTEGRATION = {
    "ENABLED": "true",
    "STORAGE_PROVIDER": "S3",
    "STORAGE_ALLOWED_LOCATIONS": "s3://acme-landing/",
    "STORAGE_BLOCKED_LOCATIONS": "",
    "STORAGE_AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/snowflake-reader",
}


def target(**overrides: Any) -> Target:
    values: dict[str, Any] = {
        "conn_id": "snowflake_warehouse",
        "user": "AIRFLOW",
        "role": "TRANSFORMER",
        "warehouse": "TRANSFORMING",
        "names": NAMES,
        "bucket": "acme-landing",
        "hightouch_role": "REVERSE_ETL",
        "marts": MARTS,
    }
    return Target(**{**values, **overrides})


def grant(privilege: str, on: str, role: str, future: bool = False) -> dict[str, str]:
    if future:
        return {"privilege": privilege, "grant_on": on, "grant_to": "ROLE", "grantee_name": role}
    return {"privilege": privilege, "granted_on": on, "granted_to": "ROLE", "grantee_name": role}


class ScriptedSession:
    """Answers statements by their first words; records what was sent. An Exception answer is raised."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.sent: list[str] = []

    def rows(self, sql: str) -> list[dict[str, Any]]:
        self.sent.append(sql)
        for prefix in sorted(self.answers, key=len, reverse=True):
            if sql.upper().startswith(prefix.upper()):
                answer = self.answers[prefix]
                answer = answer(sql) if isinstance(answer, Callable) else answer
                if isinstance(answer, Exception):
                    raise answer
                return answer
        raise AssertionError(f"unexpected statement: {sql}")


def production(**overrides: Any) -> dict[str, Any]:
    """A warehouse set up as include/sql/production_setup.sql and the bootstrap leave it."""
    answers: dict[str, Any] = {
        "USE ROLE": [{"status": "ok"}],
        "USE WAREHOUSE": [{"status": "ok"}],
        "SHOW DATABASES LIKE 'RAW'": [{"name": "RAW"}],
        "SHOW DATABASES LIKE 'ANALYTICS'": [{"name": "ANALYTICS"}],
        "SHOW SCHEMAS IN DATABASE RAW": [{"name": s.split(".")[1]} for s in EXPECTED.schemas],
        "SHOW TABLES IN DATABASE RAW": [
            {"schema_name": t.split(".")[1], "name": t.split(".")[2]} for t in EXPECTED.tables
        ],
        "SHOW FILE FORMATS": [{"name": "NDJSON_GZ", "type": "JSON", "format_options": '{"COMPRESSION":"GZIP"}'}],
        "SHOW STAGES": [
            {
                "name": "LANDING_STAGE",
                "url": "s3://acme-landing/",
                "storage_integration": "S3_LANDING",
                "has_credentials": "N",
            }
        ],
        "DESC INTEGRATION": [{"property": k, "property_value": v} for k, v in GOOD_INTEGRATION.items()],
        "LIST @": [],
        "SHOW GRANTS ON DATABASE": [grant("USAGE", "DATABASE", "REVERSE_ETL")],
        "SHOW GRANTS ON SCHEMA": [grant("USAGE", "SCHEMA", "REVERSE_ETL")],
        "SHOW FUTURE GRANTS IN SCHEMA": [grant("SELECT", "TABLE", "REVERSE_ETL", future=True)],
        "SHOW TABLES IN SCHEMA": [{"name": "SYNC_A"}],  # SYNC_B is built by dbt's first run
        "SHOW GRANTS ON TABLE": [grant("OWNERSHIP", "TABLE", "TRANSFORMER"), grant("SELECT", "TABLE", "REVERSE_ETL")],
    }
    return {**answers, **overrides}


def by_name(checks: list) -> dict[str, Any]:
    return {c.name: c for c in checks}


def test_a_production_set_up_passes_every_check() -> None:
    session = ScriptedSession(production())
    checks = run_checks(session, target())
    assert [c.line() for c in checks if c.status is not Status.PASSED] == []
    assert [c.name for c in checks] == [
        "role TRANSFORMER",
        "warehouse TRANSFORMING",
        "databases",
        "schemas",
        "raw tables",
        "file format RAW.LANDING.NDJSON_GZ",
        "stage RAW.LANDING.LANDING_STAGE",
        "storage integration S3_LANDING",
        "stage access",
        "Hightouch's access to the marts",
    ]
    assert "DESC INTEGRATION S3_LANDING" in session.sent
    assert "LIST @RAW.LANDING.LANDING_STAGE/preflight/" in session.sent
    assert "SHOW GRANTS ON TABLE ANALYTICS.MARTS.SYNC_A" in session.sent
    assert not any("SYNC_B" in s for s in session.sent)  # not built yet: the future grant covers it


def test_a_stage_on_anything_but_the_landing_bucket_fails() -> None:
    """A file:// or other local stage is not a stage Snowflake reads the landed files from."""
    local = production(**{"SHOW STAGES": [{"name": "landing_stage", "url": "file:///data/s3/landing/"}]})
    checks = by_name(run_checks(ScriptedSession(local), target()))
    assert checks["stage RAW.LANDING.LANDING_STAGE"].failed
    assert "the pipeline lands files in S3" in checks["stage RAW.LANDING.LANDING_STAGE"].detail


def test_no_role_named_for_hightouch_is_not_checked() -> None:
    session = ScriptedSession(production())
    checks = by_name(run_checks(session, target(hightouch_role=None)))
    assert "SNOWFLAKE_HIGHTOUCH_ROLE is empty" in checks["Hightouch's access to the marts"].detail
    assert not any(s.startswith(("SHOW GRANTS", "SHOW FUTURE")) for s in session.sent)


def test_a_role_not_granted_to_the_user_fails_with_the_grant_to_run() -> None:
    refused = Exception("Role 'TRANSFORMER' specified does not exist or not authorized.")
    checks = by_name(run_checks(ScriptedSession(production(**{"USE ROLE": refused})), target()))
    role = checks["role TRANSFORMER"]
    assert role.failed
    assert "GRANT ROLE TRANSFORMER TO USER AIRFLOW" in (role.fix or "")


def test_a_warehouse_the_role_may_not_use_fails_with_the_grant() -> None:
    refused = Exception("Object does not exist, or operation cannot be performed.")
    checks = by_name(run_checks(ScriptedSession(production(**{"USE WAREHOUSE": refused})), target()))
    assert "GRANT USAGE ON WAREHOUSE TRANSFORMING TO ROLE TRANSFORMER" in (checks["warehouse TRANSFORMING"].fix or "")


def test_without_a_warehouse_in_the_connection_the_users_default_must_exist() -> None:
    answers = production(**{"SELECT CURRENT_WAREHOUSE()": [{"warehouse": None}]})
    checks = by_name(run_checks(ScriptedSession(answers), target(warehouse=None)))
    assert checks["warehouse"].failed


def test_a_missing_database_is_the_administrators_and_its_schemas_are_not_judged() -> None:
    """The pipeline's bootstrap cannot create a database (account-level CREATE DATABASE): the fix names the
    administrator's set-up, not the bootstrap."""
    checks = by_name(run_checks(ScriptedSession(production(**{"SHOW DATABASES LIKE 'RAW'": []})), target()))
    assert checks["databases"].failed
    assert checks["databases"].detail == "missing: RAW"
    assert "include/sql/production_setup.sql, step 4" in (checks["databases"].fix or "")
    assert "include.warehouse.bootstrap" not in (checks["databases"].fix or "")
    assert checks["schemas"].status is Status.SKIPPED


def test_a_missing_schema_or_table_is_named() -> None:
    present = [{"name": s.split(".")[1]} for s in EXPECTED.schemas if s != "RAW.SALESFORCE"]
    answers = production(**{"SHOW SCHEMAS IN DATABASE RAW": present})
    checks = by_name(run_checks(ScriptedSession(answers), target()))
    assert checks["schemas"].detail == "missing: RAW.SALESFORCE"
    assert "python -m include.warehouse.bootstrap --stage-url s3://acme-landing/" in (checks["schemas"].fix or "")


def test_the_expected_objects_follow_the_configured_names() -> None:
    renamed = bootstrap_objects(WarehouseNames("ACME_RAW", "ACME_ANALYTICS", "LAND", "ST", "FF"))
    assert renamed.databases == ("ACME_RAW", "ACME_ANALYTICS")
    assert "ACME_RAW.LAND" in renamed.schemas
    assert "ACME_RAW.SALESFORCE.LEADS" in renamed.tables


def test_a_stage_on_another_bucket_fails() -> None:
    stage = [{"name": "LANDING_STAGE", "url": "s3://old-bucket/", "storage_integration": "S3_LANDING"}]
    checks = by_name(run_checks(ScriptedSession(production(**{"SHOW STAGES": stage})), target()))
    assert checks["stage RAW.LANDING.LANDING_STAGE"].failed
    assert "s3://acme-landing/ (LANDING_BUCKET)" in checks["stage RAW.LANDING.LANDING_STAGE"].detail
    assert checks["storage integration"].status is Status.SKIPPED


def test_an_s3_stage_without_integration_or_credentials_fails() -> None:
    stage = [
        {"name": "LANDING_STAGE", "url": "s3://acme-landing/", "storage_integration": None, "has_credentials": "N"}
    ]
    checks = by_name(run_checks(ScriptedSession(production(**{"SHOW STAGES": stage})), target()))
    assert checks["stage RAW.LANDING.LANDING_STAGE"].failed
    assert "--storage-integration S3_LANDING" in (checks["stage RAW.LANDING.LANDING_STAGE"].fix or "")


def test_a_stage_snowflake_cannot_list_points_at_the_iam_trust_policy() -> None:
    denied = Exception("Error assuming AWS_ROLE. Please verify the role and externalId are configured correctly.")
    checks = by_name(run_checks(ScriptedSession(production(**{"LIST @": denied})), target()))
    access = checks["stage access"]
    assert access.failed
    assert "STORAGE_AWS_IAM_USER_ARN" in (access.fix or "")
    assert "s3:ListBucket and s3:GetBucketLocation on arn:aws:s3:::acme-landing" in (access.fix or "")


def test_an_integration_must_be_enabled_allow_the_stage_and_name_a_role() -> None:
    stage = Stage("s3://acme-landing/", "s3", "S3_LANDING", False)
    assert check_integration(stage, GOOD_INTEGRATION, "acme-landing").status is Status.PASSED
    broken = {
        **GOOD_INTEGRATION,
        "ENABLED": "false",
        "STORAGE_ALLOWED_LOCATIONS": "s3://other/",
        "STORAGE_AWS_ROLE_ARN": "<snowflake-reader-role-arn>",
    }
    check = check_integration(stage, broken, "acme-landing")
    assert check.failed
    assert check.detail.startswith("is disabled; does not allow s3://acme-landing/ (allowed: s3://other/); has no IAM")
    assert "SET STORAGE_ALLOWED_LOCATIONS = ('s3://acme-landing/')" in (check.fix or "")


@pytest.mark.parametrize(
    ("locations", "covered"),
    [("s3://acme-landing/", True), ("s3://acme-landing", True), ("'s3://x/', 's3://acme-landing/'", True), ("*", True),
     ("s3://acme-landing/raw/", False), ("s3://acme-landing-2/", False), ("", False)],
)  # fmt: skip
def test_allowed_locations_cover_the_stage_url_by_prefix(locations, covered) -> None:
    assert allowed("s3://acme-landing/", locations) is covered
    assert allowed("s3://acme-landing-2/", "s3://acme-landing") is False  # a folder, not a string prefix


def test_the_file_format_must_read_gzip_json() -> None:
    csv = [{"name": "NDJSON_GZ", "type": "CSV", "format_options": '{"TYPE":"CSV","COMPRESSION":"AUTO"}'}]
    assert check_file_format(csv, NAMES, "fix").failed
    assert check_file_format([], NAMES, "fix").failed
    ok = [{"name": "ndjson_gz", "type": "JSON"}]  # no format_options column: the type is enough
    assert check_file_format(ok, NAMES, "fix").status is Status.PASSED


def test_missing_grants_are_the_statements_of_production_setup() -> None:
    assert missing_grants("REVERSE_ETL", "ANALYTICS", "MARTS", [], [], [], {"SYNC_A": []}) == [
        "GRANT USAGE ON DATABASE ANALYTICS TO ROLE REVERSE_ETL",
        "GRANT USAGE ON SCHEMA ANALYTICS.MARTS TO ROLE REVERSE_ETL",
        "GRANT SELECT ON ALL TABLES IN SCHEMA ANALYTICS.MARTS TO ROLE REVERSE_ETL",
        "GRANT SELECT ON FUTURE TABLES IN SCHEMA ANALYTICS.MARTS TO ROLE REVERSE_ETL",
    ]
    to_another_role = [grant("USAGE", "DATABASE", "TRANSFORMER")]
    assert "GRANT USAGE ON DATABASE ANALYTICS TO ROLE REVERSE_ETL" in missing_grants(
        "REVERSE_ETL", "ANALYTICS", "MARTS", to_another_role, [], [], {}
    )


def test_hightouch_without_the_future_grant_loses_the_marts_at_the_next_dbt_run() -> None:
    checks = by_name(run_checks(ScriptedSession(production(**{"SHOW FUTURE GRANTS IN SCHEMA": []})), target()))
    access = checks["Hightouch's access to the marts"]
    assert access.failed
    assert access.fix == (
        "as SECURITYADMIN: GRANT SELECT ON FUTURE TABLES IN SCHEMA ANALYTICS.MARTS TO ROLE REVERSE_ETL"
        " (include/sql/production_setup.sql, step 5)"
    )


def test_a_marts_schema_that_does_not_exist_yet_says_how_to_create_it() -> None:
    missing = Exception("Schema 'ANALYTICS.MARTS' does not exist or not authorized.")
    checks = by_name(run_checks(ScriptedSession(production(**{"SHOW GRANTS ON SCHEMA": missing})), target()))
    access = checks["Hightouch's access to the marts"]
    assert access.failed
    assert "production_setup.sql, step 4" in (access.fix or "")
