"""Benchmark: signup -> Salesforce Task latency with the scheduler running.

Starts the whole bench cloud including Airflow (``.local/bench/latency``; scheduler, dag-processor, triggerer, api-
server, LocalExecutor) with ``CLOUD_APP_INGEST_SCHEDULE`` and ``SALESFORCE_MIRROR_SCHEDULE`` set to
``BENCH_LATENCY_SCHEDULE`` (default ``* * * * *``, every minute) and unpauses ingest_cloud_workspaces,
ingest_salesforce and activate_salesforce through the Airflow REST API: both ingestions run at once for the latest
complete interval and their assets start the first activation run (the warm-up). Right then it POSTs one workspace
for a new company, which lands in the current interval, so the activation run that carries it is the next one,
queued behind the warm-up run; it polls Salesforce until that company's Task exists. The DAG runs' start/end times
from the Airflow API split the latency:

- interval close: signup -> end of the data interval that holds it;
- ingestion: interval end -> end of the ingest_cloud_workspaces run for it (includes the scheduler's pick-up);
- wait for the trigger: that run's end -> start of the activation run that carried the signup (the mirror run
  and, when one is in progress, the previous activation run: one activation at a time);
- activation: that run, split into dbt (first to last ``transform.*`` task) and the Hightouch syncs;
- seen: activation end -> the Task found by this poller (5 s polls).

Pauses the DAGs and stops the cloud at the end. Result: the "Latency" section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from dev.bench.activation import post_signup, task_exists
from dev.bench.common import Cloud, Machine, fmt_s, log, stopped_at_end, write_section
from dev.localcloud.airflow_api import AirflowApi
from dev.localcloud.airflow_api import parse_time as ts

NAME = "latency"
DAGS = ("ingest_cloud_workspaces", "ingest_salesforce", "activate_salesforce")


def wait(what: str, check: Any, timeout: float, every: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def main() -> int:
    schedule = os.environ.get("BENCH_LATENCY_SCHEDULE", "* * * * *")
    machine = Machine()
    cloud = Cloud(
        NAME,
        {"LOCALCLOUD_SIGNUPS_PER_HOUR": "12", "CLOUD_APP_INGEST_SCHEDULE": schedule,
         "SALESFORCE_MIRROR_SCHEDULE": schedule},
    )  # fmt: skip
    cloud.fresh_up(None)
    api = AirflowApi(f"http://127.0.0.1:{cloud.base_env()['LOCALCLOUD_AIRFLOW_PORT']}", timeout=30)
    with stopped_at_end(cloud):
        try:
            cloud.into_environ()
            for dag_id in DAGS:
                api.wait_for_dag(dag_id, timeout=600)
            for dag_id in DAGS:
                api.unpause(dag_id)
            # Unpausing runs both ingestions for the latest complete interval at once: their assets start the
            # first activation run (the warm-up). The signup lands in the current interval, so the run that
            # carries it is the next one, after the warm-up run (one activation at a time).
            event, domain = post_signup(cloud, "latency")
            posted = ts(event["created_at"])
            assert posted is not None
            log(
                NAME, f"unpaused {', '.join(DAGS)} ({schedule!r}); posted a workspace for {domain} at {posted:%H:%M:%S}"
            )
            wait(f"the Salesforce Task for {domain}", lambda: task_exists(domain), 3000, every=5)
            seen = datetime.now(UTC)
            log(NAME, f"Task for {domain} seen after {(seen - posted).total_seconds():.0f} s")
            raw = {dag_id: api.runs(dag_id, limit=100) for dag_id in DAGS}  # kept for a post-mortem if the split fails
            (cloud.home / "runs.json").write_text(json.dumps({"posted": str(posted), "seen": str(seen), **raw}))
            warm = _first_activation(api)
            split = _split(api, posted, seen)
        finally:
            for dag_id in DAGS:
                try:
                    api.pause(dag_id)
                except Exception as error:  # noqa: BLE001 - stopping the cloud follows anyway
                    log(NAME, f"could not pause {dag_id}: {error}")
    machine.finish()
    write(machine, schedule, warm, split)
    return 0


def _first_activation(api: AirflowApi) -> dict[str, Any]:
    runs = [r for r in api.runs("activate_salesforce", limit=100) if r["start_date"]]
    first = min(runs, key=lambda r: ts(r["start_date"]))
    return {"state": first["state"], "seconds": (ts(first["end_date"]) - ts(first["start_date"])).total_seconds()}


def _split(api: AirflowApi, posted: datetime, seen: datetime) -> dict[str, Any]:
    ingest = [
        r for r in api.runs("ingest_cloud_workspaces", limit=100)
        if ts(r["data_interval_start"]) <= posted < ts(r["data_interval_end"]) and r["state"] == "success"
    ]  # fmt: skip
    if not ingest:
        raise RuntimeError("no successful ingest_cloud_workspaces run holds the signup's interval")
    ingest_run = min(ingest, key=lambda r: ts(r["end_date"]))
    closed, ingested = ts(ingest_run["data_interval_end"]), ts(ingest_run["end_date"])
    activations = [
        r for r in api.runs("activate_salesforce", limit=100)
        if r["state"] == "success" and ts(r["start_date"]) >= ingested and ts(r["end_date"]) <= seen
    ]  # fmt: skip
    if not activations:
        raise RuntimeError("no successful activation run between the ingestion and the Task")
    activation = min(activations, key=lambda r: ts(r["start_date"]))
    started, ended = ts(activation["start_date"]), ts(activation["end_date"])
    tis = api.task_instances("activate_salesforce", activation["dag_run_id"])

    def span(prefix: str | tuple[str, ...]) -> float:
        times = [(ts(t["start_date"]), ts(t["end_date"])) for t in tis if t["task_id"].startswith(prefix)]
        times = [(s, e) for s, e in times if s and e]
        return (max(e for _, e in times) - min(s for s, _ in times)).total_seconds() if times else 0.0

    mirror = [
        r for r in api.runs("ingest_salesforce", limit=100)
        if r["state"] == "success" and ts(r["end_date"]) <= started
    ]  # fmt: skip
    previous = [
        r for r in api.runs("activate_salesforce", limit=100)
        if r["dag_run_id"] != activation["dag_run_id"] and r["end_date"] and ingested <= ts(r["end_date"]) <= started
    ]  # fmt: skip
    interval = ts(ingest_run["data_interval_end"]) - ts(ingest_run["data_interval_start"])
    return {
        "posted": posted,
        "interval_s": interval.total_seconds(),
        "close": (closed - posted).total_seconds(),
        "ingestion": (ingested - closed).total_seconds(),
        "ingest_run": (ingested - ts(ingest_run["start_date"])).total_seconds(),
        "trigger_wait": (started - ingested).total_seconds(),
        "mirror_end": max((ts(r["end_date"]) for r in mirror), default=None),
        "waited_for_previous_activation": bool(previous),
        "activation": (ended - started).total_seconds(),
        "dbt": span("transform."),
        "syncs": span(("sync_", "convert_")),
        "tasks": len(tis),
        "seen": (seen - ended).total_seconds(),
        "total": (seen - posted).total_seconds(),
        "run_type": activation["run_type"],
    }


def write(machine: Machine, schedule: str, warm: dict[str, Any], s: dict[str, Any]) -> None:
    rows = [
        ("Waiting for the interval to close", s["close"]),
        (f"Ingestion (scheduler pick-up + run of {fmt_s(s['ingest_run'])})", s["ingestion"]),
        ("Waiting for the asset trigger (mirror"
         + (", previous activation run" if s["waited_for_previous_activation"] else "") + ")", s["trigger_wait"]),
        (f"Activation run ({s['tasks']} tasks): dbt part {fmt_s(s['dbt'])}, syncs and lead conversion "
         f"{fmt_s(s['syncs'])}", s["activation"]),
        ("Activation end -> Task seen by the poller (5 s polls)", s["seen"]),
    ]  # fmt: skip
    body = [
        machine.header(f"BENCH_LATENCY_SCHEDULE='{schedule}' python -m dev.bench latency"),
        "",
        f"Full bench cloud with the scheduler (LocalExecutor) and both ingestion schedules `{schedule}`. The three "
        "DAGs were unpaused through the REST API: both ingestions ran at once for the latest complete interval and "
        f"started the first activation run (warm-up: {warm['seconds']:.0f} s, {warm['state']}). Right after "
        f"unpausing, one workspace for a new company was POSTed ({s['posted']:%H:%M:%S} UTC) and Salesforce polled "
        "until its Task existed: its interval is the next one, so its activation run is the second, queued behind "
        "the warm-up run (one activation at a time), as in steady state when the interval is shorter than a run. "
        f"The activation that carried it was a `{s['run_type']}` run. Times from the Airflow API's DAG run and "
        "task instance start/end dates.",
        "",
        "| Phase | Seconds |",
        "|---|---:|",
        *[f"| {label} | {seconds:.0f} |" for label, seconds in rows],
        f"| **Signup -> Salesforce Task** | **{s['total']:.0f}** |",
        "",
        f"Ratios: **latency / schedule interval = {s['total'] / s['interval_s']:.2f}x** "
        f"({s['interval_s'] / 60:.0f}-minute interval); **latency / activation run = "
        f"{s['total'] / s['activation']:.2f}x**.",
    ]
    write_section(NAME, "Latency: signup -> Salesforce Task with the scheduler running", body)


if __name__ == "__main__":
    sys.exit(main())
