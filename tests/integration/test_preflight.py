"""``make preflight`` against the test cloud: green as the local cloud comes, and each broken set-up fails exactly
its own check, with its fix.

The set-ups are broken the way the emulators' READMEs document (``dev/salesforce/README.md``, "Broken orgs";
``dev/hightouch/README.md``, "Configuring a misconfigured workspace") or through the settings and connections the
preflight reads, and put back after each test: the emulators are shared by the whole test session. One DAG run
only: the ``preflight`` DAG with ``airflow dags test``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
import requests

from dev.hightouch.workspace import sync_ids as emulator_sync_ids
from dev.localcloud.env import read_env_file
from dev.localcloud.settings import HIGHTOUCH_TOKEN
from include.connections import HIGHTOUCH, SALESFORCE, env_var_name
from include.hightouch.syncs import default_syncs
from include.preflight.checks import Check, Status
from include.preflight.run import run
from tests.conftest import REPO_ROOT
from tests.integration.conftest import CLOUD_HOME, TEST_PORTS, TEST_RAW_DATABASE, cloud_env, dags_test

# Runs the preflight and a DAG against the test cloud: longer than the emulator modules.
pytestmark = pytest.mark.long_running(minutes=0.3)
HIGHTOUCH_API = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_HIGHTOUCH_PORT']}/api/v1"
HIGHTOUCH_AUTH = {"Authorization": f"Bearer {HIGHTOUCH_TOKEN}"}


@pytest.fixture(scope="module")
def local_cloud_settings(emulators) -> Iterator[dict[str, str]]:
    """This process sees the settings the local cloud gives its Airflow (connections are loaded by ``emulators``)."""
    generated = read_env_file(CLOUD_HOME / "localcloud.env")
    saved = os.environ.get("SNOWFLAKE_HIGHTOUCH_ROLE")
    os.environ["SNOWFLAKE_HIGHTOUCH_ROLE"] = generated["SNOWFLAKE_HIGHTOUCH_ROLE"]
    yield generated
    if saved is None:
        os.environ.pop("SNOWFLAKE_HIGHTOUCH_ROLE", None)
    else:
        os.environ["SNOWFLAKE_HIGHTOUCH_ROLE"] = saved


def not_passed(checks: list[Check]) -> list[str]:
    return [c.line() for c in checks if c.status is not Status.PASSED]


# --- green -------------------------------------------------------------------------------------------------------


def test_make_preflight_is_green_on_the_local_cloud(local_cloud_settings) -> None:
    """The command a developer runs, with no AIRFLOW_CONN_* of their own: the local cloud's connections."""
    env = {k: v for k, v in cloud_env().items() if not k.startswith("AIRFLOW_CONN_")}
    result = subprocess.run(
        ["make", "--no-print-directory", "preflight"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("preflight through the local cloud's connections"), output
    checks = [line for line in lines if line[:2] in {"✓ ", "✗ ", "- ", "! "}]
    assert checks, output
    assert all(line.startswith("✓ ") for line in checks), output
    assert {line.split(":")[0][2:] for line in checks} == {"S3", "Snowflake", "Salesforce", "Hightouch"}
    assert lines[-1] == f"{len(checks)} checks: {len(checks)} passed, 0 failed"
    # The landing stage, its storage integration and the listing through it are checked as on a real account;
    # names follow the settings (the tests' raw database); the Salesforce connection signs in as documented.
    assert any("Snowflake: storage integration S3_LANDING: enabled, allows s3://landing/" in x for x in checks)
    assert any("Snowflake: stage access: Snowflake listed s3://landing/preflight/" in x for x in checks)
    assert any("Salesforce: sign-in flow: OAuth 2.0 JWT bearer flow" in x for x in checks)
    assert any(f"databases: {TEST_RAW_DATABASE}, ANALYTICS exist" in x for x in checks)


# --- broken set-ups ------------------------------------------------------------------------------------------------


@contextmanager
def salesforce_org(customisation: dict[str, Any]) -> Iterator[None]:
    """The test cloud's org customised (PUT /_admin/org), then the default org again."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    sf = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()
    admin = f"https://{sf.sf_instance}/_admin/org"
    auth = {"Authorization": f"Bearer {sf.session_id}"}
    answer = requests.put(admin, json=customisation, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    try:
        yield
    finally:
        assert requests.delete(admin, headers=auth, timeout=30).status_code == 204


@contextmanager
def hightouch_workspace(*calls: tuple[str, str, dict[str, Any] | None]) -> Iterator[None]:
    """The test cloud's workspace changed through the API, then back to the catalogue (DELETE /_admin/workspace)."""
    try:
        for method, path, body in calls:
            answer = requests.request(method, f"{HIGHTOUCH_API}/{path}", json=body, headers=HIGHTOUCH_AUTH, timeout=10)
            assert answer.ok, answer.text
        yield
    finally:
        reset = requests.delete(f"{HIGHTOUCH_API}/_admin/workspace", headers=HIGHTOUCH_AUTH, timeout=10)
        assert reset.status_code == 204


def sync_id(slug: str) -> str:
    return str(emulator_sync_ids(default_syncs())[slug])


def hightouch_with_login() -> dict[str, str]:
    conn = json.loads(os.environ[env_var_name(HIGHTOUCH)])
    return {env_var_name(HIGHTOUCH): json.dumps({**conn, "login": "me@acme.io"})}


ACCOUNTS, TASKS = "salesforce-accounts", "salesforce-outreach-tasks"
# (service, how the set-up is broken, the one check that must fail, a part of its fix)
BROKEN: dict[str, tuple[str, Callable[[], Any], str, str]] = {
    "a missing custom field": (
        "salesforce",
        lambda: salesforce_org({"removeFields": ["Contact.Workspace_Id__c"]}),
        "Salesforce: Contact fields",
        "create the custom field Workspace_Id__c (Text(255)) on Contact",
    ),
    "a missing picklist value": (
        "salesforce",
        lambda: salesforce_org({"picklists": {"Contact.LeadSource": {"remove": ["Product Signup"]}}}),
        "Salesforce: Contact.LeadSource picklist",
        "add 'Product Signup' to it",
    ),
    "a non-unique external id": (
        "salesforce",
        lambda: salesforce_org({"fields": {"Account.Dwh_External_Id__c": {"unique": False}}}),
        "Salesforce: Account.Dwh_External_Id__c external id",
        "tick both 'External ID' and 'Unique'",
    ),
    "no converted lead status": (
        "salesforce",
        lambda: salesforce_org({"picklists": {"Lead.Status": {"converted": []}}}),
        "Salesforce: converted lead status",
        "mark a value 'Converted'",
    ),
    "an integration user who may not convert leads": (
        "salesforce",
        lambda: salesforce_org({"integrationUserCanConvertLeads": False}),
        "Salesforce: Convert Leads permission",
        "a permission set with 'Convert Leads'",
    ),
    "an integration user without Create on Account": (
        "salesforce",
        lambda: salesforce_org({"integrationUserLacks": {"Account": ["create"]}}),
        "Salesforce: lead conversion object access",
        "grant them in a permission set assigned to the integration user",
    ),
    "a missing Hightouch slug": (
        "hightouch",
        lambda: hightouch_workspace(("DELETE", f"_admin/syncs/{sync_id(TASKS)}", None)),
        f"Hightouch: sync {TASKS}",
        f"set its slug to {TASKS}",
    ),
    "a sync reading the wrong table": (
        "hightouch",
        lambda: hightouch_workspace(
            ("PATCH", f"models/{sync_id(ACCOUNTS)}", {"table": {"name": "ANALYTICS.MARTS.SYNC_SALESFORCE_CONTACTS"}})
        ),
        f"Hightouch: sync {ACCOUNTS}",
        "to ANALYTICS.MARTS.SYNC_SALESFORCE_ACCOUNTS",
    ),
    "a sync Hightouch schedules itself": (
        "hightouch",
        lambda: hightouch_workspace(
            ("PATCH", f"syncs/{sync_id(TASKS)}", {"schedule": {"type": "interval", "schedule": {"interval": {}}}})
        ),
        f"Hightouch: sync {TASKS}",
        "set its schedule type to Manual",
    ),
    "a Hightouch connection with a login": (
        "hightouch",
        lambda: mock.patch.dict(os.environ, hightouch_with_login()),
        "Hightouch: connection",
        "leave the login empty and put the API key in the password",
    ),
    "a bucket that does not exist": (
        "s3",
        lambda: mock.patch.dict(os.environ, LANDING_BUCKET="no-such-bucket"),
        "S3: landing bucket no-such-bucket",
        "create the bucket no-such-bucket, or set LANDING_BUCKET",
    ),
    "a file format the warehouse does not have": (
        "snowflake",
        lambda: mock.patch.dict(os.environ, SNOWFLAKE_LANDING_FILE_FORMAT="CSV_FORMAT"),
        f"Snowflake: file format {TEST_RAW_DATABASE}.LANDING.CSV_FORMAT",
        "python -m include.warehouse.bootstrap",
    ),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_broken_set_up_fails_exactly_its_check_with_its_fix(local_cloud_settings, broken: str) -> None:
    service, break_it, failing, fix = BROKEN[broken]
    with break_it():
        checks = list(run([service]))
    failures = [c for c in checks if c.failed]
    assert [c.key for c in failures] == [failing], not_passed(checks)
    assert fix in (failures[0].fix or ""), failures[0].line()
    # Checks that cannot run until it is fixed say so; nothing else is affected.
    assert all(c.status is Status.PASSED or c.failed or "must be fixed first" in c.detail for c in checks)
    assert not_passed(list(run([service]))) == [], "the set-up was not put back"


# --- inside Airflow --------------------------------------------------------------------------------------------


def test_the_preflight_dag_runs_the_same_checks(dag_env) -> None:
    result = dags_test(dag_env, "preflight", datetime.now(UTC))
    output = result.stdout + result.stderr
    for task_id in ("check_s3", "check_snowflake", "check_salesforce", "check_hightouch"):
        assert task_id in output
    assert "✗" not in output
