"""Hightouch preflight checks over API payloads, no network.

Payloads follow the API reference's ``Sync`` and ``Model`` (https://hightouch.com/docs/api-reference): a sync's
``slug``, ``modelId``, ``schedule`` (nullable) and ``disabled``; a table model's ``queryType: table``,
``table.name`` and ``primaryKey``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from include.hightouch.connection import connection_problems
from include.hightouch.syncs import load_syncs
from include.preflight.checks import Status
from include.preflight.hightouch import connection_check, judge_sync, judge_workspace, schedule_kind
from tests.conftest import REPO_ROOT

CATALOGUE = load_syncs(REPO_ROOT / "tests" / "fixtures" / "hightouch_test_syncs.yaml")
ENTRY = CATALOGUE.syncs[0]
WHERE = "https://api.hightouch.com"


def sync(**overrides: Any) -> dict[str, Any]:
    return {"id": 7, "slug": ENTRY.slug, "modelId": 70, "schedule": None, "disabled": False, **overrides}


def model(**overrides: Any) -> dict[str, Any]:
    return {
        "id": 70,
        "name": "mart",
        "queryType": "table",
        "table": {"name": ENTRY.model},
        "primaryKey": ENTRY.primary_key,
        **overrides,
    }


def test_a_sync_configured_as_its_entry_passes() -> None:
    check = judge_sync(ENTRY, sync(), model(), WHERE)
    assert check.status is Status.PASSED, check.line()
    assert check.name == f"sync {ENTRY.slug}"


def test_tables_compare_by_schema_and_table_whatever_the_case_and_database() -> None:
    schema_table = ".".join(ENTRY.model.split(".")[-2:]).lower()
    assert judge_sync(ENTRY, sync(), model(table={"name": schema_table}), WHERE).status is Status.PASSED
    other_db = "PROD_" + ENTRY.model
    assert judge_sync(ENTRY, sync(), model(table={"name": other_db}), WHERE).status is Status.PASSED


def test_a_missing_slug_says_what_to_create() -> None:
    check = judge_sync(ENTRY, None, None, WHERE)
    assert check.failed
    assert check.detail == f"no sync with the slug {ENTRY.slug} in the workspace at {WHERE}"
    assert f"table model on {ENTRY.model} with primary key {ENTRY.primary_key}" in (check.fix or "")
    assert f"set its slug to {ENTRY.slug}" in (check.fix or "")


def test_a_sync_reading_another_table_fails_with_the_table_to_set() -> None:
    check = judge_sync(ENTRY, sync(), model(table={"name": "ANALYTICS.MARTS.OTHER"}), WHERE)
    assert check.failed
    assert check.detail == f"its model mart (id 70) reads ANALYTICS.MARTS.OTHER, not {ENTRY.model}"
    assert check.fix == f"set the table of its model mart (id 70) to {ENTRY.model}"


def test_another_primary_key_fails() -> None:
    check = judge_sync(ENTRY, sync(), model(primaryKey="OTHER"), WHERE)
    assert check.failed
    assert f"has the primary key OTHER, not {ENTRY.primary_key}" in check.detail


def test_a_sql_model_is_not_a_table_model() -> None:
    check = judge_sync(ENTRY, sync(), model(queryType="raw_sql", table=None), WHERE)
    assert check.failed
    assert "is a raw_sql model, not a table model" in check.detail


@pytest.mark.parametrize(
    ("schedule", "kind"),
    [(None, None), ({"type": "manual"}, None), ({"type": "interval", "schedule": {}}, "interval"), ({}, "unknown")],
)
def test_only_a_sync_without_a_hightouch_schedule_is_manual(schedule, kind) -> None:
    assert schedule_kind(schedule) == kind


def test_a_scheduled_or_disabled_sync_fails_with_both_fixes() -> None:
    check = judge_sync(ENTRY, sync(schedule={"type": "cron", "schedule": {}}, disabled=True), model(), WHERE)
    assert check.failed
    assert check.detail == "Hightouch runs it on a schedule (cron); it is disabled"
    assert "set its schedule type to Manual" in (check.fix or "")
    assert "enable it" in (check.fix or "")


def test_the_workspace_is_judged_per_catalogue_entry_by_slug() -> None:
    syncs = [sync(slug=e.slug, id=i, modelId=i) for i, e in enumerate(CATALOGUE.syncs) if e is not ENTRY]
    models = {
        str(i): model(id=i, table={"name": e.model}, primaryKey=e.primary_key) for i, e in enumerate(CATALOGUE.syncs)
    }
    checks = judge_workspace(CATALOGUE, syncs, models, WHERE)
    assert [c.name for c in checks] == [f"sync {e.slug}" for e in CATALOGUE.syncs]
    assert [c.name for c in checks if c.failed] == [f"sync {ENTRY.slug}"]


def test_a_connection_with_a_login_fails_with_the_providers_reason() -> None:
    conn = SimpleNamespace(
        conn_id="hightouch_default", host="https://api.hightouch.com", schema=None, login="me", password="key"
    )
    check = connection_check("hightouch_default", connection_problems(conn))
    assert check.failed
    assert "has a login ('me')" in (check.fix or "")
    assert "leave the login empty" in (check.fix or "")
    conn.login = None
    assert connection_check("hightouch_default", connection_problems(conn)).status is Status.PASSED
