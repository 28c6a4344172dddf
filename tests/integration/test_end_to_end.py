"""`make demo`'s flow on the test cloud, with the real scheduler, asserted against an independent oracle.

A small scenario (CRM records created through the Salesforce API, signups through the cloud app API) is run
by `python -m dev.demo` exactly as `make demo` runs it: the scheduler ingests the interval, both Assets trigger
`activate_salesforce`, dbt decides, Hightouch writes. The expected Salesforce state is computed here, in
Python, from the scenario and the business rules as the README states them (the seeds are configuration,
read as files), never from the pipeline's tables; then the final Salesforce records of the scenario must equal
it field by field. (That a second activation changes nothing already in Salesforce is
test_reliability_activation.py's test_rerunning_activation_duplicates_nothing, on the same DAG.)

The ingestions run every minute in this module (instead of 15), so the scenario's interval closes at once; their
runs of the next minutes are stopped as they come, so they do not trigger activations beside the demo's.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from publicsuffixlist import PublicSuffixList

from dev.localcloud.airflow_api import parse_time
from dev.localcloud.settings import CLOUD_APP_TOKEN
from include.hightouch.syncs import default_syncs
from include.settings import raw_table
from tests.conftest import REPO_ROOT
from tests.integration.conftest import (
    CLOUD_HOME,
    TEST_PORTS,
    airflow_api,
    cloud_env,
    dbt_seed,
    start_airflow,
    stop_airflow,
)
from tests.integration.test_activation import _without

# A demo run through the scheduler: minutes on 2 cores, far more on a busy machine.
pytestmark = [pytest.mark.timeout(3600), pytest.mark.long_running(minutes=6)]
DEMO_TIMEOUT = 1800
RUN = uuid.uuid4().hex[:6]
CLOUD_APP = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_CLOUD_APP_PORT']}"
# The scenario's interval must close right away: the ingestions run every minute in this module.
FAST_SCHEDULES = {"CLOUD_APP_INGEST_SCHEDULE": "* * * * *", "SALESFORCE_MIRROR_SCHEDULE": "* * * * *"}
# Configuration the rules read (dbt_project.yml vars), restated: changing them must change this test too.
OPPORTUNITY_CLOSE_DAYS, OUTREACH_DUE_DAYS = 30, 2
DEFAULT_OWNER = "sales-ops-queue@example.com"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the external-id rule uses md5


# --- the scenario ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signup:
    email: str | None
    first: str
    last: str
    company: str | None
    region: str
    plan: str
    seats: int


def scenario_signups() -> list[Signup]:
    return [
        # An open lead of an active owner: converted; the contact and the new account keep that owner.
        Signup(f"lena@parkside-{RUN}.com", "Lena", "Park", f"Parkside {RUN}", "eu-west-1", "starter", 5),
        # A company Salesforce already has an account for (by website): a contact on it, nothing else.
        Signup(f"hank@globex-{RUN}.com", "Hank", "Scorpio", None, "ap-southeast-1", "professional", 3),
        # Two people of one new company: one account, one opportunity, one task (the first signup's).
        Signup(f"ann@acme-{RUN}.io", "Ann", "Early", f"Acme {RUN}", "us-east-1", "starter", 10),
        Signup(f"bob@acme-{RUN}.io", "Bob", "Later", f"Acme {RUN}", "us-east-1", "professional", 2),
        # A personal address: a contact, no account.
        Signup(f"sam.{RUN}@gmail.com", "Sam", "Solo", None, "us-east-1", "free", 1),
        # A region no sales team covers: the default owner.
        Signup(f"rio@faraway-{RUN}.net", "Rio", "Faraway", f"Faraway {RUN}", "sa-east-1", "enterprise_trial", 20),
        # The same person twice: one contact, on the first workspace.
        Signup(f"dana@dup-{RUN}.io", "Dana", "Twice", None, "us-west-2", "free", 1),
        Signup(f"dana@dup-{RUN}.io", "Dana", "Twice", None, "us-west-2", "starter", 4),
        # Bad input: quarantined at ingestion, never in Salesforce.
        Signup(f"not-an-email-{RUN}", "Ivy", f"Invalid{RUN}", None, "us-east-1", "starter", 1),
        Signup(None, "Nobody", f"Missing{RUN}", None, "us-east-1", "starter", 1),
    ]


def post_signup(signup: Signup) -> dict[str, Any]:
    body = {"plan": signup.plan, "seats": signup.seats, "region": signup.region,
            "owner": {"email": signup.email, "first_name": signup.first, "last_name": signup.last,
                      "company_name": signup.company}}  # fmt: skip
    response = requests.post(
        f"{CLOUD_APP}/v1/workspaces", json=body, headers={"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


# --- the oracle: the README's rules, in Python ----------------------------------------------------------


@dataclass
class Expected:
    accounts: dict[str, dict[str, Any]]  # domain -> fields
    contacts: dict[str, dict[str, Any]]  # email -> fields
    opportunities: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, Any]]
    converted_leads: dict[str, str]  # lead id -> the email of the contact it converts into
    owner_choices: dict[str, set[str]]  # customer key -> the user ids the owner may be (roster rotation)


def oracle(created: list[tuple[Signup, dict[str, Any]]], crm: dict[str, Any]) -> Expected:
    """What Salesforce must hold for the scenario's signups, given the CRM records the scenario created."""
    personal = {row["email_domain"] for row in dbt_seed("personal_email_domains")}
    regions = {row["cloud_region"]: row["sales_region"] for row in dbt_seed("cloud_region_sales_regions")}
    prices = {row["plan"]: row for row in dbt_seed("plan_prices")}
    users, active = crm["users"], crm["active"]
    roster: dict[str, set[str]] = {}
    for row in dbt_seed("account_manager_roster"):
        if users.get(row["username"]) in active:
            roster.setdefault(row["sales_region"], set()).add(users[row["username"]])
    sellers = set().union(*roster.values())  # README: only a seller's (active roster manager's) lead ownership counts

    valid = [(s, w) for s, w in created if s.email and "@" in s.email]
    people: dict[str, tuple[Signup, dict[str, Any]]] = {}
    for signup, workspace in sorted(valid, key=lambda sw: sw[1]["created_at"]):
        people.setdefault(signup.email, (signup, workspace))  # the first workspace is the person's

    public_suffixes = PublicSuffixList()  # README: one company per registrable domain

    def customer_key(email: str) -> str:
        domain = email.split("@")[1]
        company = public_suffixes.privatesuffix(domain) or domain
        return email if domain in personal or company in personal else company

    customers: dict[str, list[tuple[Signup, dict[str, Any]]]] = {}
    for email, person in people.items():
        customers.setdefault(customer_key(email), []).append(person)

    expected = Expected({}, {}, {}, {}, {}, {})
    owners: dict[str, str | None] = {}
    account_ids: dict[str, str | None] = {}
    for key, members in customers.items():
        signup, workspace = min(members, key=lambda sw: sw[1]["created_at"])
        is_company = "@" not in key
        matched = crm["accounts_by_domain"].get(key) if is_company else None
        lead_owner = next((crm["leads"][s.email]["OwnerId"] for s, _ in members if s.email in crm["leads"]), None)
        if matched:
            owners[key] = matched["OwnerId"]
        elif lead_owner in sellers:
            owners[key] = lead_owner
        elif regions.get(signup.region) in roster:
            owners[key] = None  # one of the region's active managers, in rotation order
            expected.owner_choices[key] = roster[regions[signup.region]]
        else:
            owners[key] = users[DEFAULT_OWNER]
        account_ids[key] = matched["Id"] if matched else None
        if not is_company or matched:
            continue
        signed_up = datetime.fromisoformat(workspace["created_at"].replace("Z", "+00:00")).date()
        name = signup.company or key
        expected.accounts[key] = {"Name": name, "Website": key, "OwnerId": owners[key], "Type": "Prospect",
                                  "Dwh_External_Id__c": f"acct-{md5(key)}"}  # fmt: skip
        expected.opportunities[key] = {
            "Name": f"{name} - {signup.plan} workspace",
            "StageName": prices[signup.plan]["opportunity_stage"],
            "CloseDate": (signed_up + timedelta(days=OPPORTUNITY_CLOSE_DAYS)).isoformat(),
            "Amount": float(signup.seats * float(prices[signup.plan]["annual_price_per_seat"])),
            "OwnerId": owners[key],
            "Workspace_Id__c": workspace["workspace_id"],
            "Dwh_External_Id__c": f"opp-{md5(key)}",
        }
        expected.tasks[key] = {
            "Subject": f"Reach out to {signup.first} {signup.last} about their new {signup.plan} workspace",
            "ActivityDate": (signed_up + timedelta(days=OUTREACH_DUE_DAYS)).isoformat(),
            "OwnerId": owners[key],
            "Status": "Not Started",
            "Priority": "High" if signup.plan in {"professional", "enterprise_trial"} else "Normal",
            "Dwh_External_Id__c": f"task-{md5(key)}",
            "who_email": signup.email,
        }
    for email, (signup, workspace) in people.items():
        key = customer_key(email)
        lead = crm["leads"].get(email)
        owner = lead["OwnerId"] if lead and lead["OwnerId"] in sellers else owners[key]
        expected.contacts[email] = {
            "FirstName": signup.first, "LastName": signup.last, "Email": email, "OwnerId": owner,
            "Workspace_Id__c": workspace["workspace_id"], "LeadSource": "Product Signup",
            "Dwh_External_Id__c": f"cont-{md5(email)}", "account_key": key if "@" not in key else None,
        }  # fmt: skip
        # README: the lead converts into the contact and its account (convertLead() needs the account, so a person
        # on a personal address keeps an open lead).
        if lead and expected.contacts[email]["account_key"]:
            expected.converted_leads[lead["Id"]] = email
    return expected


# --- running it -------------------------------------------------------------------------------------


PIPELINE = ("ingest_cloud_workspaces", "ingest_salesforce", "activate_salesforce")
INGESTIONS = PIPELINE[:2]


def _stop_active_runs(api, dag_ids: tuple[str, ...], *, after: datetime | None = None) -> None:
    """Stop (mark failed) every queued or running run of ``dag_ids``; with ``after``, only runs of later intervals."""
    for dag_id in dag_ids:
        for run in api.runs(dag_id):
            later = after is None or (parse_time(run.get("data_interval_start")) or after) > after
            if later and run["state"] in {"queued", "running"}:
                api.mark_run_failed(dag_id, run["dag_run_id"])


def _stop_the_ingestions_of_later_intervals(demo: subprocess.Popen, interval_start: datetime) -> None:
    """While the demo runs, stop any ingestion run of a later interval than the scenario's, before its tasks land
    anything: with one-minute schedules each minute brings another ingestion cycle, whose Asset events would queue
    another activation, a whole dbt build beside the demo's. (Pausing the DAGs instead would also stop the scheduler
    from running the rest of the demo's own runs.)"""
    api = airflow_api()
    while demo.poll() is None:
        _stop_active_runs(api, INGESTIONS, after=interval_start)
        time.sleep(1)


def _demo(name: str, interval_start: datetime) -> subprocess.CompletedProcess:
    """`python -m dev.demo` against the test cloud; its output also goes to a log that outlives a timeout.

    The demo leaves the pipeline switched on, as a user wants it; here the ingestions run every minute, so their runs
    of later intervals are stopped as they come, and once the demo ends the pipeline is paused and any run still
    queued or running is stopped: the assertions read a quiet cloud."""
    log = CLOUD_HOME / f"{name}.log"
    try:
        with log.open("w") as out:
            demo = subprocess.Popen(
                [sys.executable, "-m", "dev.demo"], cwd=REPO_ROOT, env=cloud_env(**FAST_SCHEDULES),
                stdout=out, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            try:
                _stop_the_ingestions_of_later_intervals(demo, interval_start)
                returncode = demo.wait(timeout=DEMO_TIMEOUT)
            finally:
                if demo.poll() is None:
                    demo.kill()
                    demo.wait()
    finally:
        api = airflow_api()
        for dag_id in PIPELINE:
            api.pause(dag_id)
        _stop_active_runs(api, PIPELINE)
    return subprocess.CompletedProcess(demo.args, returncode, log.read_text(), "")


@pytest.fixture(scope="module")
def fast_airflow(emulators):
    """The full test cloud, its Airflow (re)started with one-minute ingestion schedules; stopped afterwards."""
    start_airflow(**FAST_SCHEDULES)
    api = airflow_api()
    deadline = time.monotonic() + 120
    # The restarted dag-processor must have re-serialized the DAGs with the new schedules before they run.
    while (
        api.wait_for_dag("ingest_cloud_workspaces").get("timetable_summary")
        != FAST_SCHEDULES["CLOUD_APP_INGEST_SCHEDULE"]
        or api.wait_for_dag("ingest_salesforce").get("timetable_summary")
        != FAST_SCHEDULES["SALESFORCE_MIRROR_SCHEDULE"]
    ):
        assert time.monotonic() < deadline, "the DAGs were not re-parsed with one-minute schedules"
        time.sleep(3)
    yield
    stop_airflow()


def _wait_until_the_ingestions_start_with(interval_start: datetime) -> None:
    """Wait until the scenario's interval has closed and the dag-processor has re-parsed the (paused) ingestion
    DAGs since: then the run each starts with when `dev.demo` switches it on is this interval, not an older one.
    It stays so for the next minute; after that the scenario's interval is no longer the latest."""
    api, ingestions = airflow_api(), INGESTIONS
    gone = interval_start + timedelta(minutes=2)
    while True:
        starts = {dag_id: api.dag(dag_id).get("next_dagrun_data_interval_start") for dag_id in ingestions}
        if all(parse_time(start) == interval_start for start in starts.values()):
            return
        assert datetime.now(UTC) < gone, f"the dag-processor did not re-parse within the next interval: {starts}"
        time.sleep(2)


@pytest.fixture(scope="module")
def scenario(fast_airflow, salesforce, report) -> dict[str, Any]:
    sf = salesforce
    users = {u["Username"]: u for u in sf.query_all("SELECT Id, Username, IsActive FROM User")["records"]}
    user_ids = {name: u["Id"] for name, u in users.items()}
    crm: dict[str, Any] = {"users": user_ids, "active": {u["Id"] for u in users.values() if u["IsActive"]}}
    emea, apac = user_ids["sofia.lindqvist@example.com"], user_ids["haruto.sato@example.com"]

    # Start at the top of a minute, so the CRM records and the signups all fall in one (one-minute) interval.
    time.sleep(61 - datetime.now(UTC).second)
    lead_email = f"lena@parkside-{RUN}.com"
    lead_id = sf.Lead.create({"FirstName": "Lena", "LastName": "Park", "Company": f"Parkside {RUN}",
                              "Email": lead_email, "OwnerId": emea})["id"]  # fmt: skip
    crm["leads"] = {lead_email: {"Id": lead_id, "OwnerId": emea}}
    account_id = sf.Account.create({"Name": f"Globex {RUN}", "Website": f"https://www.globex-{RUN}.com/",
                                    "OwnerId": apac})["id"]  # fmt: skip
    crm["accounts_by_domain"] = {f"globex-{RUN}.com": {"Id": account_id, "OwnerId": apac}}
    created = [(signup, post_signup(signup)) for signup in scenario_signups()]
    minutes = {w["created_at"][:16] for _, w in created}
    assert len(minutes) == 1, f"posting the scenario took over a minute ({minutes}): it straddles two intervals"
    interval_start = datetime.fromisoformat(f"{minutes.pop()}:00+00:00")
    _wait_until_the_ingestions_start_with(interval_start)

    started = time.monotonic()
    first = _demo("demo-first-run", interval_start)
    report.append(f"end-to-end: first `dev.demo` run through the scheduler {time.monotonic() - started:.0f}s")
    assert first.returncode == 0, (first.stdout + first.stderr)[-5000:]
    return {"created": created, "crm": crm, "first": first.stdout, "expected": oracle(created, crm),
            "account_id": account_id, "lead_id": lead_id}  # fmt: skip


def _records(sf, soql: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "attributes"} for r in sf.query_all(soql)["records"]]


def _state(sf) -> dict[str, Any]:
    """Every Salesforce record the scenario touched, as the API returns them."""
    like = f"%{RUN}%"
    accounts = _records(sf, "SELECT Id, Name, Website, OwnerId, Type, Dwh_External_Id__c "
                            f"FROM Account WHERE Name LIKE '{like}' OR Website LIKE '{like}'")  # fmt: skip
    contacts = _records(sf, "SELECT Id, FirstName, LastName, Email, OwnerId, AccountId, Workspace_Id__c, LeadSource, "
                            f"Dwh_External_Id__c FROM Contact WHERE Email LIKE '{like}' "
                            f"OR LastName LIKE '{like}'")  # fmt: skip
    account_ids = [a["Id"] for a in accounts] or ["none"]
    in_accounts = ", ".join(f"'{i}'" for i in account_ids)
    opportunities = _records(sf, "SELECT Id, Name, StageName, CloseDate, Amount, OwnerId, AccountId, "
                                 "Workspace_Id__c, Dwh_External_Id__c FROM Opportunity "
                                 f"WHERE AccountId IN ({in_accounts})")  # fmt: skip
    opportunity_ids = ", ".join(f"'{o['Id']}'" for o in opportunities) or "'none'"
    task_fields = "Id, Subject, ActivityDate, OwnerId, Status, Priority, WhoId, WhatId, Dwh_External_Id__c"
    tasks = _records(sf, f"SELECT {task_fields} FROM Task WHERE WhatId IN ({opportunity_ids})")
    leads = _records(sf, "SELECT Id, Status, IsConverted, ConvertedContactId, ConvertedAccountId, "
                         f"ConvertedOpportunityId FROM Lead WHERE Email LIKE '{like}'")  # fmt: skip
    return {"Account": accounts, "Contact": contacts, "Opportunity": opportunities, "Task": tasks, "Lead": leads}


def test_demo_prints_the_summary(scenario) -> None:
    out = scenario["first"]
    assert "activate_salesforce: asset_triggered run" in out, out[-3000:]
    for line in ("What the pipeline did", "Signups    interval", "quarantined", "CRM mirror", "Hightouch",
                 "Salesforce Account", "Wall time", "Where to look", "make soql", "make sql"):  # fmt: skip
        assert line in out, f"{line!r} missing from:\n{out[-3000:]}"
    for slug in ("salesforce-accounts", "salesforce-contacts", "salesforce-outreach-tasks"):
        assert f"{slug} " in out
        assert " success " in out.split(slug, 1)[1].splitlines()[0], f"{slug} did not succeed"
    conversions = re.search(r"Leads +convertLead\(\): planned (\d+), converted (\d+), .* failed (\d+)", out)
    assert conversions, "the summary reports the lead conversions"
    planned, converted, failed = map(int, conversions.groups())
    assert (failed, converted >= 1, converted <= planned) == (0, True, True), conversions.group(0)
    for reason in ("invalid_email", "missing_email"):
        assert reason in out, "the scenario's bad signups are reported by reason"


def test_demo_links_the_run_its_page_and_the_dbt_docs(scenario) -> None:
    """The summary links the activation run's UI page and its run page tab; the page (served by Airflow from the
    run's record) lists every valid person of the interval exactly once, a person with two workspaces too; the
    summary names where alerts go; the dbt docs were generated where Airflow serves them (Cosmos's plugin)."""
    out = scenario["first"]
    ui = f"http://localhost:{TEST_PORTS['LOCALCLOUD_AIRFLOW_PORT']}"
    run = re.search(rf"Activation run +{re.escape(ui)}/dags/activate_salesforce/runs/(\S+)", out)
    assert run, f"no link to the activation run in:\n{out[-3000:]}"
    assert airflow_api().run("activate_salesforce", run.group(1))["state"] == "success"
    tab = re.search(rf"Run page +{re.escape(ui)}/dags/activate_salesforce/runs/(\S+)/plugin/activation_run_page", out)
    assert tab, f"no run page in:\n{out[-3000:]}"
    assert tab.group(1) == run.group(1)
    assert re.search(r"Alerts +connection alerts_webhook -> http://\S+/hooks/", out), out[-3000:]
    response = airflow_api().page(f"/activation-runs/activate_salesforce/{run.group(1)}")
    assert response.status_code == 200, response.text[:500]
    text = response.text
    counts = {email: text.count(f"&lt;{html.escape(email)}&gt;") for email in scenario["expected"].contacts}
    assert counts == dict.fromkeys(counts, 1), f"each person once on the run page: {counts}"
    docs = requests.get(
        f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_AIRFLOW_PORT']}/cosmos/operational_pipeline/dbt_docs_index.html",
        timeout=30,
    )
    assert docs.status_code == 200, docs.text[:500]
    assert "dbt" in docs.text


def test_final_salesforce_state_equals_the_oracle(scenario, salesforce) -> None:
    expected: Expected = scenario["expected"]
    state = _state(salesforce)
    by_domain = {a["Website"]: a for a in state["Account"]}
    rotation: dict[str, str] = {}  # customer key -> the rotation member the pipeline picked

    def owner(key: str, actual: str) -> str | None:
        """The expected owner; for roster-routed customers, the member picked, once, for all their records."""
        if key in expected.owner_choices:
            assert actual in expected.owner_choices[key], f"{key}: owner {actual} is not an active manager there"
            return rotation.setdefault(key, actual)
        return None

    # Accounts: the new ones exactly, and the matched one only stamped with its key.
    ours = {a["Website"]: _without(a, "Id") for a in state["Account"] if a["Website"] in
            expected.accounts}  # fmt: skip
    for key, fields in expected.accounts.items():
        fields["OwnerId"] = fields["OwnerId"] or owner(key, ours.get(key, {}).get("OwnerId", ""))
    assert ours == expected.accounts
    matched = next(a for a in state["Account"] if a["Id"] == scenario["account_id"])
    assert matched["Dwh_External_Id__c"] == f"acct-sf-{scenario['account_id']}"
    assert len(state["Account"]) == len(expected.accounts) + 1, "no other account for the scenario's companies"

    # Contacts: one per valid person, none for the bad signups.
    account_of = {key: by_domain[key]["Id"] for key in expected.accounts} | {
        key: a["Id"] for key, a in scenario["crm"]["accounts_by_domain"].items()
    }
    actual_contacts = {c["Email"]: c for c in state["Contact"]}
    assert sorted(actual_contacts) == sorted(expected.contacts), "exactly the valid people, once each"
    for email, fields in expected.contacts.items():
        contact = actual_contacts[email]
        key = fields.pop("account_key")
        fields["AccountId"] = account_of.get(key) if key else None
        customer = key or email
        fields["OwnerId"] = fields["OwnerId"] or owner(customer, contact["OwnerId"])
        assert _without(contact, "Id") == fields, email

    # Opportunities and tasks: one each per new account, linked by the rules.
    opportunities = {o["Dwh_External_Id__c"]: o for o in state["Opportunity"]}
    assert sorted(opportunities) == sorted(f["Dwh_External_Id__c"] for f in expected.opportunities.values())
    for key, fields in expected.opportunities.items():
        actual = opportunities[fields["Dwh_External_Id__c"]]
        fields["OwnerId"] = fields["OwnerId"] or owner(key, actual["OwnerId"])
        assert _without(actual, "Id", "AccountId") == fields, key
        assert actual["AccountId"] == by_domain[key]["Id"]
    tasks = {t["Dwh_External_Id__c"]: t for t in state["Task"]}
    assert sorted(tasks) == sorted(f["Dwh_External_Id__c"] for f in expected.tasks.values())
    for key, fields in expected.tasks.items():
        actual = tasks[fields["Dwh_External_Id__c"]]
        who = fields.pop("who_email")
        fields["OwnerId"] = fields["OwnerId"] or owner(key, actual["OwnerId"])
        assert _without(actual, "Id", "WhoId", "WhatId") == fields, key
        assert actual["WhoId"] == actual_contacts[who]["Id"]
        assert actual["WhatId"] == opportunities[f"opp-{md5(key)}"]["Id"]

    # The open lead is converted (convertLead) into the person's contact and its account, with no opportunity of
    # its own; every other lead of the scenario stays as it was.
    leads = {lead["Id"]: _without(lead, "Id") for lead in state["Lead"]}
    assert expected.converted_leads, "the scenario has a lead to convert"
    for lead_id, email in expected.converted_leads.items():
        contact = actual_contacts[email]
        assert leads.pop(lead_id) == {
            "IsConverted": True, "Status": "Closed - Converted", "ConvertedContactId": contact["Id"],
            "ConvertedAccountId": contact["AccountId"], "ConvertedOpportunityId": None,
        }, lead_id  # fmt: skip
    assert all(not lead["IsConverted"] for lead in leads.values()), leads
    assert set(rotation) == set(expected.owner_choices), "every roster-routed customer was checked"


def test_bad_signups_are_quarantined_with_their_reason(scenario) -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    bad = {w["workspace_id"] for s, w in scenario["created"] if not (s.email and "@" in s.email)}
    rows = SnowflakeHook(snowflake_conn_id=SNOWFLAKE).get_records(
        "SELECT RECORD:payload:workspace_id::VARCHAR, RECORD:reason::VARCHAR "
        f"FROM {raw_table('CLOUD_APP.WORKSPACES_QUARANTINE')} "
        f"WHERE RECORD:payload:workspace_id::VARCHAR IN ({', '.join(repr(w) for w in bad)})"
    )
    assert sorted(reason for _, reason in rows) == ["invalid_email", "missing_email"]


def _demo_runs(out: str) -> dict[str, str]:
    """dag_id -> run_id of the runs the demo's summary links (one ingestion cycle and its activation)."""
    ui = re.escape(f"http://localhost:{TEST_PORTS['LOCALCLOUD_AIRFLOW_PORT']}")
    return dict(re.findall(rf"{ui}/dags/(\w+)/runs/([^\s/]+)(?:\s|$)", out))


def _lineage_graph(events: list[dict[str, Any]], runs: dict[str, str]):
    """The COMPLETE events of the runs' tasks: job -> (inputs, outputs), datasets as (namespace, name).

    A task's event names its DAG run as parent (the provider's, and the dbt node events the build emits); the
    DAG runs' own events carry the Airflow run id, which ties the OpenLineage run ids to the demo's runs."""
    dag_runs = {
        event["run"]["runId"]
        for event in events
        if event["job"]["name"] in runs and runs[event["job"]["name"]] in json.dumps(event["run"].get("facets", {}))
    }
    jobs: dict[str, tuple[set, set]] = {}
    for event in events:
        parent = event["run"].get("facets", {}).get("parent", {}).get("run", {}).get("runId")
        if event.get("eventType") != "COMPLETE" or parent not in dag_runs:
            continue
        inputs, outputs = jobs.setdefault(event["job"]["name"], (set(), set()))
        inputs.update((d["namespace"], d["name"]) for d in event.get("inputs", []))
        outputs.update((d["namespace"], d["name"]) for d in event.get("outputs", []))
    return jobs


def test_lineage_of_one_cycle_leads_from_the_cloud_app_api_to_every_salesforce_object(scenario) -> None:
    """OpenLineage events of the demo's ingestion runs and their activation run (the local cloud's file transport)
    rebuild one graph: a path from the API to each Salesforce object the pipeline writes, every step on it."""
    from include.salesforce.conversion import WRITES

    runs = _demo_runs(scenario["first"])
    assert set(runs) == {"ingest_cloud_workspaces", "ingest_salesforce", "activate_salesforce"}, runs
    lines = (CLOUD_HOME / "openlineage" / "events.jsonl").read_text().splitlines()
    jobs = _lineage_graph([json.loads(line) for line in lines if line.strip()], runs)
    assert jobs, "no OpenLineage event of the demo's runs"

    downstream: dict[Any, set] = {}
    for job, (inputs, outputs) in jobs.items():
        for dataset in inputs:
            downstream.setdefault(dataset, set()).add(job)
        downstream.setdefault(job, set()).update(outputs)
    api = next((d for _, (inputs, _) in jobs.items() for d in inputs if d[1] == "/v1/workspaces"), None)
    assert api, "the extraction reports the cloud-app API as its input"
    reached, frontier = {api}, [api]
    while frontier:
        for following in downstream.get(frontier.pop(), ()):
            if following not in reached:
                reached.add(following)
                frontier.append(following)
    objects = {sync.destination_object for sync in default_syncs().syncs} | set(WRITES)
    unreached = sorted(o for o in objects if ("salesforce://salesforce_crm", o) not in reached)
    assert not unreached, f"no lineage path from the API to {unreached}"

    orphans = sorted(job for job, (inputs, outputs) in jobs.items() if not inputs and not outputs)
    assert not orphans, f"steps that report no dataset: {orphans}"
    node_tasks = [job for job in jobs if job.startswith("activate_salesforce.transform.") and job.endswith("_build")]
    assert any(job.endswith("sync_salesforce_accounts_model_build") for job in node_tasks), sorted(jobs)
    syncs = {f"activate_salesforce.sync_{s.slug.replace('-', '_')}" for s in default_syncs().syncs}
    assert syncs <= set(jobs), sorted(syncs - set(jobs))
