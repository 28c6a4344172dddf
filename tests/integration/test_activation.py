"""activate_salesforce end to end on a crafted scenario: signups through the cloud app API, CRM records through
the Salesforce API, then the real DAGs (ingestion, mirror, Cosmos-rendered dbt, Hightouch syncs), and the
Salesforce emulator's final records asserted one rule at a time.

Every name below carries RUN, so the scenario is independent of the generated signups that other tests load
into the same warehouse; the generated ones flow through the same syncs and must simply not break them.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from dev.hightouch.workspace import sync_ids as emulator_sync_ids
from dev.localcloud.settings import CLOUD_APP_TOKEN, HIGHTOUCH_TOKEN
from include.hightouch.syncs import default_syncs
from include.settings import raw_table
from tests.conftest import REPO_ROOT, TEST_STATE
from tests.integration.conftest import TEST_PORTS, dag_run, dags_test, dbt_cli

pytestmark = pytest.mark.long_running(minutes=1.8)

RUN = uuid.uuid4().hex[:6]
CLOUD_APP = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_CLOUD_APP_PORT']}"
HIGHTOUCH = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_HIGHTOUCH_PORT']}/api/v1"
# The roster seed's AMER and EMEA managers who are active in the Salesforce emulator's seed.
ACTIVE_ROSTER = {"avery.brooks@example.com", "jordan.reyes@example.com", "sofia.lindqvist@example.com",
                 "luca.moretti@example.com", "haruto.sato@example.com", "priya.nair@example.com"}  # fmt: skip


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the models' external ids use md5 too


def _next_boundary(moment: datetime) -> datetime:
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor + timedelta(minutes=15)


def _signup(email: str, *, first: str, last: str, company: str | None = None, region: str = "us-east-1",
            plan: str = "starter", seats: int = 5) -> dict[str, Any]:  # fmt: skip
    body = {"plan": plan, "seats": seats, "region": region,
            "owner": {"email": email, "first_name": first, "last_name": last, "company_name": company}}  # fmt: skip
    response = requests.post(
        f"{CLOUD_APP}/v1/workspaces", json=body, headers={"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def _errors(output: str) -> str:
    """The lines of a `dags test` log that say what failed."""
    return "\n".join(line[:400] for line in output.splitlines() if re.search(r"error|fail|exception", line, re.I))[
        -6000:
    ]


def _dag_run(env: dict[str, str], dag_id: str, logical_date: datetime | None = None):
    """Run a DAG (`dag.test()`, as `airflow dags test` does); return (state, run_id, error lines) without asserting
    success."""
    result = dag_run(env, dag_id, logical_date)
    assert result.run_id, result.error or result.output[-4000:]
    return result.state, result.run_id, _errors(result.output)


CONVERT_TASK = "convert_salesforce_leads"
CONVERSION_FIELDS = "IsConverted, Status, ConvertedContactId, ConvertedAccountId, ConvertedOpportunityId"


def _downstream_of(task_id: str) -> set[str]:
    """Every task downstream of ``task_id`` in activate_salesforce (from the DAG as the DagBag parses it)."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "activate_salesforce.py"), safe_mode=False).dags[
        "activate_salesforce"
    ]
    return set(dag.task_dict[task_id].get_flat_relative_ids(upstream=False))


def _hightouch_runs() -> dict[str, list[dict[str, Any]]]:
    """Every run of every sync, newest first, from the Hightouch API."""
    headers = {"Authorization": f"Bearer {HIGHTOUCH_TOKEN}"}
    runs = {}
    for slug, sync_id in emulator_sync_ids(default_syncs()).items():
        response = requests.get(f"{HIGHTOUCH}/syncs/{sync_id}/runs", params={"limit": 100}, headers=headers, timeout=10)
        response.raise_for_status()
        body = response.json()
        runs[slug] = body["data"] if isinstance(body, dict) else body
    return runs


def _xcom(env: dict[str, str], dag_id: str, run_id: str, task_id: str) -> Any:
    """A task's return value in the Airflow database `airflow dags test` used (the test Airflow home's SQLite)."""
    database = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND key = 'return_value'",
            (dag_id, run_id, task_id),
        ).fetchall()
    assert len(rows) == 1, f"{dag_id}.{task_id} in run {run_id}: {len(rows)} return values"
    value = json.loads(rows[0][0])
    return json.loads(value) if isinstance(value, str) else value


def _one(sf, soql: str) -> dict[str, Any]:
    records = sf.query_all(soql)["records"]
    assert len(records) == 1, f"{soql} -> {len(records)} records"
    return _without(records[0], "attributes")


def _without(record: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in fields}


def contact_account(sf, email: str) -> str | None:
    return _one(sf, f"SELECT AccountId FROM Contact WHERE Email = '{email}'")["AccountId"]


def _count(sf, soql: str) -> int:
    return len(sf.query_all(soql)["records"])


@pytest.fixture(scope="module")
def scenario(dag_env, salesforce) -> dict[str, Any]:
    """Crafts the CRM and the signups, then runs ingestion, the mirror and activation once."""
    sf = salesforce
    users = {u["Username"]: u for u in sf.query_all("SELECT Id, Username, IsActive FROM User")["records"]}
    emea1 = users["sofia.lindqvist@example.com"]["Id"]
    apac1 = users["haruto.sato@example.com"]["Id"]
    inactive = {u["Id"] for u in users.values() if not u["IsActive"]}
    # A lead from the seed, owned by a user who has left, whose email is personal (so no account decides).
    stale = next(
        lead
        for lead in sf.query_all("SELECT Id, Email, OwnerId FROM Lead WHERE IsConverted = false")["records"]
        if lead["OwnerId"] in inactive and lead["Email"] and lead["Email"].split("@")[1] in {"gmail.com", "outlook.com",
                                                                                              "icloud.com", "proton.me"}
    )  # fmt: skip
    s = {
        "lead_domain": f"parkside-{RUN}.com",
        "account_domain": f"globex-{RUN}.com",
        "personal_email": f"sam.{RUN}@gmail.com",
        "duplicate_email": f"dana@dup-{RUN}.io",
        "company_domain": f"acme-{RUN}.io",
        "invalid_email": f"not-an-email-{RUN}",
        "stale_lead": stale,
        "inactive": inactive,
        "roster": {users[name]["Id"] for name in ACTIVE_ROSTER},
        "emea1": emea1,
        "apac1": apac1,
    }
    s["lead_email"] = f"lena.park@{s['lead_domain']}"
    s["lead_id"] = sf.Lead.create({"FirstName": "Lena", "LastName": "Park", "Company": f"Parkside {RUN}",
                                   "Email": s["lead_email"], "OwnerId": emea1})["id"]  # fmt: skip
    s["account_id"] = sf.Account.create({"Name": f"Globex {RUN}", "Website": f"https://www.{s['account_domain']}/",
                                         "OwnerId": apac1})["id"]  # fmt: skip

    # Someone who is a lead and already a contact (a common CRM state): converted into that contact and its
    # account, never a second contact.
    s["known_email"] = f"carl@known-{RUN}.com"
    s["known_account_id"] = sf.Account.create({"Name": f"Known {RUN}", "OwnerId": apac1})["id"]
    s["known_contact_id"] = sf.Contact.create({"LastName": "Known", "Email": s["known_email"], "OwnerId": apac1,
                                               "AccountId": s["known_account_id"]})["id"]  # fmt: skip
    s["known_lead_id"] = sf.Lead.create({"LastName": "Known", "Company": f"Known {RUN}", "Email": s["known_email"],
                                         "OwnerId": emea1})["id"]  # fmt: skip
    # The same, but sales' contact has no account: convertLead() cannot merge into it, so the lead stays open.
    s["private_email"] = f"pia@private-{RUN}.com"
    s["private_contact_id"] = sf.Contact.create({"LastName": "Private", "Email": s["private_email"],
                                                 "OwnerId": apac1})["id"]  # fmt: skip
    s["private_lead_id"] = sf.Lead.create({"LastName": "Private", "Company": f"Private {RUN}",
                                           "Email": s["private_email"], "OwnerId": emea1})["id"]  # fmt: skip

    workspaces = [
        _signup(s["lead_email"], first="Lena", last="Park", company=f"Parkside {RUN}", region="eu-west-1"),
        _signup(f"hank@{s['account_domain']}", first="Hank", last="Scorpio", region="ap-southeast-1"),
        _signup(s["personal_email"], first="Sam", last="Solo"),
        _signup(s["duplicate_email"], first="Dana", last="Twice"),
        _signup(s["duplicate_email"], first="Dana", last="Twice", plan="professional"),
        _signup(f"ann@{s['company_domain']}", first="Ann", last="Early", company=f"Acme {RUN}", seats=10),
        _signup(f"bob@{s['company_domain']}", first="Bob", last="Later", company=f"Acme {RUN}"),
        _signup(stale["Email"], first="Stale", last="Owner", region="us-west-2"),
        _signup(s["invalid_email"], first="Ivy", last="Invalid"),
        _signup(s["known_email"], first="Carl", last="Known"),
        _signup(s["private_email"], first="Pia", last="Private"),
    ]
    s["workspaces"] = workspaces
    created = [datetime.fromisoformat(w["created_at"].replace("Z", "+00:00")) for w in workspaces]
    s["interval_end"] = _next_boundary(max(created))
    assert min(created) >= s["interval_end"] - timedelta(minutes=15), "signups straddle an interval: rerun"

    dags_test(dag_env, "ingest_cloud_workspaces", s["interval_end"])
    s["mirror_end"] = s["interval_end"] + timedelta(hours=1)
    dags_test(dag_env, "ingest_salesforce", s["mirror_end"])
    s["first_state"], s["first_run_id"], s["first_errors"] = _dag_run(dag_env, "activate_salesforce")
    s["first_conversions"] = _xcom(dag_env, "activate_salesforce", s["first_run_id"], CONVERT_TASK)
    s["first_gate"] = _xcom(dag_env, "activate_salesforce", s["first_run_id"], "approve_salesforce_changes")
    return s


def test_activation_succeeds_and_every_sync_ran(scenario) -> None:
    assert scenario["first_state"] == "success", scenario["first_errors"]
    runs = _hightouch_runs()
    assert all(runs[sync.slug] for sync in default_syncs().syncs), "every sync ran at least once"
    assert {slug: r[0]["status"] for slug, r in runs.items()} == dict.fromkeys(runs, "success")


def test_below_the_thresholds_the_gate_never_waits(scenario) -> None:
    """New customers only, nothing above a threshold: the gate passes without asking anyone (its cost is measured
    by `make bench`, docs/benchmarks.md); the runs that stop are in test_change_gate.py."""
    verdict = scenario["first_gate"]
    assert verdict["approval"] == "not needed"
    known = {sync.slug for sync in default_syncs().syncs} | {"lead-conversion"}
    assert {plan["sync_slug"] for plan in verdict["plans"]} <= known
    assert any(plan["created"] for plan in verdict["plans"]), verdict["plans"]


def test_existing_lead_is_converted_and_keeps_its_owner(scenario, salesforce) -> None:
    """A real conversion (convertLead), not a status: the Lead is converted into the Contact the contacts sync
    created and its Account, with no opportunity of its own (the pipeline opens one)."""
    lead = _one(salesforce, f"SELECT {CONVERSION_FIELDS}, OwnerId FROM Lead WHERE Id = '{scenario['lead_id']}'")
    contact = _one(salesforce, f"SELECT Id, OwnerId, AccountId FROM Contact WHERE Email = '{scenario['lead_email']}'")
    assert contact["OwnerId"] == scenario["emea1"]
    account = _one(salesforce, f"SELECT Id, OwnerId FROM Account WHERE Website = '{scenario['lead_domain']}'")
    assert contact["AccountId"] == account["Id"]
    assert account["OwnerId"] == scenario["emea1"], "the lead's active owner also owns the new account"
    assert _without(lead, "OwnerId") == {
        "IsConverted": True, "Status": "Closed - Converted", "ConvertedContactId": contact["Id"],
        "ConvertedAccountId": account["Id"], "ConvertedOpportunityId": None,
    }  # fmt: skip
    assert lead["OwnerId"] == scenario["emea1"]
    assert _count(salesforce, f"SELECT Id FROM Opportunity WHERE AccountId = '{account['Id']}'") == 1, "ours only"


def test_existing_account_is_matched_by_domain(scenario, salesforce) -> None:
    domain = scenario["account_domain"]
    contact = _one(salesforce, f"SELECT AccountId, OwnerId FROM Contact WHERE Email = 'hank@{domain}'")
    assert contact["AccountId"] == scenario["account_id"]
    assert contact["OwnerId"] == scenario["apac1"], "the account's owner"
    assert _count(salesforce, f"SELECT Id FROM Account WHERE Website = '{domain}'") == 0, "no second account"
    account = _one(salesforce, f"SELECT Dwh_External_Id__c FROM Account WHERE Id = '{scenario['account_id']}'")
    assert account["Dwh_External_Id__c"] == f"acct-sf-{scenario['account_id']}"
    assert _count(salesforce, f"SELECT Id FROM Opportunity WHERE Dwh_External_Id__c = 'opp-{md5(domain)}'") == 0


def test_personal_domains_create_no_account(scenario, salesforce) -> None:
    contact = _one(salesforce, f"SELECT AccountId FROM Contact WHERE Email = '{scenario['personal_email']}'")
    assert contact["AccountId"] is None
    for domain in ("gmail.com", "outlook.com", "icloud.com", "proton.me"):
        assert _count(salesforce, f"SELECT Id FROM Account WHERE Website = '{domain}'") == 0


def test_duplicate_signups_give_one_contact(scenario, salesforce) -> None:
    contact = _one(salesforce, f"SELECT Workspace_Id__c FROM Contact WHERE Email = '{scenario['duplicate_email']}'")
    assert contact["Workspace_Id__c"] == scenario["workspaces"][3]["workspace_id"], "the first workspace"


def test_two_signups_from_one_company_give_one_account_and_one_opportunity(scenario, salesforce) -> None:
    domain = scenario["company_domain"]
    account = _one(salesforce, f"SELECT Id, Name, OwnerId FROM Account WHERE Website = '{domain}'")
    assert account["Name"] == f"Acme {RUN}"
    assert account["OwnerId"] in scenario["roster"], "no account or lead owner: the regional roster"
    contacts = salesforce.query_all(f"SELECT Email, AccountId FROM Contact WHERE AccountId = '{account['Id']}'")
    assert sorted(c["Email"] for c in contacts["records"]) == [f"ann@{domain}", f"bob@{domain}"]
    opportunity = _one(salesforce, f"SELECT Id, Amount, StageName, OwnerId FROM Opportunity "
                                   f"WHERE AccountId = '{account['Id']}'")  # fmt: skip
    assert (opportunity["Amount"], opportunity["StageName"]) == (1200, "Qualification"), "10 starter seats x 120"
    assert opportunity["OwnerId"] == account["OwnerId"]
    task = _one(salesforce, f"SELECT WhoId, OwnerId, Subject, Status FROM Task WHERE WhatId = '{opportunity['Id']}'")
    ann = _one(salesforce, f"SELECT Id FROM Contact WHERE Email = 'ann@{domain}'")
    assert (task["WhoId"], task["OwnerId"], task["Status"]) == (ann["Id"], account["OwnerId"], "Not Started")
    assert "Ann Early" in task["Subject"]


def test_inactive_lead_owner_falls_back_to_the_roster(scenario, salesforce) -> None:
    stale = scenario["stale_lead"]
    contact = _one(salesforce, f"SELECT OwnerId FROM Contact WHERE Email = '{stale['Email']}'")
    assert contact["OwnerId"] not in scenario["inactive"]
    assert contact["OwnerId"] in scenario["roster"]
    # A personal address: the contact has no account, which convertLead() needs, so the lead stays open for sales.
    assert contact_account(salesforce, stale["Email"]) is None
    lead = _one(salesforce, f"SELECT IsConverted, ConvertedContactId FROM Lead WHERE Id = '{stale['Id']}'")
    assert (lead["IsConverted"], lead["ConvertedContactId"]) == (False, None)


def test_a_lead_who_is_already_a_contact_is_converted_without_a_second_contact(scenario, salesforce) -> None:
    contacts = salesforce.query_all(f"SELECT Id FROM Contact WHERE Email = '{scenario['known_email']}'")["records"]
    assert [c["Id"] for c in contacts] == [scenario["known_contact_id"]]
    lead = _one(salesforce, f"SELECT {CONVERSION_FIELDS} FROM Lead WHERE Id = '{scenario['known_lead_id']}'")
    assert lead == {
        "IsConverted": True, "Status": "Closed - Converted", "ConvertedContactId": scenario["known_contact_id"],
        "ConvertedAccountId": scenario["known_account_id"], "ConvertedOpportunityId": None,
    }  # fmt: skip


def test_a_lead_whose_contact_has_no_account_stays_open_and_fails_nothing(scenario, salesforce) -> None:
    contacts = salesforce.query_all(f"SELECT Id FROM Contact WHERE Email = '{scenario['private_email']}'")["records"]
    assert [c["Id"] for c in contacts] == [scenario["private_contact_id"]]
    lead = _one(salesforce, f"SELECT IsConverted, Status FROM Lead WHERE Id = '{scenario['private_lead_id']}'")
    assert lead == {"IsConverted": False, "Status": "Open - Not Contacted"}
    conversions = scenario["first_conversions"]
    assert conversions["failed"] == 0, conversions
    assert conversions["successful"] >= 2, "the scenario's two convertible leads, and generated ones"


def test_invalid_email_is_quarantined_and_never_synced(scenario, salesforce, warehouse) -> None:
    assert _count(salesforce, f"SELECT Id FROM Contact WHERE Email = '{scenario['invalid_email']}'") == 0
    assert _count(salesforce, f"SELECT Id FROM Lead WHERE Email = '{scenario['invalid_email']}'") == 0
    reasons = warehouse.get_records(
        f"SELECT RECORD:reason::VARCHAR FROM {raw_table('CLOUD_APP.WORKSPACES_QUARANTINE')} "
        "WHERE RECORD:payload:owner:email::VARCHAR = %(email)s",
        parameters={"email": scenario["invalid_email"]},
    )
    assert [r[0] for r in reasons] == ["invalid_email"]


def test_incremental_signups_equal_a_full_rebuild(scenario, dag_env, warehouse) -> None:
    """After an incremental run that adds a new interval, the model holds what a full rebuild computes."""
    new = _signup(f"late@inc-{RUN}.io", first="Inc", last="Remental")
    dags_test(dag_env, "ingest_cloud_workspaces", _next_boundary(datetime.fromisoformat(new["created_at"])))
    dbt = dbt_cli("run", "--select", "int_workspaces_rolled_up", env=dag_env, under=TEST_STATE / f"dbt-{RUN}")
    assert dbt.returncode == 0, dbt.stdout[-3000:]  # the table exists: this run took the incremental path
    incremental = warehouse.get_records(
        "SELECT workspace_id, last_event_id, plan, owner_email FROM ANALYTICS.INTERMEDIATE.INT_WORKSPACES_ROLLED_UP"
    )
    rebuilt = warehouse.get_records(
        "SELECT workspace_id, event_id, plan, owner_email FROM ANALYTICS.STAGING.STG_CLOUD_APP__WORKSPACE_EVENTS "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY created_at DESC, event_id DESC) = 1"
    )
    assert sorted(incremental) == sorted(rebuilt)
    assert new["workspace_id"] in {row[0] for row in incremental}
