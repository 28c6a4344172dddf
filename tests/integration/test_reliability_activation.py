"""Reliability of the activation side, with exact counts: re-runs, rejected rows, a Salesforce outage in the middle
of a sync, and a warehouse restart between DAG runs. Nothing may be lost and nothing may be written twice.

The module crafts two batches of signups, every name carrying RUN (the warehouse, Salesforce and Hightouch are
shared with the other modules, whose rows flow through the same syncs and are only asserted not to duplicate):

- batch A goes through the real DAGs: ingestion, the Salesforce mirror and activate_salesforce, twice; between
  the two runs sales deletes an account, a contact and a lead and merges an account away (README, "Deleted in
  Salesforce"), and colleagues of those companies sign up with batch B;
- the warehouse is restarted; batch B is ingested and built by dbt, then synced one sync at a time through
  ``HightouchSyncOperator`` while Salesforce rejects one account, and while Salesforce is stopped between two
  batches of the contacts sync, each time followed by the retry an Airflow task retry would make.

A failing dbt test stopping every sync is proven under the scheduler in test_airflow_scheduler.py.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dev.hightouch.workspace import sync_ids as emulator_sync_ids
from dev.localcloud.process import PidFile, port_in_use, stop_group
from dev.localcloud.settings import HIGHTOUCH_TOKEN
from include.hightouch.syncs import default_syncs
from include.settings import raw_table, warehouse_names
from tests.conftest import TEST_STATE
from tests.integration.alerts_sink import alerts_about, clear_alerts, fields
from tests.integration.conftest import CLOUD_HOME, TEST_PORTS, dags_test, dbt_cli, dbt_seed, localcloud
from tests.integration.salesforce_fixtures import merge, results
from tests.integration.test_activation import (
    CONVERT_TASK,
    HIGHTOUCH,
    _count,
    _dag_run,
    _hightouch_runs,
    _next_boundary,
    _signup,
    _xcom,
    md5,
)

# Each test's setup runs a DAG or dbt.
pytestmark = [pytest.mark.timeout(1800), pytest.mark.long_running(minutes=6.5)]
RUN = uuid.uuid4().hex[:6]
SYNCS = {sync.slug: sync for sync in default_syncs().syncs}
SYNC_IDS = emulator_sync_ids(default_syncs())
HT_AUTH = {"Authorization": f"Bearer {HIGHTOUCH_TOKEN}"}
SF_FAULTS = f"https://localhost:{TEST_PORTS['LOCALCLOUD_SALESFORCE_PORT']}/_admin/faults"
ZERO = {"addedCount": 0, "changedCount": 0, "removedCount": 0}
# Mirror runs of this module: future intervals of their own, one after the other (the mirror reads up to its end).
MIRROR_BASE = _next_boundary(datetime.now(UTC)) + timedelta(hours=3)
_mirror_runs: list[datetime] = []

BATCH_A = {"a1": ["ann", "bob"], "a2": ["cy"]}  # company domain -> people; plus one personal email
BATCH_B = {"b1": ["dee", "eve"], "b2": ["fay"], "b3": ["gus"]}


def _domain(name: str) -> str:
    return f"rel-{name}-{RUN}.io"


LEAD_OF_INACTIVE_MANAGER = f"cy@{_domain('a2')}"  # batch A's cy has an open lead owned by an inactive manager

# Signed up with batch A; between activation runs 1 and 2 sales deletes the account of `gone` (Salesforce deletes
# dot's contact, the opportunity and the task with it), merges the account of `merged` into an account of its own
# for another domain (SURVIVOR_DOMAIN), and deletes kit's contact; kim is left as she is.
SALES_CHANGES = {"gone": ["dot"], "merged": ["mo"], "kept": ["kim", "kit"]}
SURVIVOR_DOMAIN = _domain("group")
# Sign up with batch B, after those changes: colleagues at `gone` and `merged`, and lee, whose open lead (created
# before run 1) sales deleted before run 2.
LATER_COLLEAGUES = {"gone": ["dan"], "merged": ["max"], "kept": ["lee"]}
LEE = f"lee@{_domain('kept')}"
# What run 2 plans because of the sales changes, and nothing else: the rows of the deleted and merged companies and
# of kit leave their marts (Hightouch leaves Salesforce as it is), the surviving account gets its key, mo's
# contact names it.
RUN_2_PLANNED = {
    "salesforce-accounts": {"addedCount": 0, "changedCount": 0, "removedCount": 2},
    "salesforce-account-keys": {"addedCount": 1, "changedCount": 0, "removedCount": 0},
    "salesforce-contacts": {"addedCount": 0, "changedCount": 1, "removedCount": 2},
    "salesforce-opportunities": {"addedCount": 0, "changedCount": 0, "removedCount": 2},
    "salesforce-outreach-tasks": {"addedCount": 0, "changedCount": 0, "removedCount": 2},
}


def _emails(batch: dict[str, list[str]]) -> list[str]:
    return [f"{person}@{_domain(name)}" for name, people in batch.items() for person in people]


# --- helpers ------------------------------------------------------------------------------------------------


def _signups(batch: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        _signup(f"{person}@{_domain(name)}", first=person.title(), last=f"Rel{RUN}", company=f"Rel {name} {RUN}")
        for name, people in batch.items()
        for person in people
    ]


def _ingest(dag_env: dict[str, str], workspaces: list[dict[str, Any]]) -> list[datetime]:
    """Run ingest_cloud_workspaces for every interval the workspaces were created in (one, unless a boundary fell
    between two signups); return those intervals' ends."""
    ends = sorted({_next_boundary(datetime.fromisoformat(w["created_at"].replace("Z", "+00:00"))) for w in workspaces})
    for end in ends:
        dags_test(dag_env, "ingest_cloud_workspaces", end)
    return ends


def _mirror(dag_env: dict[str, str]) -> None:
    end = MIRROR_BASE + timedelta(minutes=15 * len(_mirror_runs))
    _mirror_runs.append(end)
    dags_test(dag_env, "ingest_salesforce", end)


def _operator(slug: str):
    from include.hightouch.operator import HightouchSyncOperator

    return HightouchSyncOperator(task_id=f"sync_{uuid.uuid4().hex[:6]}", sync_slug=slug, wait_seconds=0.5, timeout=180)


def _runs(slug: str, limit: int = 5) -> list[dict[str, Any]]:
    response = requests.get(
        f"{HIGHTOUCH}/syncs/{SYNC_IDS[slug]}/runs", params={"limit": limit}, headers=HT_AUTH, timeout=10
    )
    response.raise_for_status()
    return response.json()["data"]


def _row_errors(slug: str, run_id: str) -> list[dict[str, str]]:
    response = requests.get(f"{HIGHTOUCH}/syncs/{SYNC_IDS[slug]}/runs/{run_id}/errors", headers=HT_AUTH, timeout=10)
    response.raise_for_status()
    return response.json()["data"]


def _mart_keys(warehouse, slug: str) -> Counter:
    sync = SYNCS[slug]
    return Counter(str(r[0]) for r in warehouse.get_records(f"SELECT {sync.primary_key} FROM {sync.model}"))


def _records(sf, soql: str) -> list[dict[str, Any]]:
    return sf.query_all(soql)["records"]


def _by_external_id(sf, sobject: str, prefix: str) -> Counter:
    """How many live records hold each external id starting with ``prefix``."""
    soql = f"SELECT Dwh_External_Id__c FROM {sobject} WHERE Dwh_External_Id__c LIKE '{prefix}%'"
    return Counter(r["Dwh_External_Id__c"] for r in _records(sf, soql))


def _contact_modstamps(sf) -> dict[str, str]:
    """SystemModstamp of every contact this pipeline keys, by external id."""
    soql = "SELECT Dwh_External_Id__c, SystemModstamp FROM Contact WHERE Dwh_External_Id__c LIKE 'cont-%'"
    return {r["Dwh_External_Id__c"]: r["SystemModstamp"] for r in _records(sf, soql)}


def _per_business_key(sf, domains: list[str], emails: list[str]) -> dict[str, list[int]]:
    """Accounts per domain, contacts per email, opportunities and tasks per new account."""
    accounts = [_records(sf, f"SELECT Id FROM Account WHERE Website = '{d}'") for d in domains]
    opportunities = [
        _records(sf, f"SELECT Id FROM Opportunity WHERE AccountId = '{a[0]['Id']}'") if len(a) == 1 else []
        for a in accounts
    ]
    tasks = [
        len(_records(sf, f"SELECT Id FROM Task WHERE WhatId = '{o[0]['Id']}'")) if len(o) == 1 else 0
        for o in opportunities
    ]
    return {
        "accounts": [len(a) for a in accounts],
        "contacts": [len(_records(sf, f"SELECT Id FROM Contact WHERE Email = '{e}'")) for e in emails],
        "opportunities": [len(o) for o in opportunities],
        "tasks": tasks,
    }


def _modstamps(sf, domains: list[str], emails: list[str]) -> dict[str, str]:
    """SystemModstamp of every record the scenario's signups produced: it changes on any write."""

    def stamps(soql: str, values: list[str]) -> list[dict[str, Any]]:
        quoted = ", ".join(f"'{v}'" for v in values)
        return _records(sf, soql.format(quoted)) if values else []

    accounts = stamps("SELECT Id, SystemModstamp FROM Account WHERE Website IN ({})", domains)
    opportunities = stamps("SELECT Id, SystemModstamp FROM Opportunity WHERE AccountId IN ({})",
                           [a["Id"] for a in accounts])  # fmt: skip
    tasks = stamps("SELECT Id, SystemModstamp FROM Task WHERE WhatId IN ({})", [o["Id"] for o in opportunities])
    contacts = stamps("SELECT Id, SystemModstamp FROM Contact WHERE Email IN ({})", emails)
    return {r["Id"]: r["SystemModstamp"] for r in [*accounts, *contacts, *opportunities, *tasks]}


def _duplicated_mart_keys(warehouse) -> dict[str, tuple[int, int]]:
    """Marts whose COUNT differs from the COUNT DISTINCT of their primary key (expected: none)."""
    counts = {
        s.model: tuple(warehouse.get_first(f"SELECT COUNT(*), COUNT(DISTINCT {s.primary_key}) FROM {s.model}"))
        for s in SYNCS.values()
    }
    return {model: c for model, c in counts.items() if c[0] != c[1]}


def _service_pid(name: str) -> int | None:
    return PidFile(CLOUD_HOME / "run" / f"{name}.pid").read_live_pid()


def _restart_stopped_services() -> None:
    result = localcloud("up", "--only", "s3,snowflake,emulators")
    assert result.returncode == 0, result.stdout + result.stderr


# --- fixtures -----------------------------------------------------------------------------------------------


def _inactive_roster_user(sf, region: str) -> str:
    """The Id of the first inactive account manager of the region's roster (the Salesforce seed has one)."""
    users = _users(sf)
    return next(uid for uid, u in sorted(users.items()) if u["Username"] in _roster(region) and not u["IsActive"])


def _lead_owned_by_inactive_user(sf, email: str, owner_id: str) -> str:
    """A Lead for ``email`` owned by ``owner_id``, an inactive user: Salesforce refuses inactive owners on
    writes, so the owner is activated for the insert and deactivated again (a manager who left after the
    lead was assigned to them)."""
    sf.User.update(owner_id, {"IsActive": True})
    try:
        created = sf.Lead.create({"FirstName": "Cy", "LastName": f"Rel{RUN}", "Company": f"Rel a2 {RUN}",
                                  "Email": email, "OwnerId": owner_id})  # fmt: skip
    finally:
        sf.User.update(owner_id, {"IsActive": False})
    return created["id"]


@pytest.fixture(scope="module")
def first_activation(dag_env, salesforce) -> dict[str, Any]:
    """Batch A through ingestion, the mirror and activate_salesforce (activation run 1 of 2). One person of
    batch A (cy, of a2) has an open Lead owned by the inactive AMER manager of the roster; lee, who signs up later,
    has an open Lead too."""
    _lead_owned_by_inactive_user(salesforce, LEAD_OF_INACTIVE_MANAGER, _inactive_roster_user(salesforce, "AMER"))
    lee_lead = salesforce.Lead.create({"FirstName": "Lee", "LastName": f"Rel{RUN}", "Company": f"Rel kept {RUN}",
                                       "Email": LEE})["id"]  # fmt: skip
    workspaces = [
        *_signups(BATCH_A),
        _signup(f"pat.{RUN}@gmail.com", first="Pat", last=f"Rel{RUN}"),
        *_signups(SALES_CHANGES),
    ]
    _ingest(dag_env, workspaces)
    _mirror(dag_env)
    state, _, errors = _dag_run(dag_env, "activate_salesforce")
    return {
        "state": state,
        "errors": errors,
        "domains": [_domain(name) for name in BATCH_A],
        "emails": [*_emails(BATCH_A), f"pat.{RUN}@gmail.com"],
        "lee_lead": lee_lead,
    }


def _one_id(sf, soql: str) -> str:
    records = _records(sf, soql)
    assert len(records) == 1, f"{soql} -> {records}"
    return records[0]["Id"]


def _sales_changes(sf, lee_lead: str) -> dict[str, str]:
    """What sales does between runs 1 and 2 (SALES_CHANGES); returns the Ids involved."""
    changed = {
        "gone_account": _one_id(sf, f"SELECT Id FROM Account WHERE Website = '{_domain('gone')}'"),
        "gone_contact": _one_id(sf, f"SELECT Id FROM Contact WHERE Email = 'dot@{_domain('gone')}'"),
        "merged_account": _one_id(sf, f"SELECT Id FROM Account WHERE Website = '{_domain('merged')}'"),
        "kit_contact": _one_id(sf, f"SELECT Id FROM Contact WHERE Email = 'kit@{_domain('kept')}'"),
        "lee_lead": lee_lead,
    }
    apac = _one_id(sf, "SELECT Id FROM User WHERE Username = 'haruto.sato@example.com'")
    changed["survivor"] = sf.Account.create({"Name": f"Rel group {RUN}", "Website": SURVIVOR_DOMAIN,
                                             "OwnerId": apac})["id"]  # fmt: skip
    sf.Account.delete(changed["gone_account"])
    soap = f"https://localhost:{TEST_PORTS['LOCALCLOUD_SALESFORCE_PORT']}/services/Soap/u/59.0"
    status, answer = merge(sf.session_id, ("Account", {"Id": changed["survivor"]}, [changed["merged_account"]]),
                           url=soap)  # fmt: skip
    assert status == 200
    assert [r["success"] for r in results(answer, "mergeResponse")] == [True]
    sf.Contact.delete(changed["kit_contact"])
    sf.Lead.delete(lee_lead)
    return changed


def _latest_raw_version(warehouse, table: str, record_id: str) -> dict[str, Any] | None:
    """IsDeleted and MasterRecordId of the newest version of a record in a raw Salesforce table."""
    row = warehouse.get_first(
        "SELECT RECORD:payload:IsDeleted::BOOLEAN, RECORD:payload:MasterRecordId::VARCHAR "
        f"FROM {raw_table(table)} WHERE RECORD:payload:Id::VARCHAR = %(id)s "
        "ORDER BY RECORD:payload:SystemModstamp::VARCHAR DESC LIMIT 1",
        parameters={"id": record_id},
    )
    return {"IsDeleted": row[0], "MasterRecordId": row[1]} if row else None


def _staged_ids(warehouse, model: str, column: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` the staging model holds."""
    quoted = ", ".join(f"'{i}'" for i in ids)
    sql = f"SELECT {column} FROM ANALYTICS.STAGING.{model} WHERE {column} IN ({quoted})"
    return {r[0] for r in warehouse.get_records(sql)}


def _deleted_in_salesforce(sf) -> set[str]:
    """Ids and external ids of every record in the recycle bin whose external id no live record holds."""
    deleted: set[str] = set()
    for sobject in ("Account", "Contact", "Lead", "Opportunity", "Task"):
        field = "" if sobject == "Lead" else ", Dwh_External_Id__c"
        records = sf.query_all(f"SELECT Id, IsDeleted{field} FROM {sobject}", include_deleted=True)["records"]
        live = {r.get("Dwh_External_Id__c") for r in records if not r["IsDeleted"]}
        for record in records:
            if record["IsDeleted"]:
                deleted.add(record["Id"])
                if record.get("Dwh_External_Id__c") and record["Dwh_External_Id__c"] not in live:
                    deleted.add(record["Dwh_External_Id__c"])
    return deleted


def _targets(warehouse) -> dict[str, set[str]]:
    """Per sync, every record its mart writes to or refers to: primary keys and parent references."""
    targets = {}
    for slug, sync in SYNCS.items():
        columns = [sync.primary_key, *(ref.column for ref in sync.parent_references)]
        rows = warehouse.get_records(f"SELECT {', '.join(columns)} FROM {sync.model}")
        targets[slug] = {str(value) for row in rows for value in row if value is not None}
    return targets


CONVERTED_LEADS = "SELECT Id FROM Lead WHERE IsConverted = true"


@pytest.fixture(scope="module")
def rerun(first_activation, dag_env, salesforce, warehouse) -> dict[str, Any]:
    """Sales deletes and merges records of batch A (SALES_CHANGES); the mirror brings them and the first run's
    writes back, then activate_salesforce runs again (run 2 of 2)."""
    assert first_activation["state"] == "success", first_activation["errors"]
    domains, emails = first_activation["domains"], first_activation["emails"]
    before = {
        "records": _per_business_key(salesforce, domains, emails),
        "modstamps": _modstamps(salesforce, domains, emails),
        "runs": {slug: {r["id"] for r in runs} for slug, runs in _hightouch_runs().items()},
        "converted": _count(salesforce, CONVERTED_LEADS),
    }
    changed = _sales_changes(salesforce, first_activation["lee_lead"])
    _mirror(dag_env)
    state, run_id, errors = _dag_run(dag_env, "activate_salesforce")
    assert state == "success", errors
    runs = _hightouch_runs()
    return {
        **first_activation,
        "before": before,
        "changed": changed,
        "conversions": _xcom(dag_env, "activate_salesforce", run_id, CONVERT_TASK),
        "converted": _count(salesforce, CONVERTED_LEADS),
        "new_runs": {slug: [r for r in runs[slug] if r["id"] not in before["runs"][slug]] for slug in runs},
        "records": _per_business_key(salesforce, domains, emails),
        "modstamps": _modstamps(salesforce, domains, emails),
        "duplicated_mart_keys": _duplicated_mart_keys(warehouse),
        "mart_keys": {slug: _mart_keys(warehouse, slug) for slug in SYNCS},
        "raw": {
            "gone_account": _latest_raw_version(warehouse, "SALESFORCE.ACCOUNTS", changed["gone_account"]),
            "merged_account": _latest_raw_version(warehouse, "SALESFORCE.ACCOUNTS", changed["merged_account"]),
            "kit_contact": _latest_raw_version(warehouse, "SALESFORCE.CONTACTS", changed["kit_contact"]),
            "lee_lead": _latest_raw_version(warehouse, "SALESFORCE.LEADS", changed["lee_lead"]),
        },
        "staged": {
            "accounts": _staged_ids(
                warehouse,
                "STG_SALESFORCE__ACCOUNTS",
                "account_id",
                [changed["gone_account"], changed["merged_account"]],
            ),
            "contacts": _staged_ids(
                warehouse, "STG_SALESFORCE__CONTACTS", "contact_id", [changed["gone_contact"], changed["kit_contact"]]
            ),
            "leads": _staged_ids(warehouse, "STG_SALESFORCE__LEADS", "lead_id", [changed["lee_lead"]]),
        },
        "deleted": _deleted_in_salesforce(salesforce),
        "targets": _targets(warehouse),
    }


def _warehouse_tables(warehouse) -> list[str]:
    """Every table and view of the raw, staging, intermediate and mart schemas."""
    names = []
    databases = warehouse_names()
    for database, schemas in (
        (databases.raw_database, ("CLOUD_APP", "SALESFORCE")),
        (databases.analytics_database, ("STAGING", "INTERMEDIATE", "MARTS")),
    ):
        for kind in ("tables", "views"):
            rows = warehouse.get_records(
                f"SELECT table_schema, table_name FROM {database}.information_schema.{kind} "
                f"WHERE table_schema IN ({', '.join(repr(s) for s in schemas)})"
            )
            names += [f"{database}.{schema}.{table}".upper() for schema, table in rows]
    return sorted(set(names))


def _table_counts(warehouse, tables: list[str]) -> dict[str, int]:
    return {table: warehouse.get_first(f"SELECT COUNT(*) FROM {table}")[0] for table in tables}


def _raw_events(warehouse) -> list[tuple[str, str]]:
    """(interval_end, event_id) of every raw cloud-app row."""
    return warehouse.get_records(
        "SELECT RECORD:interval_end::VARCHAR, RECORD:payload:event_id::VARCHAR "
        f"FROM {raw_table('CLOUD_APP.WORKSPACES')}"
    )


def _signup_ids(warehouse) -> Counter:
    return Counter(
        r[0] for r in warehouse.get_records("SELECT workspace_id FROM ANALYTICS.INTERMEDIATE.INT_WORKSPACES_ROLLED_UP")
    )


@pytest.fixture(scope="module")
def warehouse_restart(rerun, dag_env, warehouse) -> dict[str, Any]:
    """Counts, a warehouse restart, the same counts; then batch B: its interval ingested and dbt built (no sync)."""
    tables = _warehouse_tables(warehouse)
    assert {raw_table("CLOUD_APP.WORKSPACES"), "ANALYTICS.INTERMEDIATE.INT_WORKSPACES_ROLLED_UP",
            "ANALYTICS.MARTS.SYNC_SALESFORCE_CONTACTS"} <= set(tables), tables  # fmt: skip
    before = {
        "counts": _table_counts(warehouse, tables),
        "raw": _raw_events(warehouse),
        "signups": _signup_ids(warehouse),
        "marts": {slug: _mart_keys(warehouse, slug) for slug in SYNCS},
    }
    old_pid = _service_pid("snowflake")
    assert old_pid is not None
    try:
        stop_group(old_pid)
        down = not port_in_use(int(TEST_PORTS["LOCALCLOUD_SNOWFLAKE_PORT"]))
    finally:
        _restart_stopped_services()
    assert down, "the warehouse was really stopped"
    new_pid = _service_pid("snowflake")
    restarted = {"counts": _table_counts(warehouse, tables), "signups": _signup_ids(warehouse)}

    workspaces = [*_signups(BATCH_B), *_signups(LATER_COLLEAGUES)]
    ends = _ingest(dag_env, workspaces)
    dbt = dbt_cli("run", env=dag_env, under=TEST_STATE / f"dbt-{RUN}", timeout=600)
    assert dbt.returncode == 0, dbt.stdout[-4000:]
    after = {
        "counts": _table_counts(warehouse, tables),
        "raw": _raw_events(warehouse),
        "signups": _signup_ids(warehouse),
        "marts": {slug: _mart_keys(warehouse, slug) for slug in SYNCS},
    }
    return {
        "pids": (old_pid, new_pid),
        "before": before,
        "restarted": restarted,
        "after": after,
        "ends": [end.isoformat() for end in ends],
        "workspaces": workspaces,
        "domains": [_domain(name) for name in BATCH_B],
        "emails": _emails(BATCH_B),
    }


# --- tests --------------------------------------------------------------------------------------------------


EXPECTED_A = {"accounts": [1, 1], "contacts": [1, 1, 1, 1], "opportunities": [1, 1], "tasks": [1, 1]}


def test_first_activation_writes_one_record_per_business_key(first_activation, salesforce) -> None:
    assert first_activation["state"] == "success", first_activation["errors"]
    assert _per_business_key(salesforce, first_activation["domains"], first_activation["emails"]) == EXPECTED_A
    assert _per_business_key(salesforce, [_domain(name) for name in SALES_CHANGES], _emails(SALES_CHANGES)) == {
        "accounts": [1, 1, 1], "contacts": [1, 1, 1, 1], "opportunities": [1, 1, 1], "tasks": [1, 1, 1]
    }  # fmt: skip


def test_rerunning_activation_duplicates_nothing(rerun) -> None:
    # Marts: one row per external id in every sync's model.
    assert rerun["duplicated_mart_keys"] == {}
    for domain in rerun["domains"]:
        assert rerun["mart_keys"]["salesforce-accounts"][f"acct-{md5(domain)}"] == 1
        assert rerun["mart_keys"]["salesforce-opportunities"][f"opp-{md5(domain)}"] == 1
        assert rerun["mart_keys"]["salesforce-outreach-tasks"][f"task-{md5(domain)}"] == 1
    for email in rerun["emails"]:
        assert rerun["mart_keys"]["salesforce-contacts"][f"cont-{md5(email)}"] == 1
    # Salesforce: one account per domain, one contact per email, one opportunity and one task per new account,
    # after the first run and still after the second.
    assert rerun["before"]["records"] == EXPECTED_A
    assert rerun["records"] == EXPECTED_A
    # The second run planned only what the sales changes call for (everything else was unchanged) and wrote none
    # of batch A's records.
    assert {slug: [(r["status"], r["plannedRows"]) for r in runs] for slug, runs in rerun["new_runs"].items()} == {
        slug: [("success", RUN_2_PLANNED.get(slug, ZERO))] for slug in SYNCS
    }
    assert len(rerun["modstamps"]) == 2 + 4 + 2 + 2
    assert rerun["modstamps"] == rerun["before"]["modstamps"]
    # The mirror has seen run 1's conversion (cy's lead): no lead is planned again, none converted twice.
    conversions = rerun["conversions"]
    assert (conversions["planned"], conversions["successful"], conversions["failed"]) == (0, 0, 0), conversions
    assert rerun["converted"] == rerun["before"]["converted"]


def test_a_deletion_in_salesforce_reaches_the_warehouse_and_no_sync_targets_it(rerun, salesforce) -> None:
    """Sales deleted an account (and with it a contact, an opportunity and a task), a contact and a lead, and
    merged an account away: the raw tables hold them as deleted, staging drops them, no mart writes to or refers to
    any record in the recycle bin, and the run after it ended with every sync `success` (no failing row)."""
    changed = rerun["changed"]
    assert rerun["raw"] == {
        "gone_account": {"IsDeleted": True, "MasterRecordId": None},
        "merged_account": {"IsDeleted": True, "MasterRecordId": changed["survivor"]},
        "kit_contact": {"IsDeleted": True, "MasterRecordId": None},
        "lee_lead": {"IsDeleted": True, "MasterRecordId": None},
    }
    assert rerun["staged"] == {"accounts": set(), "contacts": set(), "leads": set()}
    assert {changed["gone_account"], changed["gone_contact"], changed["kit_contact"], changed["lee_lead"],
            f"acct-{md5(_domain('gone'))}", f"cont-{md5('kit@' + _domain('kept'))}"} <= rerun["deleted"]  # fmt: skip
    assert {slug: targets & rerun["deleted"] for slug, targets in rerun["targets"].items()} == {
        slug: set() for slug in SYNCS
    }
    for runs in rerun["new_runs"].values():
        assert [(r["status"], r["failedRows"]) for r in runs] == [("success", ZERO)]
    # Nothing was created again; the merged company has the surviving account, which now carries the key.
    assert not _records(salesforce, f"SELECT Id FROM Account WHERE Website = '{_domain('gone')}'")
    assert not _records(salesforce, f"SELECT Id FROM Contact WHERE Email = 'kit@{_domain('kept')}'")
    survivor = _records(salesforce, f"SELECT Dwh_External_Id__c FROM Account WHERE Id = '{changed['survivor']}'")
    assert survivor[0]["Dwh_External_Id__c"] == f"acct-sf-{changed['survivor']}"
    mo = _records(salesforce, f"SELECT AccountId FROM Contact WHERE Email = 'mo@{_domain('merged')}'")
    assert [c["AccountId"] for c in mo] == [changed["survivor"]]


def test_a_warehouse_restart_between_dag_runs_loses_nothing(warehouse_restart) -> None:
    w = warehouse_restart
    old_pid, new_pid = w["pids"]
    assert new_pid not in (None, old_pid)
    # Restarted: every raw, staging, intermediate and mart relation holds exactly what it held.
    assert w["restarted"]["counts"] == w["before"]["counts"]
    assert w["restarted"]["signups"] == w["before"]["signups"]

    # The next interval is added to the old rows: rows of other intervals untouched, the new interval's once each.
    ends = set(w["ends"])

    def outside(rows: list[tuple[str, str]]) -> Counter:
        return Counter(event for end, event in rows if end not in ends)

    def inside(rows: list[tuple[str, str]]) -> Counter:
        return Counter(event for end, event in rows if end in ends)

    before_raw, after_raw = w["before"]["raw"], w["after"]["raw"]
    assert outside(after_raw) == outside(before_raw)
    assert max(inside(after_raw).values()) == 1
    assert set(inside(before_raw)) <= set(inside(after_raw))
    batch_b = {ws["event_id"] for ws in w["workspaces"]}
    assert batch_b <= set(inside(after_raw))
    counts_before, counts_after = w["before"]["counts"], w["after"]["counts"]
    assert (
        counts_after[raw_table("CLOUD_APP.WORKSPACES")]
        == len(after_raw)
        == (sum(outside(before_raw).values()) + len(inside(after_raw)))
    )
    workspaces = raw_table("CLOUD_APP.WORKSPACES")
    assert counts_after[workspaces] >= counts_before[workspaces] + len(batch_b)
    # The mirror did not run: its tables are as they were.
    for table, count in counts_before.items():
        if table.startswith(f"{raw_table('SALESFORCE')}."):
            assert counts_after[table] == count, table

    # The incremental model kept every workspace it had and added the new ones, once each.
    signups_before, signups_after = w["before"]["signups"], w["after"]["signups"]
    assert max(signups_after.values()) == 1
    assert set(signups_before) <= set(signups_after)
    assert {ws["workspace_id"] for ws in w["workspaces"]} <= set(signups_after) - set(signups_before)
    assert sum(signups_after.values()) == counts_after["ANALYTICS.INTERMEDIATE.INT_WORKSPACES_ROLLED_UP"]

    # Marts: every decision made before is still there, each key once, and batch B's decisions were added.
    for slug, keys in w["after"]["marts"].items():
        assert max(keys.values(), default=1) == 1, slug
        assert set(w["before"]["marts"][slug]) <= set(keys), slug
    for domain in w["domains"]:
        for slug, prefix in (("salesforce-accounts", "acct"), ("salesforce-opportunities", "opp"),
                             ("salesforce-outreach-tasks", "task")):  # fmt: skip
            assert f"{prefix}-{md5(domain)}" in set(w["after"]["marts"][slug]) - set(w["before"]["marts"][slug])
    for email in w["emails"]:
        assert f"cont-{md5(email)}" in set(w["after"]["marts"]["salesforce-contacts"])


def _sf_session(sf) -> dict[str, str]:
    return {"Authorization": f"Bearer {sf.session_id}"}


def test_rejected_rows_fail_the_task_and_the_retry_adds_no_duplicates(warehouse_restart, salesforce, warehouse):
    from airflow.sdk.exceptions import AirflowException

    slug = "salesforce-accounts"
    rejected = _domain("b2")
    key = f"acct-{md5(rejected)}"
    fault = {"match": rejected, "object": "Account", "status_code": "UNABLE_TO_LOCK_ROW"}
    requests.post(SF_FAULTS, json=fault, headers=_sf_session(salesforce), timeout=10).raise_for_status()
    try:
        with pytest.raises(AirflowException) as failed:
            _operator(slug).execute({})
    finally:
        requests.delete(SF_FAULTS, headers=_sf_session(salesforce), timeout=10).raise_for_status()
    run = _runs(slug, 1)[0]
    alert = _alert_for(failed.value, "activate_salesforce", f"sync_{slug.replace('-', '_')}")
    assert f"Hightouch sync {slug} (id {SYNC_IDS[slug]}) run {run['id']} ended with status warning" in alert
    run_page = fields(alert)["Hightouch run"]
    assert run_page.endswith(f"/app/syncs/{SYNC_IDS[slug]}/runs/{run['id']}")
    assert requests.get(run_page, timeout=10).json()["id"] == run["id"], "the link leads to the run"
    planned = run["plannedRows"]["addedCount"]
    assert planned >= 3, "batch B's three new accounts are pending"
    assert (run["status"], run["failedRows"], run["successfulRows"]["addedCount"]) == (
        "warning",
        {"addedCount": 1, "changedCount": 0, "removedCount": 0},
        planned - 1,
    )
    assert str(failed.value).startswith(
        f"Hightouch sync {slug} (id {SYNC_IDS[slug]}) run {run['id']} ended with status warning: 1 failed row "
        f"(added=1 changed=0 removed=0); Hightouch error: 1 of {planned} rows failed; first: {key}: UNABLE_TO_LOCK_ROW"
    )
    assert [e["primaryKey"] for e in _row_errors(slug, run["id"])] == [key]

    def counts() -> list[int]:
        return [len(_records(salesforce, f"SELECT Id FROM Account WHERE Website = '{d}'"))
                for d in warehouse_restart["domains"]]  # fmt: skip

    assert counts() == [1, 0, 1]
    written = _modstamps(salesforce, [_domain("b1"), _domain("b3")], [])

    # The retry (the task's next try) sends only the rejected row; the accounts written before are not touched.
    retry = _operator(slug).execute({})
    assert (retry["status"], retry["planned_rows"], retry["successful_rows"], retry["failed_rows"]) == (
        "success",
        {"added": 1, "changed": 0, "removed": 0},
        {"added": 1, "changed": 0, "removed": 0},
        {"added": 0, "changed": 0, "removed": 0},
    )
    assert counts() == [1, 1, 1]
    assert _modstamps(salesforce, [_domain("b1"), _domain("b3")], []) == written
    in_salesforce = _by_external_id(salesforce, "Account", "acct-")
    assert {k: in_salesforce[k] for k in _mart_keys(warehouse, slug)} == dict.fromkeys(_mart_keys(warehouse, slug), 1)


def _alert_for(error: BaseException, dag_id: str, task_id: str) -> str:
    """Hand a task's failure to the pipeline's failure notifier, as Airflow does after the last try, and return
    the one message the local cloud's alerts webhook received for it."""
    from types import SimpleNamespace

    from include.alerts import PipelineFailureNotifier

    clear_alerts()
    ti = SimpleNamespace(dag_id=dag_id, task_id=task_id, run_id=f"manual__{RUN}", try_number=4, max_tries=3,
                         log_url=f"http://localhost:8080/dags/{dag_id}/runs/manual__{RUN}/tasks/{task_id}")  # fmt: skip
    PipelineFailureNotifier()({"ti": ti, "exception": error})
    [alert] = alerts_about(f"{dag_id}.{task_id}")
    assert fields(alert)["Run"] == f"manual__{RUN} (try 4 of 4)"
    assert fields(alert)["Task in Airflow"] == ti.log_url
    return alert


def test_a_lead_salesforce_refuses_to_convert_alerts_with_salesforces_error(salesforce) -> None:
    """A duplicate rule blocks one planned conversion: the conversion fails the task after trying every lead, and
    the alert carries Salesforce's status code and message."""
    from airflow.sdk.exceptions import AirflowException

    from include.salesforce import conversion

    sf, domain = salesforce, f"dupe-alert-{RUN}.io"
    account = sf.Account.create({"Name": f"Dupe {RUN}", "Website": domain})["id"]
    contact = sf.Contact.create({"LastName": "Dupe", "Email": f"ann@{domain}", "AccountId": account})["id"]
    lead = sf.Lead.create({"LastName": "Dupe", "Company": f"Dupe {RUN}", "Email": f"ann@{domain}"})["id"]

    class Mart:  # the conversions mart, planning this one lead
        def get_records(self, sql: str) -> list[tuple]:
            return [(lead, "Closed - Converted", None, contact, None, account, None)]

    rule = {"match": domain, "object": "Lead", "status_code": "DUPLICATES_DETECTED",
            "message": "Use one of these records?"}  # fmt: skip
    requests.post(SF_FAULTS, json=rule, headers=_sf_session(sf), timeout=10).raise_for_status()
    try:
        with pytest.raises(AirflowException) as failed:
            conversion.run(sf, Mart())  # type: ignore[arg-type]
    finally:
        requests.delete(SF_FAULTS, headers=_sf_session(sf), timeout=10).raise_for_status()
    alert = _alert_for(failed.value, "activate_salesforce", "convert_salesforce_leads")
    assert f"lead {lead}: DUPLICATES_DETECTED: Use one of these records?" in alert
    assert sf.Lead.get(lead)["IsConverted"] is False


def test_salesforce_stopped_mid_sync_then_restarted_the_retry_completes_without_duplicates(
    warehouse_restart, salesforce, warehouse
) -> None:
    from airflow.sdk.exceptions import AirflowException

    for parent in ("salesforce-accounts", "salesforce-account-keys"):  # done already if the previous test ran
        assert _operator(parent).execute({})["status"] == "success"
    slug = "salesforce-contacts"
    seen = {r["id"] for r in _runs(slug, 100)}
    outcome: dict[str, Any] = {}

    def run_task() -> None:
        try:
            outcome["result"] = _operator(slug).execute({})
        except Exception as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    pacing = {"batchSize": 2, "pauseSeconds": 8}
    requests.put(f"{HIGHTOUCH}/_admin/pacing", json=pacing, headers=HT_AUTH, timeout=10).raise_for_status()
    task = threading.Thread(target=run_task, daemon=True)
    old_pid = _service_pid("salesforce")
    try:
        task.start()
        deadline = time.monotonic() + 120
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:  # until the run has written its first batch
            run = _runs(slug, 1)[0]
            if run["id"] not in seen and run["status"] == "processing" and run["completionRatio"] > 0:
                break
            time.sleep(0.1)
        assert (run.get("status"), run.get("completionRatio", 0) > 0) == ("processing", True), run
        assert old_pid is not None
        stop_group(old_pid)
        task.join(timeout=120)
    finally:
        requests.delete(f"{HIGHTOUCH}/_admin/pacing", headers=HT_AUTH, timeout=10).raise_for_status()
        _restart_stopped_services()
    assert not task.is_alive()
    assert _service_pid("salesforce") not in (None, old_pid)

    run = _runs(slug, 1)[0]
    planned = run["plannedRows"]["addedCount"]
    assert planned >= len(warehouse_restart["emails"])
    assert (run["status"], run["successfulRows"]["addedCount"], run["failedRows"]["addedCount"]) == (
        "warning",
        2,
        planned - 2,
    ), run
    error = outcome.get("error")
    assert isinstance(error, AirflowException), outcome
    assert str(error).startswith(
        f"Hightouch sync {slug} (id {SYNC_IDS[slug]}) run {run['id']} ended with status warning: {planned - 2} failed "
        f"rows (added={planned - 2} changed=0 removed=0); Hightouch error: {planned - 2} of {planned} rows failed; "
        "Salesforce unreachable: "
    )
    failed_keys = {e["primaryKey"] for e in _row_errors(slug, run["id"])}
    assert len(failed_keys) == planned - 2
    # What reached Salesforce before the outage: every contact key the model holds, except the failed ones.
    mart = _mart_keys(warehouse, slug)
    written = _contact_modstamps(salesforce)
    assert set(mart) - set(written) == failed_keys

    # The retry sends exactly the rows that failed; the two written before the outage are not sent again.
    retry = _operator(slug).execute({})
    assert (retry["status"], retry["planned_rows"]["added"], retry["successful_rows"]["added"]) == (
        "success",
        planned - 2,
        planned - 2,
    )
    after = _by_external_id(salesforce, "Contact", "cont-")
    assert {k: after[k] for k in mart} == dict.fromkeys(mart, 1)
    assert {k: v for k, v in _contact_modstamps(salesforce).items() if k in written} == written

    # The rest of the syncs complete batch B: one record per business key, nothing doubled.
    for rest in ("salesforce-opportunities", "salesforce-outreach-tasks"):
        assert _operator(rest).execute({})["status"] == "success"
    assert _per_business_key(salesforce, warehouse_restart["domains"], warehouse_restart["emails"]) == {
        "accounts": [1, 1, 1],
        "contacts": [1, 1, 1, 1],
        "opportunities": [1, 1, 1],
        "tasks": [1, 1, 1],
    }


def test_later_signups_follow_the_deletions_and_the_merge(rerun, warehouse_restart, salesforce, warehouse) -> None:
    """Colleagues sign up after sales deleted or merged their company's account (batch B): each sync runs with no
    failing row (the tests above ran them already; then nothing is planned), the colleague of the deleted company
    gets nothing, the colleague of the merged one a contact on the surviving account, and lee a contact while the
    lead sales deleted stays deleted and unconverted. The activation run of the next test then plans nothing."""
    for slug in SYNCS:
        result = _operator(slug).execute({})
        assert (result["status"], result["failed_rows"]) == ("success", {"added": 0, "changed": 0, "removed": 0})
    changed = rerun["changed"]
    assert not salesforce.query_all(f"SELECT Id FROM Contact WHERE Email = 'dan@{_domain('gone')}'",
                                    include_deleted=True)["records"], "never created"  # fmt: skip
    assert not _records(salesforce, f"SELECT Id FROM Account WHERE Website = '{_domain('gone')}'")
    max_contact = _records(salesforce, f"SELECT AccountId FROM Contact WHERE Email = 'max@{_domain('merged')}'")
    assert [c["AccountId"] for c in max_contact] == [changed["survivor"]]
    kept = _one_id(salesforce, f"SELECT Id FROM Account WHERE Website = '{_domain('kept')}'")
    assert [c["AccountId"] for c in _records(salesforce, f"SELECT AccountId FROM Contact WHERE Email = '{LEE}'")] == [
        kept
    ]
    lead = salesforce.query_all(f"SELECT IsDeleted, Status FROM Lead WHERE Id = '{changed['lee_lead']}'",
                                include_deleted=True)["records"]  # fmt: skip
    assert [(r["IsDeleted"], r["Status"]) for r in lead] == [(True, "Open - Not Contacted")]
    assert f"cont-{md5('dan@' + _domain('gone'))}" not in _mart_keys(warehouse, "salesforce-contacts")
    deleted = _deleted_in_salesforce(salesforce)
    assert {slug: targets & deleted for slug, targets in _targets(warehouse).items()} == {slug: set() for slug in SYNCS}


OWNED_BY_MANAGERS = ("salesforce-accounts", "salesforce-contacts", "salesforce-opportunities",
                     "salesforce-outreach-tasks")  # fmt: skip


def _mart_owners(warehouse) -> dict[str, dict[str, str]]:
    """Owner of every row of the marts that assign one, by primary key."""
    owners = {}
    for slug in OWNED_BY_MANAGERS:
        sql = f"SELECT {SYNCS[slug].primary_key}, OWNER_ID FROM {SYNCS[slug].model}"
        owners[slug] = {str(key): owner for key, owner in warehouse.get_records(sql)}
    return owners


def _roster(region: str) -> set[str]:
    return {row["username"] for row in dbt_seed("account_manager_roster") if row["sales_region"] == region}


def _users(sf) -> dict[str, dict[str, Any]]:
    return {u["Id"]: u for u in _records(sf, "SELECT Id, Username, IsActive FROM User")}


def _activation_after_roster_change(dag_env, salesforce, warehouse, active: dict[str, bool]) -> dict[str, Any]:
    """Set users' IsActive, mirror, run activate_salesforce; then restore the users (and mirror them back) so the
    modules after this one see the seed's roster. Returns the marts' owners before/after and the new sync runs."""
    before = _mart_owners(warehouse)
    seen = {slug: {r["id"] for r in runs} for slug, runs in _hightouch_runs().items()}
    for user_id, is_active in active.items():
        salesforce.User.update(user_id, {"IsActive": is_active})
    try:
        _mirror(dag_env)
        state, _, errors = _dag_run(dag_env, "activate_salesforce")
        after = _mart_owners(warehouse)
        runs = _hightouch_runs()
    finally:
        for user_id, is_active in active.items():
            salesforce.User.update(user_id, {"IsActive": not is_active})
        _mirror(dag_env)
    assert state == "success", errors
    new_runs = {
        slug: [(r["status"], r["plannedRows"]) for r in runs[slug] if r["id"] not in seen[slug]] for slug in runs
    }
    return {"before": before, "after": after, "new_runs": new_runs}


def test_a_roster_change_moves_only_the_departed_managers_customers(
    warehouse_restart, dag_env, salesforce, warehouse
) -> None:
    """In one mirror and one run, the AMER manager who owns the a1 customer leaves and the region's inactive roster
    manager joins. The joiner alone would re-deal most of the region's customers (the rotation grows, index i goes
    from slot i % 2 to i % 3), and a contact whose lead they owned while inactive would go to them: owners already
    given stand, so only the departed manager's customers move, to active managers, and every sync plans exactly
    the moved rows."""
    users = _users(salesforce)
    departed = _mart_owners(warehouse)["salesforce-accounts"][f"acct-{md5(_domain('a1'))}"]
    assert users[departed]["IsActive"], users[departed]
    assert users[departed]["Username"] in _roster("AMER"), users[departed]
    joining = _inactive_roster_user(salesforce, "AMER")
    led_contact = f"cont-{md5(LEAD_OF_INACTIVE_MANAGER)}"
    result = _activation_after_roster_change(dag_env, salesforce, warehouse, {departed: False, joining: True})
    before, after = result["before"], result["after"]
    # Including the contact whose lead the joining manager owned while inactive: it kept the owner it was given.
    assert before["salesforce-contacts"][led_contact] != joining

    active = ({user_id for user_id, user in users.items() if user["IsActive"]} | {joining}) - {departed}
    for slug in OWNED_BY_MANAGERS:
        moved = {key for key, owner in before[slug].items() if owner == departed}
        assert moved, f"{slug}: the departed manager owned the a1 customer's records"
        assert set(after[slug]) == set(before[slug]), slug
        kept = {key: owner for key, owner in before[slug].items() if key not in moved}
        assert {key: after[slug][key] for key in kept} == kept, f"{slug}: an active manager's customer moved"
        assert {after[slug][key] for key in moved} <= active, slug
        assert result["new_runs"][slug] == [
            ("success", {"addedCount": 0, "changedCount": len(moved), "removedCount": 0})
        ], slug
    for slug in set(SYNCS) - set(OWNED_BY_MANAGERS):
        assert result["new_runs"][slug] == [("success", ZERO)], slug
    # In Salesforce: the a1 customer's account now belongs to an active manager of its region (a departed
    # manager's records are re-routed to whoever the rules pick now, and stay there once they are written).
    soql = f"SELECT OwnerId FROM Account WHERE Website = '{_domain('a1')}'"
    owners = [a["OwnerId"] for a in _records(salesforce, soql)]
    assert len(owners) == 1, owners
    assert users[owners[0]]["Username"] in _roster("AMER") - {users[departed]["Username"]}
