"""The gate before Salesforce under the real scheduler: a change that would reassign a departed manager's accounts
waits for a person in the Airflow UI's human-in-the-loop flow (answered here through the same REST API the UI
uses); rejecting writes nothing; clearing the gate asks again, as the README tells a person who reconsiders, and
approving writes. Each decision reaches the alerts webhook."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from include.hightouch.syncs import default_syncs
from tests.integration.alerts_sink import alert_texts, alerts_about, clear_alerts
from tests.integration.conftest import CLOUD_HOME, TEST_PORTS, airflow_api, dags_test, start_airflow, stop_airflow
from tests.integration.test_activation import (
    ACTIVE_ROSTER,
    RUN,
    _dag_run,
    _hightouch_runs,
    _next_boundary,
    _signup,
)

# One activation run through dag.test() and one under the scheduler (asked twice), the scheduler's Airflow started
# first.
pytestmark = [pytest.mark.timeout(2400), pytest.mark.long_running(minutes=5)]

ACTIVATION = "activate_salesforce"
GATE = "approve_salesforce_changes"
# A test org holds a few dozen accounts: the gate's absolute threshold is lowered so that reassigning one manager's
# accounts crosses it (in production: SALESFORCE_GATE_MAX_CHANGED, default 200).
GATE_ENV = {"SALESFORCE_GATE_MAX_CHANGED": "0"}
# The run the gate test made, for the record and browser tests after it.
RUNS: dict[str, str] = {}


@pytest.fixture(scope="module")
def gated_airflow(emulators):
    """The full test cloud, its Airflow (re)started with the lowered threshold; stopped afterwards."""
    start_airflow(reparse_dags=False, **GATE_ENV)
    api = airflow_api()
    api.wait_for_dag(ACTIVATION)
    yield api
    try:
        api.pause(ACTIVATION)
    finally:
        stop_airflow()


@pytest.fixture(scope="module")
def customers(dag_env, salesforce) -> dict[str, Any]:
    """Three new AMER companies sign up; ingestion, the mirror and one activation (below every threshold) give
    them accounts owned by roster managers."""
    domains = [f"gate{n}-{RUN}.com" for n in range(3)]
    workspaces = [_signup(f"founder@{d}", first="Gate", last=f"Keeper{n}", company=f"Gate {n} {RUN}")
                  for n, d in enumerate(domains)]  # fmt: skip
    created = [datetime.fromisoformat(w["created_at"].replace("Z", "+00:00")) for w in workspaces]
    interval_end = _next_boundary(max(created))
    dags_test(dag_env, "ingest_cloud_workspaces", interval_end)
    mirror_ends = iter(interval_end + timedelta(hours=1, minutes=15 * n) for n in range(10))
    dags_test(dag_env, "ingest_salesforce", next(mirror_ends))
    state, _, errors = _dag_run(dag_env, ACTIVATION)
    assert state == "success", errors
    return {"domains": domains, "mirror_ends": mirror_ends}


def chromium() -> str:
    """The system Chromium (Debian's package; `make test` installs it when missing)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "no Chromium: apt-get install -y chromium"
    return path


def _account_owners(sf, domains: list[str]) -> dict[str, str]:
    soql = "SELECT Website, OwnerId FROM Account WHERE Website IN ({})".format(", ".join(f"'{d}'" for d in domains))
    return {a["Website"]: a["OwnerId"] for a in sf.query_all(soql)["records"]}


def _wait_for_state(api, run_id: str, task_id: str, wanted: set[str], timeout: float = 600) -> dict[str, str | None]:
    deadline = time.monotonic() + timeout
    while True:
        states = api.task_states(ACTIVATION, run_id)
        if states.get(task_id) in wanted:
            return states
        assert api.run(ACTIVATION, run_id)["state"] in {"queued", "running"}, states
        assert time.monotonic() < deadline, f"{task_id} never reached {wanted}: {states}"
        time.sleep(2)


def _wait_for_the_scheduler_to_see_the_deferral(run_id: str, times: int, timeout: float = 120) -> None:
    """Wait until the scheduler has processed the gate's deferred exit (the ``times``-th of the run).

    An answer that resumes the task before then races that stale executor event: the resumed, re-queued task is
    taken for "killed externally" and retried, which asks again (the scheduler's own note on it:
    airflow/jobs/scheduler_job_runner.py, "Resume-after-defer", covers a resumed task only while it is still
    scheduled). A person answers minutes later; a test answers within a second, so it waits for the scheduler."""
    log = CLOUD_HOME / "logs" / "airflow-scheduler.log"
    seen = f"TaskInstance Finished: dag_id={ACTIVATION}, task_id={GATE}, run_id={run_id},"
    deadline = time.monotonic() + timeout

    def deferrals() -> int:
        return sum(seen in line and "state=deferred" in line for line in log.read_text(errors="replace").splitlines())

    while deferrals() < times:
        assert time.monotonic() < deadline, f"the scheduler never processed the deferral of {GATE} in {run_id}"
        time.sleep(1)


def _wait_for_the_question(api, run_id: str, times: int = 1) -> None:
    """Return once the gate of ``run_id`` waits for a person (for the ``times``-th time) and nothing after it ran."""
    # Waiting for a person: deferred until the response API resumes it (include/activation/change_gate.py, _ask).
    states = _wait_for_state(api, run_id, GATE, {"deferred"})
    _wait_for_the_scheduler_to_see_the_deferral(run_id, times)
    assert {task: s for task, s in states.items() if task.startswith(("sync_", "convert_"))} == dict.fromkeys(
        [t for t in states if t.startswith(("sync_", "convert_"))], None
    ), "nothing after the gate has started"


def test_reassigning_a_departed_managers_accounts_waits_for_a_person_and_only_an_approval_writes(
    gated_airflow, customers, dag_env, salesforce
) -> None:
    api, sf, domains = gated_airflow, salesforce, customers["domains"]
    owners_before = _account_owners(sf, domains)
    assert set(owners_before) == set(domains), owners_before
    managers = {u["Id"]: u["Username"] for u in sf.query_all("SELECT Id, Username FROM User WHERE IsActive = true")[
        "records"] if u["Username"] in ACTIVE_ROSTER}  # fmt: skip
    assert set(owners_before.values()) <= set(managers), "roster managers own the new accounts"

    # The deliberate change: the manager of the first new account leaves, so routing hands their accounts to the
    # region's other managers. Their return moves nobody back (a manager joining moves nobody: README, "Who owns a
    # new customer"), so the modules after this one find settled owners.
    departed = owners_before[domains[0]]
    moved = {d for d, owner in owners_before.items() if owner == departed}
    sf.User.update(departed, {"IsActive": False})
    try:
        dags_test(dag_env, "ingest_salesforce", next(customers["mirror_ends"]))
        runs_before = {slug: {r["id"] for r in runs} for slug, runs in _hightouch_runs().items()}

        # 1. Rejected: the gate fails, nothing after it runs, no Hightouch run, Salesforce unchanged.
        clear_alerts()
        api.unpause(ACTIVATION)
        run_id = RUNS["gated"] = api.trigger(ACTIVATION)
        _wait_for_the_question(api, run_id)
        detail = api.hitl_detail(ACTIVATION, run_id, GATE)
        assert detail["options"] == ["Approve", "Reject"]
        assert "**Why this run stopped**" in detail["body"]
        assert "salesforce-accounts would change" in detail["body"]
        assert "| owner_change |" in detail["body"], detail["body"]
        asked = alerts_about("Approval needed before Salesforce")
        assert len(asked) == 1, alert_texts()
        assert f"/dags/{ACTIVATION}/runs/{run_id}/tasks/{GATE}/required_actions" in asked[0], asked[0]
        api.respond(ACTIVATION, run_id, GATE, "Reject")
        assert api.wait_for_run(ACTIVATION, run_id, timeout=300) == "failed"
        states = api.task_states(ACTIVATION, run_id)
        assert states[GATE] == "failed"
        after_gate = {t: s for t, s in states.items() if t.startswith(("sync_", "convert_"))}
        assert set(after_gate.values()) == {"upstream_failed"}, after_gate
        assert {slug: {r["id"] for r in runs} for slug, runs in _hightouch_runs().items()} == runs_before
        assert _account_owners(sf, domains) == owners_before
        [failed] = alerts_about(f"Airflow task failed: {ACTIVATION}.{GATE}")
        assert "rejected the Salesforce changes: nothing was written to Salesforce" in failed

        # 2. The person reconsiders and clears the gate (with what it held back): it asks again; approved, the
        # syncs run and exactly the departed manager's accounts move, to managers still active.
        api.clear_task(ACTIVATION, run_id, GATE)
        _wait_for_the_question(api, run_id, times=2)
        assert len(alerts_about("Approval needed before Salesforce")) == 2, alert_texts()
        api.respond(ACTIVATION, run_id, GATE, "Approve")
        assert api.wait_for_run(ACTIVATION, run_id, timeout=600) == "success", api.task_states(ACTIVATION, run_id)
        owners_after = _account_owners(sf, domains)
        assert all(owners_after[d] in set(managers) - {departed} for d in moved), (owners_before, owners_after)
        assert {d: owners_after[d] for d in set(domains) - moved} == {d: owners_before[d] for d in set(domains) - moved}
    finally:
        api.pause(ACTIVATION)
        sf.User.update(departed, {"IsActive": True})
        dags_test(dag_env, "ingest_salesforce", next(customers["mirror_ends"]))


def _run_log(warehouse, run_id: str) -> dict[str, dict[str, Any]]:
    """The run's record, the last try of each step, as the run page reads it."""
    from include.activation.run_page import read_steps

    return {step["step"]: step for step in read_steps(warehouse, ACTIVATION, run_id)}


def _gate_tries(warehouse, run_id: str) -> list[str]:
    """The gate's recorded decision of each try of the run, in order."""
    from include.activation.run_record import run_log_table

    rows = warehouse.get_records(
        f"SELECT RECORD:try_number::INTEGER, RECORD:status::VARCHAR FROM {run_log_table()}"
        " WHERE RECORD:dag_id::VARCHAR = %(dag_id)s AND RECORD:run_id::VARCHAR = %(run_id)s"
        " AND RECORD:step::VARCHAR = 'approval-gate' ORDER BY 1",
        parameters={"dag_id": ACTIVATION, "run_id": run_id},
    )
    return [status for _, status in rows]


def test_each_run_records_what_it_did_in_the_warehouse(gated_airflow, warehouse) -> None:
    """The rejected try records the decision; the approved try after the clear records who approved, every sync's
    Hightouch run and the lead conversion."""
    assert RUNS, "the gate test ran first"
    assert _gate_tries(warehouse, RUNS["gated"]) == ["rejected", "approved"]

    approved = _run_log(warehouse, RUNS["gated"])
    slugs = {sync.slug for sync in default_syncs().syncs}
    assert set(approved) == {"approval-gate", "lead-conversion", *slugs}
    assert approved["approval-gate"]["status"] == "approved"
    assert approved["approval-gate"]["outcome"]["by"]
    assert approved["approval-gate"]["outcome"]["plans"], "the change plan the person saw"
    moved = [c for c in approved["approval-gate"]["outcome"]["changes"] if c["change_kind"] == "owner_change"]
    assert {c["sync_slug"] for c in moved} >= {"salesforce-accounts"}
    runs = {slug: {r["id"]: r for r in rs} for slug, rs in _hightouch_runs().items()}
    for slug in slugs:
        step = approved[slug]
        assert step["status"] == "success", step
        hightouch = runs[slug][int(step["outcome"]["run_id"])]
        assert hightouch["status"] == "success"
        assert step["outcome"]["planned_rows"]["changed"] == hightouch["plannedRows"]["changedCount"]
    assert approved["lead-conversion"]["status"] == "success"


def test_the_run_page_in_a_browser(gated_airflow, warehouse) -> None:
    """Chromium opens the approved run in the Airflow UI: its "What this run did" tab shows the syncs and the
    account managers' table; the page on its own leads back to the run."""
    from playwright.sync_api import sync_playwright

    assert RUNS, "the gate test ran first"
    run_id = RUNS["gated"]
    base = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_AIRFLOW_PORT']}"
    steps = _run_log(warehouse, run_id)
    moved = [c for c in steps["approval-gate"]["outcome"]["changes"] if c["change_kind"] == "owner_change"]
    new_owner = moved[0]["planned_owner_username"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/dags/{ACTIVATION}/runs/{quote(run_id, safe='')}/plugin/activation_run_page")
            frame = page.frame_locator("iframe")
            frame.get_by_text("What this activation run did to Salesforce").wait_for(timeout=60_000)
            syncs = frame.locator("#syncs tr")
            assert syncs.count() == 1 + len(default_syncs().syncs)  # the header and one row per sync
            accounts = frame.locator("#syncs tr", has_text="salesforce-accounts")
            assert accounts.locator("td").nth(1).inner_text() == "success"
            manager = frame.locator("#managers tr", has_text=new_owner)
            moved_to_them = sum(1 for c in moved if c["planned_owner_username"] == new_owner)
            assert manager.locator("td").nth(5).inner_text() == str(moved_to_them)
            assert "Approved" in frame.locator("#approval").inner_text()
            # Opened on its own (the link the demo prints, or a bookmark), the page leads back to the run. Inside
            # the tab the run is the page around it: Airflow's sandbox gives plugin frames no top navigation.
            page.goto(f"{base}/activation-runs/{ACTIVATION}/{quote(run_id, safe='')}")
            page.locator("#back-to-run").click()
            page.wait_for_url(lambda url: "/activation-runs/" not in url, timeout=30_000)
            assert page.url.split("?")[0].rstrip("/") == f"{base}/dags/{ACTIVATION}/runs/{quote(run_id, safe='')}"
            page.get_by_text(run_id).first.wait_for(timeout=60_000)  # the Airflow UI shows the run
        finally:
            browser.close()
