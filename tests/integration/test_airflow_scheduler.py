"""The real Airflow 3 components (api-server, scheduler, dag-processor, triggerer) run a triggered DAG (the smoke
DAG of dev/dags, the local cloud's second DAG bundle, through the REST API as `make demo` drives them), and dbt is
connected to the same warehouse."""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from urllib.parse import quote

import pytest

from include.hightouch.syncs import default_syncs
from include.settings import raw_table
from tests.integration.alerts_sink import alerts_about, clear_alerts, fields
from tests.integration.conftest import (
    CLOUD_HOME,
    TEST_PORTS,
    airflow_api,
    cloud_env,
    dbt_cli,
    localcloud,
    start_airflow,
)

pytestmark = pytest.mark.long_running(minutes=3.5)

SMOKE_DAG = "smoke_local_cloud"
ACTIVATION = "activate_salesforce"
CULPRIT = "transform.stg_cloud_app__workspace_events_model_build"


# Short enough that the activation run below misses it (its dbt retry alone takes longer), so the deadline's alert
# is tested on a real run; the pipeline's default is 45 minutes.
DEADLINE_MINUTES = "0.1"


@pytest.fixture(scope="module")
def airflow_running(data_platform, report):
    result = start_airflow(reparse_dags=False, ACTIVATION_DEADLINE_MINUTES=DEADLINE_MINUTES)
    report.extend(f"local cloud start: {line}" for line in result.stdout.splitlines() if "healthy in" in line)
    return result


def _wait_for(found, seconds: float):
    """``found()`` once it is truthy (the triggerer posts deadline alerts on its own loop), or its last answer."""
    deadline = time.monotonic() + seconds
    while not (answer := found()) and time.monotonic() < deadline:
        time.sleep(2)
    return answer


def _run_smoke_dag() -> dict:
    """Trigger the smoke DAG through the REST API and let the scheduler run it; return its last task's XCom."""
    api = airflow_api()
    api.wait_for_dag(SMOKE_DAG)
    api.unpause(SMOKE_DAG)
    run_id = api.trigger(SMOKE_DAG)
    state = api.wait_for_run(SMOKE_DAG, run_id)
    assert state == "success", api.task_states(SMOKE_DAG, run_id)
    return dict(api.xcom(SMOKE_DAG, run_id, "count_warehouse_rows"))


def test_dbt_builds_against_the_same_warehouse(airflow_running) -> None:
    env = {**cloud_env(), **TEST_PORTS}
    target = CLOUD_HOME / "dbt-build"
    result = dbt_cli("build", env=env, under=target, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    # Every model, seed, data test and unit test of the project, as the manifest lists them: a fork adding a
    # model or a test changes the count, not this test.
    manifest = json.loads((target / "target" / "manifest.json").read_text())
    built = [n for n in manifest["nodes"].values() if n["resource_type"] in {"model", "seed", "snapshot", "test"}]
    # A test of severity warn (e.g. a signup's region no sales region maps) may warn on whatever data earlier
    # tests left in this warehouse: it is reported, not an error.
    done = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", result.stdout)
    assert done, result.stdout[-3000:]
    passed, warned, errors, skipped = map(int, done.groups())
    assert (passed + warned, errors, skipped) == (len(built) + len(manifest["unit_tests"]), 0, 0), done.group(0)
    docs = dbt_cli("docs", "generate", env=env, under=target, timeout=300)
    assert docs.returncode == 0, docs.stdout[-3000:]
    catalog = json.loads((target / "target" / "catalog.json").read_text())
    assert "model.operational_pipeline.sync_salesforce_accounts" in catalog["nodes"]


def test_a_failing_dbt_test_under_the_scheduler_fails_only_its_models_task(airflow_running, warehouse, report) -> None:
    """The scheduler and triggerer run activate_salesforce on a row that breaks a staging test: exactly that model's
    task fails, on its first try from the build's result (its log holds dbt's failure) and on its retry from its
    own dbt run; everything built from it is upstream_failed, every other dbt task green, no sync runs. The
    webhook gets one alert for that task (its retry's failure, with dbt's) and one for the missed deadline."""
    from tests.integration.test_activation import _downstream_of, _hightouch_runs

    api = airflow_api()
    api.wait_for_dag(ACTIVATION)
    before = {slug: [r["id"] for r in runs] for slug, runs in _hightouch_runs().items()}
    marker = f"broken-scheduler-{os.getpid()}"
    owner = {"email": f"{marker}@example.com", "first_name": "B", "last_name": "Roken", "company_name": None}
    payload = {"event_id": marker, "workspace_id": marker, "event_type": "workspace.created", "owner": owner,
               "created_at": "1999-01-01T00:01:00Z", "plan": "bogus", "seats": 1, "region": "us-east-1"}  # fmt: skip
    record = {"interval_start": "1999-01-01T00:00:00+00:00", "interval_end": "1999-01-01T00:15:00+00:00",
              "payload": payload}  # fmt: skip
    workspaces = raw_table("CLOUD_APP.WORKSPACES")
    warehouse.run(f"INSERT INTO {workspaces} SELECT PARSE_JSON(%(r)s)", parameters={"r": json.dumps(record)})
    clear_alerts()
    api.unpause(ACTIVATION)
    try:
        run_id = api.trigger(ACTIVATION)
        state = api.wait_for_run(ACTIVATION, run_id, timeout=900)
        states = api.task_states(ACTIVATION, run_id)
        tries = {ti["task_id"]: ti["try_number"] for ti in api.task_instances(ACTIVATION, run_id)}
        first_try = api.task_log(ACTIVATION, run_id, CULPRIT, 1)
        retry = api.task_log(ACTIVATION, run_id, CULPRIT, 2)
    finally:
        api.pause(ACTIVATION)
        warehouse.run(f"DELETE FROM {workspaces} WHERE RECORD:payload:event_id::VARCHAR = %(m)s",
                      parameters={"m": marker})  # fmt: skip
    assert state == "failed"
    assert sorted(task for task, s in states.items() if s == "failed") == [CULPRIT], states
    downstream = _downstream_of(CULPRIT)
    syncs = {f"sync_{sync.slug.replace('-', '_')}" for sync in default_syncs().syncs}
    assert syncs <= downstream, "the staging model feeds every sync"
    assert {task: states[task] for task in downstream} == dict.fromkeys(downstream, "upstream_failed")
    others = {t: s for t, s in states.items() if t.startswith("transform.") and t not in downstream | {CULPRIT}}
    assert set(others.values()) == {"success"}, others
    retried = {task: n for task, n in tries.items() if task != CULPRIT and n > 1}
    assert not retried, f"an innocent task failed a try: {retried}"  # not even a first try fails
    assert "Got 1 result, configured to fail if != 0" in first_try, first_try[-3000:]
    assert "re-running its tests only" in retry, retry[-3000:]
    assert "FAIL 1 accepted_values_stg_cloud_app__workspace_events_plan" in retry, retry[-3000:]
    after = {slug: [r["id"] for r in runs] for slug, runs in _hightouch_runs().items()}
    assert after == before, "no sync was triggered"

    failed_alerts = alerts_about("Airflow task failed: activate_salesforce.")
    assert [text.splitlines()[0].rsplit(".", 1)[1] for text in failed_alerts] == [CULPRIT.split(".", 1)[1]]
    alert = fields(failed_alerts[0])
    assert alert["Run"] == f"{run_id} (try 2 of 2)"
    assert alert["Task in Airflow"].startswith(f"http://localhost:{TEST_PORTS['LOCALCLOUD_AIRFLOW_PORT']}/dags/")
    assert "accepted_values_stg_cloud_app__workspace_events_plan" in failed_alerts[0].split("\nError:\n", 1)[1]
    deadline_alerts = _wait_for(lambda: alerts_about("missed its deadline: activate_salesforce"), seconds=60)
    assert len(deadline_alerts) == 1, deadline_alerts
    missed = fields(deadline_alerts[0])
    assert missed["Run"].startswith(f"{run_id} (queued 20")
    assert missed["Run in Airflow"].endswith(f"/dags/{ACTIVATION}/runs/{quote(run_id)}")
    count = Counter(states.values())
    report.append(
        f"failing dbt test under the scheduler: {len(states)} tasks; failed: {CULPRIT} (tries {tries[CULPRIT]}); "
        f"upstream_failed {count['upstream_failed']} (syncs {sum(t.startswith('sync_') for t in downstream)}); "
        f"success {count['success']}, none retried; Hightouch runs triggered: 0"
    )


# The quick checks come last: `make test` hands a worker its next module while the last two tests of this one run.
def test_status_reports_every_service_healthy(airflow_running) -> None:
    status = localcloud("status")
    assert status.returncode == 0, status.stdout
    names = [line.split()[0] for line in status.stdout.splitlines() if line.endswith("healthy")]
    assert names == ["s3", "snowflake", "cloud-app", "salesforce", "hightouch", "airflow-api-server",
                     "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]  # fmt: skip


def test_scheduler_runs_a_triggered_dag(airflow_running) -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    first = _run_smoke_dag()  # creates RAW.SMOKE.EVENTS on a fresh cloud: the bootstrap does not
    assert (first["files_loaded"], first["rows_loaded"]) == (1, 5)
    assert first["table_rows"] >= 5
    second = _run_smoke_dag()
    assert second["table_rows"] == first["table_rows"] + 5
    runs = hook.get_records(f"SELECT RECORD:run_id::VARCHAR, COUNT(*) FROM {raw_table('SMOKE.EVENTS')} GROUP BY 1")
    assert sorted(count for _, count in runs)[-2:] == [5, 5]
