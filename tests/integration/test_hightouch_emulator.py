"""The real HightouchTriggerSyncOperator against the Hightouch emulator, syncing into the Salesforce emulator."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import requests

from dev.localcloud.process import PidFile, stop_group
from dev.localcloud.settings import HIGHTOUCH_TOKEN
from include.connections import SALESFORCE
from tests.integration.conftest import CLOUD_HOME
from tests.integration.hightouch_fixtures import AUTH, BASE, CONN_ID, PORT
from tests.integration.hightouch_fixtures import start_emulator as _start

RUN = uuid.uuid4().hex[:6]  # external ids unique to this test session: Salesforce state persists


@pytest.fixture(scope="module")
def hightouch(emulators, tmp_path_factory):
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    state_dir = CLOUD_HOME / "hightouch-scenarios"
    state_dir.mkdir(parents=True, exist_ok=True)
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {"conn_type": "http", "host": f"http://127.0.0.1:{PORT}", "password": HIGHTOUCH_TOKEN}
    )
    warehouse = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    warehouse.run(
        [
            "CREATE SCHEMA IF NOT EXISTS ANALYTICS.HT_TESTS",
            "CREATE OR REPLACE TABLE ANALYTICS.HT_TESTS.ACCOUNTS (ACCOUNT_EXTERNAL_ID VARCHAR, ACCOUNT_NAME VARCHAR,"
            " WEBSITE VARCHAR)",
            "CREATE OR REPLACE TABLE ANALYTICS.HT_TESTS.CONTACTS (CONTACT_EXTERNAL_ID VARCHAR, FIRST_NAME VARCHAR,"
            " LAST_NAME VARCHAR, EMAIL VARCHAR, ACCOUNT_EXTERNAL_ID VARCHAR)",
            f"INSERT INTO ANALYTICS.HT_TESTS.ACCOUNTS VALUES ('acct-{RUN}-1', 'Initech', 'initech.com'),"
            f" ('acct-{RUN}-2', 'Hooli', 'hooli.xyz'), ('acct-{RUN}-3', 'Pied Piper', 'piedpiper.com')",
            f"INSERT INTO ANALYTICS.HT_TESTS.CONTACTS VALUES ('cont-{RUN}-1', 'Peter', 'Gibbons', 'peter@initech.com',"
            f" 'acct-{RUN}-1'), ('cont-{RUN}-2', 'Gavin', 'Belson', 'gavin@hooli.xyz', 'acct-{RUN}-2')",
        ]
    )
    pid = _start(state_dir)
    yield {"warehouse": warehouse, "state_dir": state_dir, "pid": pid}
    stop_group(PidFile(state_dir / "hightouch.pid").read_live_pid() or pid)


def _operator(**kwargs):
    from airflow_provider_hightouch.operators.hightouch import HightouchTriggerSyncOperator

    return HightouchTriggerSyncOperator(
        task_id=f"sync_{uuid.uuid4().hex[:6]}", connection_id=CONN_ID, wait_seconds=0.3, timeout=120, **kwargs
    )


def _latest_run(sync_id: str) -> dict:
    return requests.get(f"{BASE}/syncs/{sync_id}/runs", params={"limit": 1}, headers=AUTH, timeout=5).json()["data"][0]


def _salesforce():
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    return SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()


def test_sync_by_slug_upserts_accounts(hightouch) -> None:
    _operator(sync_slug="test-accounts").execute({})
    run = _latest_run("2001")
    assert run["status"] == "success"
    assert run["plannedRows"] == {"addedCount": 3, "changedCount": 0, "removedCount": 0}
    assert run["successfulRows"]["addedCount"] == 3
    records = _salesforce().query_all(
        f"SELECT Name, Website FROM Account WHERE Dwh_External_Id__c LIKE 'acct-{RUN}-%' ORDER BY Name"
    )["records"]
    assert [(r["Name"], r["Website"]) for r in records] == [
        ("Hooli", "hooli.xyz"),
        ("Initech", "initech.com"),
        ("Pied Piper", "piedpiper.com"),
    ]


def test_sync_by_id_links_contacts_to_accounts_by_external_id(hightouch) -> None:
    _operator(sync_id="2002").execute({})
    assert _latest_run("2002")["status"] == "success"
    sf = _salesforce()
    contacts = sf.query_all(
        f"SELECT LastName, AccountId FROM Contact WHERE Dwh_External_Id__c LIKE 'cont-{RUN}-%' ORDER BY LastName"
    )["records"]
    soql = f"SELECT Id, Dwh_External_Id__c FROM Account WHERE Dwh_External_Id__c LIKE 'acct-{RUN}-%'"
    accounts = {r["Dwh_External_Id__c"]: r["Id"] for r in sf.query_all(soql)["records"]}
    assert [(c["LastName"], c["AccountId"]) for c in contacts] == [
        ("Belson", accounts[f"acct-{RUN}-2"]),
        ("Gibbons", accounts[f"acct-{RUN}-1"]),
    ]


def test_second_trigger_with_unchanged_rows_plans_nothing(hightouch) -> None:
    _operator(sync_slug="test-accounts").execute({})
    run = _latest_run("2001")
    assert run["status"] == "success"
    assert run["plannedRows"] == {"addedCount": 0, "changedCount": 0, "removedCount": 0}
    assert run["querySize"] == 3


def test_a_changed_row_is_the_only_one_sent(hightouch) -> None:
    hightouch["warehouse"].run(
        f"UPDATE ANALYTICS.HT_TESTS.ACCOUNTS SET WEBSITE = 'initech.io' WHERE ACCOUNT_EXTERNAL_ID = 'acct-{RUN}-1'"
    )
    _operator(sync_slug="test-accounts").execute({})
    run = _latest_run("2001")
    assert run["plannedRows"] == {"addedCount": 0, "changedCount": 1, "removedCount": 0}
    assert run["successfulRows"]["changedCount"] == 1
    website = _salesforce().query(f"SELECT Website FROM Account WHERE Dwh_External_Id__c = 'acct-{RUN}-1'")
    assert website["records"][0]["Website"] == "initech.io"


def test_partly_failing_rows_give_warning_which_fails_the_task_on_request(hightouch) -> None:
    from airflow.exceptions import AirflowException

    hightouch["warehouse"].run(
        f"INSERT INTO ANALYTICS.HT_TESTS.CONTACTS VALUES ('cont-{RUN}-3', 'No', NULL, 'no@initech.com', "
        f"'acct-{RUN}-1'), ('cont-{RUN}-4', 'Richard', 'Hendricks', 'richard@piedpiper.com', 'acct-{RUN}-3')"
    )
    with pytest.raises(AirflowException, match=r"failed with status: warning"):
        _operator(sync_slug="test-contacts", error_on_warning=True).execute({})
    run = _latest_run("2002")
    assert run["status"] == "warning"
    assert run["plannedRows"]["addedCount"] == 2
    assert (run["successfulRows"]["addedCount"], run["failedRows"]["addedCount"]) == (1, 1)
    errors = requests.get(f"{BASE}/syncs/2002/runs/{run['id']}/errors", headers=AUTH, timeout=5).json()["data"]
    assert [e["primaryKey"] for e in errors] == [f"cont-{RUN}-3"]
    assert "REQUIRED_FIELD_MISSING" in errors[0]["message"]

    # Without error_on_warning a warning passes; the failed row is retried with the new one, nothing else resent.
    hightouch["warehouse"].run(
        f"INSERT INTO ANALYTICS.HT_TESTS.CONTACTS VALUES ('cont-{RUN}-5', 'Jared', 'Dunn', 'jared@piedpiper.com',"
        f" 'acct-{RUN}-3')"
    )
    _operator(sync_slug="test-contacts").execute({})
    retry = _latest_run("2002")
    assert (retry["status"], retry["plannedRows"]["addedCount"], retry["failedRows"]["addedCount"]) == ("warning", 2, 1)

    # Once the model is fixed, the row goes through and the sync is clean again.
    hightouch["warehouse"].run(
        f"UPDATE ANALYTICS.HT_TESTS.CONTACTS SET LAST_NAME = 'Body' WHERE CONTACT_EXTERNAL_ID = 'cont-{RUN}-3'"
    )
    _operator(sync_slug="test-contacts").execute({})
    fixed = _latest_run("2002")
    assert (fixed["status"], fixed["plannedRows"]["addedCount"], fixed["successfulRows"]["addedCount"]) == (
        "success",
        1,
        1,
    )


def test_broken_model_fails_the_run_and_the_task_with_its_error(hightouch) -> None:
    from airflow.exceptions import AirflowException

    with pytest.raises(AirflowException, match=r"failed with status: failed.*DOES_NOT_EXIST"):
        _operator(sync_slug="test-broken-model").execute({})
    run = _latest_run("2003")
    assert run["status"] == "failed"
    assert "Query failed" in run["error"]


def test_unknown_sync_and_bad_token_are_refused(hightouch) -> None:
    assert requests.post(f"{BASE}/syncs/trigger", data={"syncSlug": "nope"}, headers=AUTH, timeout=5).status_code == 404
    assert requests.get(f"{BASE}/syncs", headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    listed = requests.get(f"{BASE}/syncs", headers=AUTH, timeout=5).json()["data"]
    assert [s["slug"] for s in listed] == ["test-accounts", "test-contacts", "test-broken-model"]


def test_pacing_sends_small_batches_and_reports_progress_after_each(hightouch) -> None:
    pacing = f"{BASE}/_admin/pacing"
    assert requests.get(pacing, headers=AUTH, timeout=5).json() == {"batchSize": 200, "pauseSeconds": 0.0}
    assert requests.put(pacing, json={"batchSize": 0}, headers=AUTH, timeout=5).status_code == 422
    hightouch["warehouse"].run(
        "INSERT INTO ANALYTICS.HT_TESTS.ACCOUNTS VALUES "
        + ", ".join(f"('acct-{RUN}-p{n}', 'Paced {n}', 'paced{n}.io')" for n in range(3))
    )
    requests.put(pacing, json={"batchSize": 1, "pauseSeconds": 1}, headers=AUTH, timeout=5).raise_for_status()
    try:
        run_id = requests.post(f"{BASE}/syncs/trigger", data={"syncId": "2001"}, headers=AUTH, timeout=5).json()["id"]
        ratios = []
        for _ in range(200):
            run = requests.get(f"{BASE}/syncs/2001/runs", params={"runId": run_id}, headers=AUTH, timeout=5)
            run = run.json()["data"][0]
            if run["status"] == "processing" and run["completionRatio"] not in ratios:
                ratios.append(run["completionRatio"])
            if run["status"] == "success":
                break
            time.sleep(0.1)
    finally:
        assert requests.delete(pacing, headers=AUTH, timeout=5).status_code == 204
    assert (run["status"], run["successfulRows"]["addedCount"]) == ("success", 3)
    assert [r for r in ratios if 0 < r < 1] == [0.3333, 0.6667], "one record a call, progress saved after each"
    assert requests.get(pacing, headers=AUTH, timeout=5).json() == {"batchSize": 200, "pauseSeconds": 0.0}


def test_runs_and_sync_state_survive_a_restart(hightouch) -> None:
    before = _latest_run("2001")
    stop_group(PidFile(hightouch["state_dir"] / "hightouch.pid").read_live_pid())
    _start(hightouch["state_dir"])
    assert _latest_run("2001") == before
    _operator(sync_slug="test-accounts").execute({})
    assert _latest_run("2001")["plannedRows"] == {"addedCount": 0, "changedCount": 0, "removedCount": 0}
