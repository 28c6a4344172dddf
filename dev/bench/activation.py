"""Benchmark: one activate_salesforce run for a one-signup delta, vs the same work without Airflow and Cosmos.

On its own bench cloud (the whole local cloud with Airflow's scheduler, LocalExecutor and triggerer;
``.local/bench/activation``): 24 hours of signups (12 an hour, as the demo) and a Salesforce mirror, then one
activation as warm-up (it creates everything the backlog asks for). Then, ``BENCH_ACTIVATION_ROUNDS`` times
(default 1), rotating which goes first: for each of the modes below, POST one signup for a new company, run
ingest_cloud_workspaces for its interval and ingest_salesforce (`airflow dags test`, not timed), then

- ``scheduler``: activate_salesforce triggered through the REST API and run by the scheduler, as in production:
  its DAG run's duration, the dbt part (first to last ``transform.*`` task) and the syncs part, from the API;
- ``dags_test``: `airflow dags test activate_salesforce` (tasks one at a time in one process, as the tests run
  it), timed the same way from its metadata DB;
- ``baseline``: `dbt build` of the same selection with the dbt CLI, then the six syncs triggered in the
  syncs.yaml order through the Hightouch API, each waited for.

Each round fails unless the new company's Salesforce Task exists at the end. Result: the "Activation" section.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from dev.bench.common import (
    PY,
    Cloud,
    Machine,
    dag_run,
    fmt_s,
    log,
    md5,
    median,
    run,
    run_timings,
    stopped_at_end,
    timed,
    write_section,
)
from dev.localcloud.airflow_api import AirflowApi
from dev.localcloud.airflow_api import parse_time as ts
from dev.localcloud.settings import CLOUD_APP_TOKEN, HIGHTOUCH_TOKEN, REPO_ROOT
from include.transform.cosmos_config import ACTIVATION_EXCLUDE, ACTIVATION_SELECT, BUILD_THREADS

NAME = "activation"
DAG_ID = "activate_salesforce"
RUN = uuid.uuid4().hex[:6]
# The DAG's own selection and dbt parallelism (include/transform/cosmos_config.py).
SELECTION = ["--threads", str(BUILD_THREADS), "--select", *ACTIVATION_SELECT, "--exclude", *ACTIVATION_EXCLUDE]
MODES = ("scheduler", "dags_test", "baseline")
# The tasks that act on Salesforce after dbt: the Hightouch syncs and the lead conversion.
ACTIONS = ("sync_", "convert_")


def cloud_app_url(cloud: Cloud) -> str:
    return f"http://127.0.0.1:{cloud.base_env()['LOCALCLOUD_CLOUD_APP_PORT']}"


def hightouch_url(cloud: Cloud) -> str:
    return f"http://127.0.0.1:{cloud.base_env()['LOCALCLOUD_HIGHTOUCH_PORT']}/api/v1"


def post_signup(cloud: Cloud, tag: str) -> tuple[dict[str, Any], str]:
    """A workspace for a new company (its own domain); returns the event and the domain."""
    domain = f"bench-{RUN}-{tag}.io"
    body = {"plan": "starter", "seats": 5, "region": "us-east-1",
            "owner": {"email": f"ann@{domain}", "first_name": "Ann", "last_name": f"Bench{tag}",
                      "company_name": f"Bench {RUN} {tag}"}}  # fmt: skip
    response = requests.post(f"{cloud_app_url(cloud)}/v1/workspaces", json=body,
                             headers={"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}, timeout=10)  # fmt: skip
    response.raise_for_status()
    return response.json(), domain


def task_exists(domain: str) -> bool:
    """The outreach Task the pipeline creates for a new company (external id task- + md5(domain))."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    from include.connections import SALESFORCE

    sf = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()
    soql = f"SELECT Id FROM Task WHERE Dwh_External_Id__c = 'task-{md5(domain)}'"
    return len(sf.query_all(soql)["records"]) == 1


def next_boundary(moment: datetime, minutes: int = 15) -> datetime:
    floor = moment.replace(minute=moment.minute - moment.minute % minutes, second=0, microsecond=0)
    return floor + timedelta(minutes=minutes)


def trigger_syncs(cloud: Cloud) -> list[dict[str, Any]]:
    """The syncs in syncs.yaml order through the Hightouch API, each waited for; fails unless all succeed."""
    from dev.hightouch.workspace import sync_ids
    from include.hightouch.syncs import default_syncs

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {HIGHTOUCH_TOKEN}"
    runs = []
    for slug, sync_id in sync_ids(default_syncs()).items():
        response = session.post(f"{hightouch_url(cloud)}/syncs/trigger", data={"syncSlug": slug}, timeout=30)
        response.raise_for_status()
        run_id = response.json()["id"]
        deadline = time.monotonic() + 600
        while True:
            body = session.get(f"{hightouch_url(cloud)}/syncs/{sync_id}/runs", params={"runId": run_id}, timeout=30)
            body.raise_for_status()
            state = body.json()["data"][0]
            if state["status"] in {"success", "warning", "failed", "cancelled", "interrupted"}:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sync {slug} run {run_id} not finished in 600 s")
            time.sleep(0.5)
        if state["status"] != "success":
            raise RuntimeError(f"sync {slug} run {run_id}: {state['status']} {state.get('error')}")
        runs.append(state)
    return runs


def convert_leads() -> None:
    """The lead conversion as the DAG's task does it (include/salesforce/conversion.py), called directly."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SALESFORCE, SNOWFLAKE
    from include.salesforce import conversion

    conversion.run(SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn(), SnowflakeHook(snowflake_conn_id=SNOWFLAKE))


def baseline(cloud: Cloud) -> dict[str, float]:
    """`dbt build` of the selection with the dbt CLI, the seeds left out (they are loaded and unchanged: our build
    leaves them out too), then the syncs through the Hightouch API and the lead conversion, one after the other."""
    target = cloud.home / "dbt-target"
    argv = [str(REPO_ROOT / ".venv" / "bin" / "dbt"), "build", *SELECTION, "resource_type:seed",
            "--indirect-selection", "cautious", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
            "--target-path", str(target), "--log-path", str(cloud.home / "dbt-logs")]  # fmt: skip
    dbt, _ = timed(lambda: run(argv, cloud.env(), timeout=1800))
    actions, _ = timed(lambda: (trigger_syncs(cloud), convert_leads()))
    return {"run": dbt + actions, "dbt": dbt, "syncs": actions}


def dags_test(env: dict[str, str]) -> dict[str, float]:
    run_id, wall = dag_run(env, DAG_ID)
    return {**run_timings(env, DAG_ID, run_id), "wall": wall}


def scheduler(api: AirflowApi, dag_id: str = DAG_ID) -> dict[str, float]:
    """One run triggered through the REST API and run by the scheduler; timings from the API."""
    api.unpause(dag_id)
    try:
        run_id = api.trigger(dag_id)
        state = api.wait_for_run(dag_id, run_id, timeout=1800)
    finally:
        api.pause(dag_id)  # no hourly run between rounds
    if state != "success":
        raise RuntimeError(f"{dag_id} run {run_id} ended {state}: {api.task_states(dag_id, run_id)}")
    run, tis = api.run(dag_id, run_id), api.task_instances(dag_id, run_id)

    def span(prefix: str | tuple[str, ...]) -> float:
        times = [(ts(t["start_date"]), ts(t["end_date"])) for t in tis if t["task_id"].startswith(prefix)]
        times = [(s, e) for s, e in times if s and e]
        return (max(e for _, e in times) - min(s for s, _ in times)).total_seconds()

    started, ended = ts(run["start_date"]), ts(run["end_date"])
    if started is None or ended is None:
        raise RuntimeError(f"{dag_id} run {run_id} has no start or end date")
    return {"run": (ended - started).total_seconds(), "dbt": span("transform."), "syncs": span(ACTIONS),
            "tasks": float(len(tis))}  # fmt: skip


def main() -> int:
    rounds = int(os.environ.get("BENCH_ACTIVATION_ROUNDS", "1"))
    machine = Machine()
    cloud = Cloud(NAME, {"LOCALCLOUD_SIGNUPS_PER_HOUR": "12"})
    cloud.fresh_up(None)
    api = AirflowApi(f"http://127.0.0.1:{cloud.base_env()['LOCALCLOUD_AIRFLOW_PORT']}", timeout=30)
    with stopped_at_end(cloud):
        cloud.into_environ()
        api.wait_for_dag(DAG_ID, timeout=600)
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        load = [PY, "-m", "dev.bench.load_window", "--start", (hour - timedelta(hours=24)).isoformat(),
                "--end", hour.isoformat(), "--chunk-hours", "24", "--mirror"]  # fmt: skip
        loaded = json.loads(run(load, cloud.env()).strip().splitlines()[-1])
        env = cloud.dag_env()
        warm = scheduler(api)
        log(NAME, f"loaded {loaded}; warm-up activation {warm}")
        results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
        for n in range(rounds):
            for mode in MODES[n % len(MODES) :] + MODES[: n % len(MODES)]:
                event, domain = post_signup(cloud, f"{mode[0]}{n}")
                created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00"))
                interval_end = next_boundary(created)
                dag_run(env, "ingest_cloud_workspaces", interval_end)
                dag_run(env, "ingest_salesforce", interval_end + timedelta(hours=1))
                if mode == "scheduler":
                    figures = scheduler(api)
                elif mode == "dags_test":
                    figures = dags_test(env)
                else:
                    figures = baseline(cloud)
                if not task_exists(domain):
                    raise RuntimeError(f"{mode}: no Salesforce Task for {domain}: the run did not do the work")
                results[mode].append(figures)
                log(NAME, f"{mode}: {figures}")
    machine.finish()
    write(machine, rounds, loaded, warm, results)
    return 0


def write(machine: Machine, rounds: int, loaded: dict, warm: dict[str, float], results: dict[str, list]) -> None:
    def med(mode: str, key: str) -> float:
        return median([r[key] for r in results[mode]])

    sched = {key: med("scheduler", key) for key in ("run", "dbt", "syncs")}
    test = {key: med("dags_test", key) for key in ("run", "dbt", "syncs", "wall")}
    base = {key: med("baseline", key) for key in ("run", "dbt", "syncs")}
    body = [
        machine.header("python -m dev.bench activation"),
        "",
        f"Warehouse: {loaded['loaded']:,} signup events of the last 24 hours plus the Salesforce mirror; one "
        f"activation run first as warm-up ({fmt_s(warm['run'])} under the scheduler, it created what the backlog "
        f"asks for). Then {rounds} round(s) of each mode: one new company's signup, its interval ingested and the "
        "mirror refreshed, then the measured run; each checked that the company's Salesforce Task exists. "
        f"activate_salesforce has {int(warm['tasks'])} tasks: one `dbt build`, one task per model or seed (they "
        "wait in the triggerer), the Hightouch syncs and the lead conversion. Baseline: the same work without "
        f"Airflow and Cosmos: `dbt build` of the same selection with the dbt CLI (`--threads {BUILD_THREADS}`; "
        "the seeds, loaded and unchanged, left out as our build leaves them out), then the syncs triggered in "
        "syncs.yaml order through the Hightouch API, each waited for (0.5 s polls), then the lead conversion "
        "(`include/salesforce/conversion.py` called directly).",
        "",
        "| Activation of a one-signup delta | Total | dbt | Syncs and lead conversion | / baseline |",
        "|---|---:|---:|---:|---:|",
        f"| Airflow + Cosmos, under the scheduler (REST-triggered run) | {fmt_s(sched['run'])} | "
        f"{fmt_s(sched['dbt'])} | {fmt_s(sched['syncs'])} | **{sched['run'] / base['run']:.2f}x** |",
        f"| Airflow + Cosmos, `airflow dags test` (wall {fmt_s(test['wall'])}) | {fmt_s(test['run'])} | "
        f"{fmt_s(test['dbt'])} | {fmt_s(test['syncs'])} | {test['run'] / base['run']:.2f}x |",
        f"| Baseline: dbt CLI + Hightouch API | {fmt_s(base['run'])} | {fmt_s(base['dbt'])} | "
        f"{fmt_s(base['syncs'])} | 1.00x |",
    ]
    write_section(NAME, "Activation: one run for a one-signup delta", body)


if __name__ == "__main__":
    sys.exit(main())
