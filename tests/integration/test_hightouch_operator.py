"""HightouchSyncOperator and the sync monitor against a private Hightouch emulator syncing into Salesforce's.

The emulator starts with an empty state (its own directory), so run counts and "never run" are exact. It lists
runs oldest first (``--runs-order oldest-first``): the API reference promises no direction, and neither the
operator nor the monitor may depend on one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid

import pytest
import requests
import yaml

from include.hightouch.syncs import load_syncs
from tests.integration.conftest import CLOUD_HOME
from tests.integration.hightouch_fixtures import (
    AUTH,
    BASE,
    CONN_ID,
    PORT,
    TEST_SYNCS,
    start_emulator,
    stop_emulator,
    use_connection,
)

RUN = uuid.uuid4().hex[:6]  # external ids unique to this module: Salesforce state persists
NEVER_RUN = {  # a sync nobody triggers: the monitor must flag it (the emulator's fourth sync: id 1004)
    "slug": "test-never-run",
    "model": "ANALYTICS.HT_TESTS.ACCOUNTS",
    "primary_key": "ACCOUNT_EXTERNAL_ID",
    "destination_object": "Account",
    "mode": "upsert",
    "external_id_field": "Dwh_External_Id__c",
    "field_mapping": {"ACCOUNT_EXTERNAL_ID": "Dwh_External_Id__c"},
}
ZERO = {"added": 0, "changed": 0, "removed": 0}


@pytest.fixture(scope="module")
def hightouch(emulators):
    """Fresh emulator state; the test syncs plus one that is never run; three accounts, two contacts (one bad)."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    state_dir = CLOUD_HOME / "hightouch-operator"
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    syncs = yaml.safe_load(TEST_SYNCS.read_text())
    syncs["syncs"].append(NEVER_RUN)
    syncs_file = state_dir / "syncs.yaml"
    syncs_file.write_text(yaml.safe_dump(syncs, sort_keys=False))
    use_connection()
    warehouse = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    warehouse.run(
        [
            "CREATE SCHEMA IF NOT EXISTS ANALYTICS.HT_TESTS",
            "CREATE OR REPLACE TABLE ANALYTICS.HT_TESTS.ACCOUNTS (ACCOUNT_EXTERNAL_ID VARCHAR, ACCOUNT_NAME VARCHAR,"
            " WEBSITE VARCHAR)",
            "CREATE OR REPLACE TABLE ANALYTICS.HT_TESTS.CONTACTS (CONTACT_EXTERNAL_ID VARCHAR, FIRST_NAME VARCHAR,"
            " LAST_NAME VARCHAR, EMAIL VARCHAR, ACCOUNT_EXTERNAL_ID VARCHAR)",
            f"INSERT INTO ANALYTICS.HT_TESTS.ACCOUNTS VALUES ('op-acct-{RUN}-1', 'Initech', 'initech.com'),"
            f" ('op-acct-{RUN}-2', 'Hooli', 'hooli.xyz'), ('op-acct-{RUN}-3', 'Pied Piper', 'piedpiper.com')",
            # LastName is required by Salesforce: the second contact is rejected on every run.
            f"INSERT INTO ANALYTICS.HT_TESTS.CONTACTS VALUES ('op-cont-{RUN}-1', 'Peter', 'Gibbons',"
            f" 'peter@initech.com', NULL), ('op-cont-{RUN}-2', 'No', NULL, 'no@initech.com', NULL)",
        ]
    )
    pid = start_emulator(state_dir, syncs_file, "--runs-order", "oldest-first")
    yield {"warehouse": warehouse, "catalogue": load_syncs(syncs_file)}
    stop_emulator(state_dir, pid)


def _operator(slug: str, **kwargs):
    from include.hightouch.operator import HightouchSyncOperator

    return HightouchSyncOperator(
        task_id=f"sync_{uuid.uuid4().hex[:6]}", sync_slug=slug, connection_id=CONN_ID, wait_seconds=0.3, timeout=120,
        **kwargs,
    )  # fmt: skip


def _latest_run(sync_id: str) -> dict:
    """The sync's newest run, by id: this emulator lists runs oldest first."""
    runs = requests.get(f"{BASE}/syncs/{sync_id}/runs", params={"limit": 1000}, headers=AUTH, timeout=5).json()["data"]
    return max(runs, key=lambda run: run["id"])


def test_before_any_run_every_sync_is_reported_never_run(hightouch) -> None:
    from include.hightouch.monitoring import check_workspace

    verdicts = check_workspace(CONN_ID, hightouch["catalogue"]).verdicts
    assert [(v.slug, v.healthy, v.status, v.reason) for v in verdicts] == [
        (slug, False, None, "has never run")
        for slug in ["test-accounts", "test-contacts", "test-broken-model", "test-never-run"]
    ]


def test_successful_sync_returns_the_run_with_exact_counts(hightouch, capsys) -> None:
    first = _operator("test-accounts").execute({})
    run_id = str(_latest_run("1001")["id"])
    assert first == {
        "sync_slug": "test-accounts",
        "sync_id": "1001",
        "run_id": run_id,
        "status": "success",
        "planned_rows": {"added": 3, "changed": 0, "removed": 0},
        "successful_rows": {"added": 3, "changed": 0, "removed": 0},
        "failed_rows": ZERO,
        "query_size": 3,
        "error": None,
    }
    line = (
        f"Hightouch sync test-accounts (id 1001) run {run_id}: success | planned added=3 changed=0 removed=0"
        " | successful added=3 changed=0 removed=0 | failed added=0 changed=0 removed=0 | query size 3"
    )
    assert line in capsys.readouterr().out  # the task log (structlog writes it to stdout outside a worker)

    second = _operator("test-accounts").execute({})
    assert second["run_id"] == str(_latest_run("1001")["id"]) != run_id
    assert (second["status"], second["planned_rows"], second["successful_rows"], second["query_size"]) == (
        "success",
        ZERO,
        ZERO,
        3,
    )


def test_failing_rows_fail_the_task_with_run_id_status_and_failed_count(hightouch) -> None:
    from airflow.sdk.exceptions import AirflowException

    # One contact goes through, one is rejected: warning, which fails the task by default.
    with pytest.raises(AirflowException) as warned:
        _operator("test-contacts").execute({})
    run = _latest_run("1002")
    assert (run["status"], run["failedRows"]["addedCount"]) == ("warning", 1)
    assert str(warned.value).startswith(
        f"Hightouch sync test-contacts (id 1002) run {run['id']} ended with status warning: 1 failed row "
        "(added=1 changed=0 removed=0); Hightouch error: 1 of 2 rows failed; "
    )
    assert "REQUIRED_FIELD_MISSING" in str(warned.value)

    # A warning passes when asked to; the task still reports the failed row.
    hightouch["warehouse"].run(
        f"INSERT INTO ANALYTICS.HT_TESTS.CONTACTS VALUES ('op-cont-{RUN}-3', 'Jared', 'Dunn', 'jared@hooli.xyz', NULL)"
    )
    passed = _operator("test-contacts", error_on_warning=False).execute({})
    assert (passed["status"], passed["planned_rows"], passed["successful_rows"], passed["failed_rows"]) == (
        "warning",
        {"added": 2, "changed": 0, "removed": 0},
        {"added": 1, "changed": 0, "removed": 0},
        {"added": 1, "changed": 0, "removed": 0},
    )

    # Only the rejected row is retried and it fails again: the run failed, whatever error_on_warning says.
    with pytest.raises(AirflowException, match=r"run (\d+) ended with status failed: 1 failed row ") as failed:
        _operator("test-contacts", error_on_warning=False).execute({})
    assert f"run {_latest_run('1002')['id']} " in str(failed.value)


def test_a_broken_model_fails_the_task_with_hightouchs_error(hightouch) -> None:
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException) as failed:
        _operator("test-broken-model").execute({})
    run = _latest_run("1003")
    assert str(failed.value).startswith(
        f"Hightouch sync test-broken-model (id 1003) run {run['id']} ended with status failed: 0 failed rows"
        " (added=0 changed=0 removed=0); Hightouch error: Query failed: "
    )
    assert "DOES_NOT_EXIST" in str(failed.value)


def test_a_disabled_sync_fails_at_once_and_is_not_triggered(hightouch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    before = _latest_run("1001")["id"]
    requests.patch(f"{BASE}/syncs/1001", json={"disabled": True}, headers=AUTH, timeout=5).raise_for_status()
    try:
        with pytest.raises(AirflowFailException, match=r"^Hightouch sync test-accounts \(id 1001\) is disabled in"):
            _operator("test-accounts").execute({})
    finally:
        requests.delete(f"{BASE}/_admin/workspace", headers=AUTH, timeout=5).raise_for_status()
    assert _latest_run("1001")["id"] == before


def test_an_unknown_slug_fails_at_once_naming_the_slug_and_the_workspace(hightouch, monkeypatch) -> None:
    """Nothing is triggered or retried (the provider alone would end, after four refused triggers, in "Exceeded max
    number of retries")."""
    from airflow.sdk.exceptions import AirflowFailException

    sent: list[tuple[str, str]] = []
    send = requests.Session.send

    def spy(self, request, **kwargs):
        sent.append((request.method, request.url))
        return send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    with pytest.raises(AirflowFailException) as failed:
        _operator("no-such-sync").execute({})
    message = str(failed.value)
    assert "no-such-sync" in message
    assert f"workspace 42 at http://127.0.0.1:{PORT}" in message
    assert not [url for method, url in sent if method == "POST"], "nothing is triggered"
    assert len([url for _, url in sent if "slug=no-such-sync" in url]) == 1, "the slug is looked up once, no retry"


def test_a_run_id_that_answers_no_run_fails_clearly(hightouch) -> None:
    """An empty answer to ``GET syncs/{id}/runs?runId=`` names the run and the sync (the provider alone raises
    IndexError)."""
    from airflow.sdk.exceptions import AirflowException
    from airflow_provider_hightouch.hooks.hightouch import HightouchHook

    with pytest.raises(AirflowException, match=r"run 999999 .*sync 1001"):
        _operator("test-accounts")._wait_for_run(HightouchHook(hightouch_conn_id=CONN_ID), "1001", "999999")


def test_monitor_reports_exactly_the_unhealthy_syncs(hightouch, caplog) -> None:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from include.hightouch.monitoring import check_and_alert, check_workspace

    # Whatever ran before: accounts succeed, the broken model fails, contacts keep a rejected row.
    _operator("test-accounts").execute({})
    for slug in ("test-broken-model", "test-contacts"):
        with pytest.raises(AirflowException):
            _operator(slug).execute({})

    # Pages of 3 over 4 syncs: both pages are read.
    verdicts = check_workspace(CONN_ID, hightouch["catalogue"], page_size=3).verdicts
    assert [(v.slug, v.healthy) for v in verdicts] == [
        ("test-accounts", True),
        ("test-contacts", False),
        ("test-broken-model", False),
        ("test-never-run", False),
    ]
    for verdict, sync_id in zip(verdicts[1:3], ["1002", "1003"], strict=True):
        latest = _latest_run(sync_id)
        assert (verdict.run_id, verdict.status, verdict.error) == (str(latest["id"]), latest["status"], latest["error"])
        assert verdict.failed_rows == latest["failedRows"]["addedCount"]
    assert verdicts[0].reason.startswith("status success, last run at ")
    assert verdicts[1].failed_rows == 1
    assert verdicts[3].reason == "has never run"

    caplog.set_level(logging.INFO)
    with pytest.raises(AirflowFailException, match=r"^3 of 4 Hightouch syncs unhealthy: test-contacts: last run \d+"):
        check_and_alert(CONN_ID, alerts_conn_id="alerts_not_configured", catalogue=hightouch["catalogue"])
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "UNHEALTHY" in r.getMessage()]
    assert [w.split()[2] for w in warnings] == ["test-contacts", "test-broken-model", "test-never-run"]


def test_monitor_skips_disabled_syncs_and_keeps_missing_and_extra_syncs_apart(hightouch) -> None:
    from include.hightouch.monitoring import check_workspace
    from include.hightouch.syncs import SyncCatalogue

    catalogue = hightouch["catalogue"]
    missing = catalogue.by_slug("test-never-run").model_copy(update={"slug": "test-not-in-hightouch"})
    expected = SyncCatalogue(syncs=(*catalogue.syncs[:3], missing))
    requests.patch(f"{BASE}/syncs/1003", json={"disabled": True}, headers=AUTH, timeout=5).raise_for_status()
    try:
        report = check_workspace(CONN_ID, expected)
    finally:
        requests.delete(f"{BASE}/_admin/workspace", headers=AUTH, timeout=5).raise_for_status()
    assert [(v.slug, v.healthy) for v in report.verdicts] == [
        ("test-accounts", True),
        ("test-contacts", False),
        ("test-not-in-hightouch", False),
    ]
    assert report.verdicts[2].reason.startswith("not found in the Hightouch workspace: no sync has the slug")
    assert report.disabled == ("test-broken-model",)
    assert report.outside_catalogue == ("test-never-run (id 1004, status pending)",)


def test_the_dag_run_is_red_when_a_sync_is_unhealthy(hightouch, dag_env) -> None:
    """The DAG as the scheduler runs it, on this emulator: it judges syncs.yaml, whose syncs this workspace lacks."""
    from include.connections import HIGHTOUCH, env_var_name
    from tests.integration.conftest import dag_run

    env = {**dag_env, env_var_name(HIGHTOUCH): os.environ[env_var_name(CONN_ID)]}
    result = dag_run(env, "monitor_hightouch_syncs")
    assert result.state == "failed", result.error
    output = result.output
    assert "Hightouch sync salesforce-accounts (id None) UNHEALTHY: not found in the Hightouch workspace" in output, (
        output[-4000:]
    )
    n = len(load_syncs().syncs)  # the catalogue (syncs.yaml); the test workspace has none of its slugs
    assert re.search(
        rf"AirflowFailException: {n} of {n} Hightouch syncs unhealthy: salesforce-accounts: not found", output
    )
    assert re.search(r"not in syncs.yaml \(not judged\): test-accounts \(id 1001, status \w+\)", output)
    assert "state=failed" in output, output[-4000:]
