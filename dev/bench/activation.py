"""Benchmark: one activate_salesforce run for a one-signup delta, vs the same work without Airflow and Cosmos.

On its own bench cloud (S3, Snowflake, emulators; ``.local/bench/activation``): 24 hours of signups (12 an hour,
as the demo) and a Salesforce mirror, then one activation as warm-up (it creates everything the backlog asks
for). Then, ``BENCH_ACTIVATION_ROUNDS`` times (default 1), alternating which goes first: for each of
``pipeline`` and ``baseline``, POST one signup for a new company, run ingest_cloud_workspaces for its interval
and ingest_salesforce (`airflow dags test`, not timed), then

- ``pipeline``: `airflow dags test activate_salesforce` (Cosmos LOCAL mode, one task at a time): its DAG run's
  duration, the dbt part (first to last ``transform.*`` task) and the syncs part, from the metadata DB;
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
from dev.localcloud.settings import CLOUD_APP_TOKEN, HIGHTOUCH_TOKEN, REPO_ROOT

NAME = "activation"
RUN = uuid.uuid4().hex[:6]
# The DAG's render selection (activate_salesforce.py).
SELECTION = ["--select", "path:seeds", "path:models"]
SELECTION += ["--exclude", "path:models/staging/smoke", "resource_type:exposure"]


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
    """The six syncs in syncs.yaml order through the Hightouch API, each waited for; fails unless all succeed."""
    from include.hightouch.syncs import default_syncs

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {HIGHTOUCH_TOKEN}"
    runs = []
    for sync in default_syncs().syncs:
        response = session.post(f"{hightouch_url(cloud)}/syncs/trigger", data={"syncSlug": sync.slug}, timeout=30)
        response.raise_for_status()
        run_id = response.json()["id"]
        deadline = time.monotonic() + 600
        while True:
            body = session.get(f"{hightouch_url(cloud)}/syncs/{sync.id}/runs", params={"runId": run_id}, timeout=30)
            body.raise_for_status()
            state = body.json()["data"][0]
            if state["status"] in {"success", "warning", "failed", "cancelled", "interrupted"}:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sync {sync.slug} run {run_id} not finished in 600 s")
            time.sleep(0.5)
        if state["status"] != "success":
            raise RuntimeError(f"sync {sync.slug} run {run_id}: {state['status']} {state.get('error')}")
        runs.append(state)
    return runs


def baseline(cloud: Cloud) -> dict[str, float]:
    target = cloud.home / "dbt-target"
    argv = [str(REPO_ROOT / ".venv" / "bin" / "dbt"), "build", *SELECTION, "--project-dir", "dbt_project",
            "--profiles-dir", "dbt_project", "--target-path", str(target),
            "--log-path", str(cloud.home / "dbt-logs")]  # fmt: skip
    dbt, _ = timed(lambda: run(argv, cloud.env(), timeout=1800))
    syncs, _ = timed(lambda: trigger_syncs(cloud))
    return {"run": dbt + syncs, "dbt": dbt, "syncs": syncs}


def pipeline(env: dict[str, str]) -> dict[str, float]:
    run_id, wall = dag_run(env, "activate_salesforce")
    return {**run_timings(env, "activate_salesforce", run_id), "wall": wall}


def main() -> int:
    rounds = int(os.environ.get("BENCH_ACTIVATION_ROUNDS", "1"))
    machine = Machine()
    cloud = Cloud(NAME, {"LOCALCLOUD_SIGNUPS_PER_HOUR": "12"})
    cloud.fresh_up("s3,snowflake,emulators")
    with stopped_at_end(cloud):
        cloud.into_environ()
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        load = [PY, "-m", "dev.bench.load_window", "--start", (hour - timedelta(hours=24)).isoformat(),
                "--end", hour.isoformat(), "--chunk-hours", "24", "--mirror"]  # fmt: skip
        loaded = json.loads(run(load, cloud.env()).strip().splitlines()[-1])
        env = cloud.dag_env()
        warm = pipeline(env)
        log(NAME, f"loaded {loaded}; warm-up activation {warm}")
        results: dict[str, list[dict[str, float]]] = {"pipeline": [], "baseline": []}
        for n in range(rounds):
            for mode in ("pipeline", "baseline") if n % 2 == 0 else ("baseline", "pipeline"):
                event, domain = post_signup(cloud, f"{mode[0]}{n}")
                created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00"))
                interval_end = next_boundary(created)
                dag_run(env, "ingest_cloud_workspaces", interval_end)
                dag_run(env, "ingest_salesforce", interval_end + timedelta(hours=1))
                figures = pipeline(env) if mode == "pipeline" else baseline(cloud)
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

    p = {key: med("pipeline", key) for key in ("run", "dbt", "syncs", "wall")}
    b = {key: med("baseline", key) for key in ("run", "dbt", "syncs")}
    body = [
        machine.header("python -m dev.bench activation"),
        "",
        f"Warehouse: {loaded['loaded']:,} signup events of the last 24 hours plus the Salesforce mirror; one "
        f"activation run first as warm-up ({fmt_s(warm['run'])}, it created what the backlog asks for). Then "
        f"{rounds} round(s): one new company's signup, its interval ingested and the mirror refreshed, then the "
        "measured run; each round checked that the company's Salesforce Task exists. Airflow: `airflow dags test "
        f"activate_salesforce` ({int(warm['tasks'])} tasks, Cosmos LOCAL, one task at a time; run, dbt and syncs "
        "read from the metadata DB). Baseline: `dbt build` of the same selection with the dbt CLI, then the six "
        "syncs triggered in syncs.yaml order through the Hightouch API, each waited for.",
        "",
        "| Activation of a one-signup delta | Total | dbt | Syncs (6) |",
        "|---|---:|---:|---:|",
        f"| Airflow + Cosmos: DAG run (`dags test` wall {fmt_s(p['wall'])}) | {fmt_s(p['run'])} | {fmt_s(p['dbt'])} "
        f"| {fmt_s(p['syncs'])} |",
        f"| Baseline: dbt CLI + Hightouch API | {fmt_s(b['run'])} | {fmt_s(b['dbt'])} | {fmt_s(b['syncs'])} |",
        f"| Ratio | **{p['run'] / b['run']:.2f}x** | {p['dbt'] / b['dbt']:.2f}x | {p['syncs'] / b['syncs']:.2f}x |",
    ]
    write_section(NAME, "Activation: one run for a one-signup delta", body)


if __name__ == "__main__":
    sys.exit(main())
