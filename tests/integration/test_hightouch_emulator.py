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
    run = _latest_run("1001")
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
    _operator(sync_id="1002").execute({})
    assert _latest_run("1002")["status"] == "success"
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
    run = _latest_run("1001")
    assert run["status"] == "success"
    assert run["plannedRows"] == {"addedCount": 0, "changedCount": 0, "removedCount": 0}
    assert run["querySize"] == 3


def test_a_changed_row_is_the_only_one_sent(hightouch) -> None:
    hightouch["warehouse"].run(
        f"UPDATE ANALYTICS.HT_TESTS.ACCOUNTS SET WEBSITE = 'initech.io' WHERE ACCOUNT_EXTERNAL_ID = 'acct-{RUN}-1'"
    )
    _operator(sync_slug="test-accounts").execute({})
    run = _latest_run("1001")
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
    run = _latest_run("1002")
    assert run["status"] == "warning"
    assert run["plannedRows"]["addedCount"] == 2
    assert (run["successfulRows"]["addedCount"], run["failedRows"]["addedCount"]) == (1, 1)
    errors = requests.get(f"{BASE}/syncs/1002/runs/{run['id']}/errors", headers=AUTH, timeout=5).json()["data"]
    assert [e["primaryKey"] for e in errors] == [f"cont-{RUN}-3"]
    assert "REQUIRED_FIELD_MISSING" in errors[0]["message"]

    # Without error_on_warning a warning passes; the failed row is retried with the new one, nothing else resent.
    hightouch["warehouse"].run(
        f"INSERT INTO ANALYTICS.HT_TESTS.CONTACTS VALUES ('cont-{RUN}-5', 'Jared', 'Dunn', 'jared@piedpiper.com',"
        f" 'acct-{RUN}-3')"
    )
    _operator(sync_slug="test-contacts").execute({})
    retry = _latest_run("1002")
    assert (retry["status"], retry["plannedRows"]["addedCount"], retry["failedRows"]["addedCount"]) == ("warning", 2, 1)

    # Once the model is fixed, the row goes through and the sync is clean again.
    hightouch["warehouse"].run(
        f"UPDATE ANALYTICS.HT_TESTS.CONTACTS SET LAST_NAME = 'Body' WHERE CONTACT_EXTERNAL_ID = 'cont-{RUN}-3'"
    )
    _operator(sync_slug="test-contacts").execute({})
    fixed = _latest_run("1002")
    assert (fixed["status"], fixed["plannedRows"]["addedCount"], fixed["successfulRows"]["addedCount"]) == (
        "success",
        1,
        1,
    )


def test_broken_model_fails_the_run_and_the_task_with_its_error(hightouch) -> None:
    from airflow.exceptions import AirflowException

    with pytest.raises(AirflowException, match=r"failed with status: failed.*DOES_NOT_EXIST"):
        _operator(sync_slug="test-broken-model").execute({})
    run = _latest_run("1003")
    assert run["status"] == "failed"
    assert "Query failed" in run["error"]


def test_unknown_sync_and_bad_token_are_refused_with_documented_error_bodies(hightouch) -> None:
    unknown = requests.post(f"{BASE}/syncs/trigger", data={"syncSlug": "nope"}, headers=AUTH, timeout=5)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Sync with slug nope not found"})
    missing = requests.get(f"{BASE}/syncs/999", headers=AUTH, timeout=5)
    assert (missing.status_code, missing.json()) == (404, {"error": "Sync 999 not found"})
    refused = requests.get(f"{BASE}/syncs", headers={"Authorization": "Bearer wrong"}, timeout=5)
    assert (refused.status_code, list(refused.json())) == (401, ["error"])
    neither = requests.post(f"{BASE}/syncs/trigger", data={}, headers=AUTH, timeout=5)
    assert (neither.status_code, neither.json()) == (400, {"error": "Either syncId or syncSlug is required"})
    invalid = requests.get(f"{BASE}/syncs", params={"orderBy": "color"}, headers=AUTH, timeout=5)
    assert invalid.status_code == 422
    assert invalid.json()["message"] == "Validation failed"
    assert list(invalid.json()["details"]) == ["orderBy"]
    not_a_number = requests.get(f"{BASE}/syncs/abc/runs", headers=AUTH, timeout=5)
    assert (not_a_number.status_code, list(not_a_number.json()["details"])) == (422, ["syncId"])
    listed = requests.get(f"{BASE}/syncs", headers=AUTH, timeout=5).json()["data"]
    assert [s["slug"] for s in listed] == ["test-accounts", "test-contacts", "test-broken-model"]


SYNC_FIELDS = {
    "id", "slug", "workspaceId", "createdAt", "updatedAt", "destinationId", "modelId", "configuration", "schedule",
    "status", "disabled", "lastRunAt", "referencedColumns", "primaryKey", "externalSegment", "tags",
}  # fmt: skip
MODEL_FIELDS = {
    "id", "name", "slug", "description", "workspaceId", "primaryKey", "createdAt", "updatedAt", "sourceId",
    "queryType", "tags", "isSchema", "syncs", "lastRunSize", "table",
}  # fmt: skip
RUN_FIELDS = {
    "id", "createdAt", "startedAt", "finishedAt", "querySize", "status", "completionRatio", "plannedRows",
    "successfulRows", "failedRows", "error",
}  # fmt: skip


def test_syncs_models_and_runs_have_the_fields_of_the_api_reference(hightouch) -> None:
    sync = requests.get(f"{BASE}/syncs/1001", headers=AUTH, timeout=5).json()
    assert set(sync) == SYNC_FIELDS
    assert (sync["id"], sync["slug"], sync["workspaceId"], sync["modelId"]) == (1001, "test-accounts", 42, 1001)
    assert (sync["schedule"], sync["disabled"], sync["status"]) == (None, False, "success")
    assert sync["primaryKey"] == "ACCOUNT_EXTERNAL_ID"
    assert sync["referencedColumns"] == ["ACCOUNT_EXTERNAL_ID", "ACCOUNT_NAME", "WEBSITE"]
    assert sync["lastRunAt"] == _latest_run("1001")["createdAt"]

    model = requests.get(f"{BASE}/models/{sync['modelId']}", headers=AUTH, timeout=5).json()
    assert set(model) == MODEL_FIELDS
    assert (model["queryType"], model["table"], model["primaryKey"]) == (
        "table",
        {"name": "ANALYTICS.HT_TESTS.ACCOUNTS"},
        "ACCOUNT_EXTERNAL_ID",
    )
    assert (model["syncs"], model["lastRunSize"]) == ([1001], _latest_run("1001")["querySize"])
    models = requests.get(f"{BASE}/models", headers=AUTH, timeout=5).json()
    assert [m["table"]["name"] for m in models["data"]] == [
        "ANALYTICS.HT_TESTS.ACCOUNTS",
        "ANALYTICS.HT_TESTS.CONTACTS",
        "ANALYTICS.HT_TESTS.DOES_NOT_EXIST",
    ]
    assert models["hasMore"] is False
    by_slug = requests.get(f"{BASE}/models", params={"slug": model["slug"]}, headers=AUTH, timeout=5).json()
    assert [m["id"] for m in by_slug["data"]] == [1001]

    run = _latest_run("1001")
    assert set(run) == RUN_FIELDS
    assert isinstance(run["id"], int)
    triggered = requests.post(f"{BASE}/syncs/trigger", json={"syncId": "1003"}, headers=AUTH, timeout=5).json()
    assert list(triggered) == ["id"]
    assert isinstance(triggered["id"], str)


def test_lists_filter_page_and_order_as_documented(hightouch) -> None:
    def slugs(**params: object) -> tuple[list[str], bool]:
        body = requests.get(f"{BASE}/syncs", params=params, headers=AUTH, timeout=5).json()
        return [s["slug"] for s in body["data"]], body["hasMore"]

    assert slugs(slug="test-contacts") == (["test-contacts"], False)
    assert slugs(modelId=1002) == (["test-contacts"], False)
    assert slugs(limit=2) == (["test-accounts", "test-contacts"], True)
    assert slugs(limit=2, offset=2) == (["test-broken-model"], False)
    assert slugs(orderBy="slug") == (["test-accounts", "test-broken-model", "test-contacts"], False)

    runs = requests.get(f"{BASE}/syncs/1001/runs", params={"limit": 1000}, headers=AUTH, timeout=5).json()
    assert len(runs["data"]) > 1
    default_page = requests.get(f"{BASE}/syncs/1001/runs", headers=AUTH, timeout=5).json()
    assert default_page["data"] == runs["data"][:5], "runs without limit: ListSyncRuns' default page of 5"
    assert default_page["hasMore"] == (len(runs["data"]) > 5)
    ids = [r["id"] for r in runs["data"]]
    assert ids == sorted(ids, reverse=True), "this emulator lists newest first by default (--runs-order)"
    one = requests.get(f"{BASE}/syncs/1001/runs", params={"runId": ids[-1]}, headers=AUTH, timeout=5).json()
    assert [r["id"] for r in one["data"]] == [ids[-1]]
    none = requests.get(f"{BASE}/syncs/1001/runs", params={"runId": 1}, headers=AUTH, timeout=5).json()
    assert none == {"data": [], "hasMore": False}
    recent = requests.get(f"{BASE}/syncs/1001/runs", params={"after": runs["data"][0]["startedAt"]}, headers=AUTH,
                          timeout=5).json()  # fmt: skip
    assert [r["id"] for r in recent["data"]] == [ids[0]]


def test_the_rate_limit_answers_429_with_the_documented_body(hightouch) -> None:
    limit = f"{BASE}/_admin/rate-limit"
    assert requests.get(limit, headers=AUTH, timeout=5).json() == {"requests": 200, "seconds": 10.0}
    requests.put(limit, json={"requests": 3, "seconds": 60}, headers=AUTH, timeout=5).raise_for_status()
    try:
        codes = [requests.get(f"{BASE}/syncs", headers=AUTH, timeout=5) for _ in range(4)]
    finally:
        assert requests.delete(limit, headers=AUTH, timeout=5).status_code == 204
    assert [c.status_code for c in codes] == [200, 200, 200, 429]
    assert codes[-1].json() == {"error": "Rate limit exceeded: 3 requests per 60 seconds"}
    assert requests.get(f"{BASE}/syncs", headers=AUTH, timeout=5).status_code == 200


def test_a_workspace_can_be_misconfigured_through_the_api_and_reset(hightouch) -> None:
    """What preflight checks, broken one at a time as a user could break it in Hightouch, then reset."""
    interval = {"type": "interval", "schedule": {"interval": {"unit": "day", "quantity": 1}}}
    try:
        patched = requests.patch(f"{BASE}/syncs/1001", json={"disabled": True, "schedule": interval}, headers=AUTH,
                                 timeout=5)  # fmt: skip
        assert (patched.status_code, patched.json()["disabled"], patched.json()["schedule"]) == (200, True, interval)
        refused = requests.post(f"{BASE}/syncs/trigger", data={"syncId": "1001"}, headers=AUTH, timeout=5)
        assert (refused.status_code, refused.json()) == (400, {"error": "Sync 1001 is disabled"})

        model = requests.patch(f"{BASE}/models/1002", json={"table": {"name": "ANALYTICS.HT_TESTS.OTHER"},
                               "primaryKey": "EMAIL"}, headers=AUTH, timeout=5).json()  # fmt: skip
        assert (model["table"], model["primaryKey"]) == ({"name": "ANALYTICS.HT_TESTS.OTHER"}, "EMAIL")
        assert requests.get(f"{BASE}/syncs/1002", headers=AUTH, timeout=5).json()["primaryKey"] == "EMAIL"

        not_emulated = requests.patch(f"{BASE}/syncs/1002", json={"configuration": {}}, headers=AUTH, timeout=5)
        assert (not_emulated.status_code, not_emulated.json()["message"]) == (422, "Validation failed")
        unknown = requests.patch(f"{BASE}/models/1002", json={"color": "red"}, headers=AUTH, timeout=5)
        assert (unknown.status_code, unknown.json()["details"]) == (422, {"color": "unknown field"})

        assert requests.delete(f"{BASE}/_admin/syncs/1003", headers=AUTH, timeout=5).status_code == 204
        assert requests.get(f"{BASE}/syncs", params={"slug": "test-broken-model"}, headers=AUTH,
                            timeout=5).json()["data"] == []  # fmt: skip
        assert requests.get(f"{BASE}/syncs/1003", headers=AUTH, timeout=5).status_code == 404
    finally:
        assert requests.delete(f"{BASE}/_admin/workspace", headers=AUTH, timeout=5).status_code == 204
    restored = requests.get(f"{BASE}/syncs", headers=AUTH, timeout=5).json()["data"]
    assert [(s["slug"], s["disabled"], s["schedule"], s["primaryKey"]) for s in restored] == [
        ("test-accounts", False, None, "ACCOUNT_EXTERNAL_ID"),
        ("test-contacts", False, None, "CONTACT_EXTERNAL_ID"),
        ("test-broken-model", False, None, "ACCOUNT_EXTERNAL_ID"),
    ]


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
        run_id = requests.post(f"{BASE}/syncs/trigger", data={"syncId": "1001"}, headers=AUTH, timeout=5).json()["id"]
        ratios = []
        for _ in range(200):
            run = requests.get(f"{BASE}/syncs/1001/runs", params={"runId": run_id}, headers=AUTH, timeout=5)
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
    before = _latest_run("1001")
    stop_group(PidFile(hightouch["state_dir"] / "hightouch.pid").read_live_pid())
    _start(hightouch["state_dir"])
    assert _latest_run("1001") == before
    _operator(sync_slug="test-accounts").execute({})
    assert _latest_run("1001")["plannedRows"] == {"addedCount": 0, "changedCount": 0, "removedCount": 0}


def test_a_run_reads_the_table_its_model_points_at_now(hightouch) -> None:
    """A model re-pointed in Hightouch changes what the next run queries (here a table without the rows)."""
    hightouch["warehouse"].run(
        "CREATE OR REPLACE TABLE ANALYTICS.HT_TESTS.ACCOUNTS_EMPTY (ACCOUNT_EXTERNAL_ID VARCHAR, ACCOUNT_NAME VARCHAR,"
        " WEBSITE VARCHAR)"
    )
    try:
        requests.patch(f"{BASE}/models/1001", json={"table": {"name": "ANALYTICS.HT_TESTS.ACCOUNTS_EMPTY"}},
                       headers=AUTH, timeout=5).raise_for_status()  # fmt: skip
        run_id = requests.post(f"{BASE}/syncs/trigger", data={"syncId": "1001"}, headers=AUTH, timeout=5).json()["id"]
        for _ in range(100):
            run = requests.get(f"{BASE}/syncs/1001/runs", params={"runId": run_id}, headers=AUTH, timeout=5)
            run = run.json()["data"][0]
            if run["status"] not in {"queued", "querying", "processing"}:
                break
            time.sleep(0.2)
        assert (run["status"], run["querySize"]) == ("success", 0)
        assert run["plannedRows"]["removedCount"] > 0, "every row synced before has left the model"
    finally:
        requests.delete(f"{BASE}/_admin/workspace", headers=AUTH, timeout=5).raise_for_status()
