"""``make demo``: the whole pipeline on the local cloud, run by the real Airflow scheduler, then what it did.

1. The three pipeline DAGs are unpaused. The scheduler runs both ingestions for the latest complete data
   interval (a DAG unpaused for the first time gets that run from its timetable; one that already ran gets its
   latest run cleared, which is how Airflow re-processes an interval).
2. When both have landed, their Assets trigger ``activate_salesforce``: dbt decides, Hightouch writes to
   Salesforce.
3. dbt docs are generated against the local warehouse (the local Airflow shows them: Browse > dbt Docs), and
   a page shows what the run's signups became in Salesforce, per account manager (``.local/runs/``).
4. The summary reads what the tasks returned (XCom) and the warehouse, and links the run, any failed task,
   the docs, the page and the emulators' API pages.

Running it again re-processes the same interval (or the next one, if it has closed since): nothing already in
Salesforce changes, and the syncs plan 0 rows for it.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dev import dbt_docs, demo_links
from dev.localcloud.airflow_api import AirflowApi, AirflowApiError, parse_time
from dev.localcloud.env import read_env_file
from dev.localcloud.settings import CloudSettings, load_settings
from include.hightouch.syncs import default_syncs

# The DAGs that deliver what activation waits for (include/assets.INGESTED_ASSETS; dev/tests/test_demo_ingestions.py).
INGESTIONS = ("ingest_salesforce", "ingest_cloud_workspaces")
ACTIVATION = "activate_salesforce"
FINISHED = {"success", "failed"}
NEW_RUN_WAIT = 90.0  # seconds the scheduler gets to create a run after an unpause or a clear
RUN_TIMEOUT = 1800.0  # the activation DAG's own dagrun_timeout is 90 min; a busy laptop needs more than 15
ASSET_EVENT_LEAD = timedelta(seconds=15)  # an Asset event precedes its run's end by its last task's wrap-up
LOG_EVERY = 15.0  # seconds between progress lines when the output is not a terminal


class DemoError(RuntimeError):
    pass


def failure_message(base: str, dag_id: str, run_id: str, state: str, task_instances: list[dict[str, Any]]) -> str:
    """What failed, with the run's page and each failed task's page in the Airflow UI."""
    failed = demo_links.failed_tasks(task_instances)
    lines = [f"{dag_id} run {run_id} {state}", f"  run          {demo_links.run_url(base, dag_id, run_id)}"]
    lines += [
        f"  {t.state:<12} {t.label}: {demo_links.task_url(base, dag_id, run_id, t.task_id, t.map_index)}"
        for t in failed
    ]
    return "\n".join(lines)


@dataclass
class Progress:
    """One line per stage; while a stage waits, a status line that is redrawn on a terminal."""

    stages: int
    started: float = field(default_factory=time.monotonic)
    _current: int = 0
    _last_status: str = ""
    _last_printed: float = 0.0

    def stage(self, text: str) -> None:
        self._end_status()
        self._current += 1
        print(f"[demo {self._clock()}] ({self._current}/{self.stages}) {text}", flush=True)

    def status(self, text: str) -> None:
        if text == self._last_status:
            return
        if sys.stdout.isatty():
            print(f"\r\033[K    {text}", end="", flush=True)
        elif time.monotonic() - self._last_printed >= LOG_EVERY:  # a log file gets a line every LOG_EVERY s
            print(f"    [{self._clock()}] {text}", flush=True)
            self._last_printed = time.monotonic()
        self._last_status = text

    def note(self, text: str) -> None:
        self._end_status()
        print(f"    {text}", flush=True)

    def _end_status(self) -> None:
        if self._last_status and sys.stdout.isatty():
            print(flush=True)
        self._last_status = ""

    def _clock(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        return f"{elapsed // 60:02d}:{elapsed % 60:02d}"

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _task_summary(states: dict[str, str | None]) -> str:
    counts = Counter(state or "scheduled" for state in states.values())
    done = counts.get("success", 0) + counts.get("skipped", 0)
    detail = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()) if state not in {"success", "skipped"})
    return f"{done}/{len(states)} tasks done" + (f" ({detail})" if detail else "")


def start_ingestions(api: AirflowApi, dag_ids: tuple[str, ...], progress: Progress) -> dict[str, str]:
    """Have the scheduler run each ingestion for its latest interval; return the run ids.

    DAGs are switched on together, so both pick the same latest interval; a DAG that was already on gets its
    latest run cleared (or followed, if it is still running).
    """
    was_paused = {dag_id: api.is_paused(dag_id) for dag_id in dag_ids}
    known = {dag_id: {run["dag_run_id"] for run in api.runs(dag_id)} for dag_id in dag_ids}
    for dag_id in dag_ids:
        api.unpause(dag_id)
    runs: dict[str, str] = {}
    # catchup=False: the timetable schedules the latest complete interval as soon as a DAG is switched on. The
    # interval it starts with was computed at the last parse, so an interval that closed since comes right
    # after: wait until the DAG's next run is in the future, then follow the newest.
    deadline = time.monotonic() + NEW_RUN_WAIT
    waiting = [dag_id for dag_id in dag_ids if was_paused[dag_id]]
    while waiting and time.monotonic() < deadline:
        for dag_id in list(waiting):
            new = [run for run in api.runs(dag_id) if run["dag_run_id"] not in known[dag_id]]
            next_run = parse_time(api.dag(dag_id).get("next_dagrun_run_after"))
            if new and next_run is not None and next_run > datetime.now(UTC):
                newest = max(new, key=lambda run: run.get("data_interval_end") or "")
                runs[dag_id] = str(newest["dag_run_id"])
                progress.note(f"{dag_id}: the scheduler started {runs[dag_id]}")
                waiting.remove(dag_id)
        time.sleep(1)
    for dag_id in dag_ids:
        if dag_id in runs:
            continue
        latest = next(iter(api.runs(dag_id, limit=1)), None)
        if latest is None:
            raise DemoError(f"{dag_id} has no run after {NEW_RUN_WAIT:.0f}s: is the scheduler up? (`make status`)")
        runs[dag_id] = str(latest["dag_run_id"])
        if latest["state"] in FINISHED:
            api.clear_run(dag_id, runs[dag_id])
            progress.note(f"{dag_id}: re-running {runs[dag_id]} (cleared: same interval, same result)")
        else:
            progress.note(f"{dag_id}: following {runs[dag_id]} ({latest['state']})")
    return runs


def wait_for_runs(api: AirflowApi, runs: dict[str, str], progress: Progress, ui_base: str) -> dict[str, dict[str, Any]]:
    """Wait until every (dag_id, run_id) has finished; fail with the failed tasks if one did not succeed."""
    deadline = time.monotonic() + RUN_TIMEOUT
    finished: dict[str, dict[str, Any]] = {}
    time.sleep(3)  # a cleared run is still "success" for a moment before the scheduler picks it up
    while time.monotonic() < deadline:
        parts = []
        for dag_id, run_id in runs.items():
            run = api.run(dag_id, run_id)
            states = api.task_states(dag_id, run_id)
            if run["state"] in FINISHED and run.get("end_date"):
                finished[dag_id] = run
            parts.append(f"{dag_id}: {run['state']}, {_task_summary(states)}")
        progress.status("; ".join(parts))
        if len(finished) == len(runs):
            break
        time.sleep(2)
    else:
        waiting = [demo_links.run_url(ui_base, d, r) for d, r in runs.items() if d not in finished]
        raise DemoError(f"not finished within {RUN_TIMEOUT:.0f}s: " + "  ".join(waiting))
    failures = [
        failure_message(ui_base, dag_id, runs[dag_id], run["state"], api.task_instances(dag_id, runs[dag_id]))
        for dag_id, run in finished.items()
        if run["state"] != "success"
    ]
    if failures:
        raise DemoError("\n".join(failures))
    return finished


def wait_for_activation(api: AirflowApi, after: datetime, progress: Progress) -> str:
    """The activation run the ingestions' Assets triggered: the first one queued after both runs landed.

    ``after`` is a little before the later ingestion run ended (its Asset event comes from its last task).
    """
    deadline = time.monotonic() + NEW_RUN_WAIT
    give_up = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < min(deadline, give_up):
        recent = api.runs(ACTIVATION, limit=5)
        for run in recent:
            run_after = parse_time(run.get("run_after"))
            if run_after and run_after >= after:
                progress.note(f"{ACTIVATION}: {run['run_type']} run {run['dag_run_id']}")
                return str(run["dag_run_id"])
        busy = [run for run in recent if run["state"] in {"queued", "running"}]
        if busy:
            # One activation at a time: ours is created when this one ends.
            progress.status(f"waiting for {ACTIVATION} run {busy[0]['dag_run_id']} ({busy[0]['state']}) to finish")
            deadline = time.monotonic() + NEW_RUN_WAIT
        time.sleep(2)
    raise DemoError(f"the Assets did not trigger {ACTIVATION} within {NEW_RUN_WAIT:.0f}s (is it paused?)")


def _xcom(api: AirflowApi, dag_id: str, run_id: str, task_id: str) -> Any:
    try:
        return api.xcom(dag_id, run_id, task_id)
    except AirflowApiError:
        return None


def summarise(api: AirflowApi, settings: CloudSettings, runs: dict[str, str], elapsed: float, made: Made) -> list[str]:
    cloud = _xcom(api, "ingest_cloud_workspaces", runs["ingest_cloud_workspaces"], "load_to_snowflake") or {}
    mirror = _xcom(api, "ingest_salesforce", runs["ingest_salesforce"], "mirror_complete") or {}
    quarantined = cloud.get("quarantined") or {}
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(quarantined.items())) or "none"
    lines = [
        "",
        "What the pipeline did",
        f"  Signups    interval {cloud.get('interval_start')} .. {cloud.get('interval_end')}: "
        f"{cloud.get('extracted', 0)} extracted, {cloud.get('valid', 0)} valid and loaded, "
        f"{sum(quarantined.values())} quarantined ({reasons})",
        "  CRM mirror " + ", ".join(f"{obj} {n}" for obj, n in sorted(mirror.items())) + " records landed",
        "  Hightouch  (one run per sync, in dependency order)",
    ]
    created: Counter[str] = Counter()
    updated: Counter[str] = Counter()
    for sync in default_syncs().syncs:
        task_id = f"sync_{sync.slug.replace('-', '_')}"
        result = _xcom(api, ACTIVATION, runs[ACTIVATION], task_id)
        if not result:
            lines.append(f"    {sync.slug:<26} no result")
            continue
        planned, ok, failed = result["planned_rows"], result["successful_rows"], result["failed_rows"]
        if sync.mode == "update":  # rows new to an update sync are still updates of existing records
            updated[sync.destination_object] += ok["added"] + ok["changed"]
        else:
            created[sync.destination_object] += ok["added"]
            updated[sync.destination_object] += ok["changed"]
        lines.append(
            f"    {sync.slug:<26} run {result['run_id']:>4} {result['status']:<8} planned {sum(planned.values()):>4}"
            f"  ok +{ok['added']} ~{ok['changed']}  failed {sum(failed.values())}"
        )
    conversions = _xcom(api, ACTIVATION, runs[ACTIVATION], "convert_salesforce_leads")
    lines.append(
        "  Leads      convertLead(): "
        + (
            f"planned {conversions['planned']}, converted {conversions['successful']}, already converted "
            f"{conversions['already_converted']}, failed {conversions['failed']}"
            if conversions
            else "no result"
        )
    )
    objects = sorted(set(created) | set(updated))
    lines.append(
        "  Salesforce " + ", ".join(f"{obj} {created[obj]} created / {updated[obj]} updated" for obj in objects)
    )
    lines.append(f"  Wall time  {elapsed:.0f}s")
    return lines + where_to_look(settings, runs, made)


@dataclass(frozen=True)
class Made:
    """What the demo made besides the run: the dbt docs site and the run page, each a path or why it is missing."""

    docs: Path | None = None
    docs_error: str | None = None
    page: str | None = None  # the run page's URL in the Airflow UI
    page_error: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.docs_error or self.page_error)


def alerts_webhook_url(settings: CloudSettings) -> str:
    """Where the local cloud's alerts go: the alerts_webhook connection's URL (its password)."""
    import json

    from include.connections import ALERTS_WEBHOOK, env_var_name

    env = read_env_file(settings.env_file) if settings.env_file.exists() else {}
    connection = env.get(env_var_name(ALERTS_WEBHOOK))
    return str(json.loads(connection)["password"]) if connection else "not configured (alerts go to task logs)"


def where_to_look(settings: CloudSettings, runs: dict[str, str], made: Made) -> list[str]:
    base = demo_links.airflow_base_url(settings)
    lines = [
        "",
        "Where to look",
        f"  Activation run  {demo_links.run_url(base, ACTIVATION, runs[ACTIVATION])}",
        *(
            f"  {'Ingestion runs' if i == 0 else '':<15} {demo_links.run_url(base, dag_id, runs[dag_id])}"
            for i, dag_id in enumerate(INGESTIONS)
        ),
    ]
    if made.page is not None:
        lines.append(f"  Run page        {made.page}")
        lines.append("                  (the run's tab 'What this run did': syncs, per account manager, what did not")
        lines.append("                  reach Salesforce and why; every activation run has one)")
    else:
        lines.append(f"  Run page        not served: {made.page_error}")
    lines.append(f"  Alerts          connection alerts_webhook -> {alerts_webhook_url(settings)}")
    lines.append("                  (the local chat: failed tasks, missed deadlines, approvals; `make alerts`)")
    if made.docs is not None:
        lines.append(f"  dbt docs        {demo_links.plugin_page_url(base, dbt_docs.VIEW_NAME)}  (Browse > dbt Docs)")
        lines.append(f"                  {dbt_docs.site_url(base)}  (the site alone; files in {made.docs})")
    else:
        lines.append(f"  dbt docs        not generated: {made.docs_error}")
    pages = demo_links.api_pages(settings)
    lines += [f"  {'API pages' if i == 0 else '':<15} {page.url}  ({page.service})" for i, page in enumerate(pages)]
    lines += [
        '  Salesforce      make soql Q="SELECT Name, Website, OwnerId FROM Account WHERE Dwh_External_Id__c != null"',
        '                  make soql Q="SELECT Subject, ActivityDate, OwnerId, WhatId FROM Task LIMIT 10"',
        "  Warehouse       make sql Q='SELECT * FROM ANALYTICS.MARTS.SYNC_SALESFORCE_ACCOUNTS LIMIT 10'",
        "                  make sql Q='SELECT RECORD:reason, COUNT(*) "
        "FROM RAW.CLOUD_APP.WORKSPACES_QUARANTINE GROUP BY 1'",
        f"  S3 files        {settings.bucket_dir}/cloud_app/workspaces/",
        "  Stop it         make down   (state stays in .local/; `make clean` removes it)",
    ]
    return lines


def run_page_urls(base: str, run_id: str) -> tuple[str, str]:
    """The run page as a tab of the run in the Airflow UI, and the page alone (plugins/activation_run_page.py)."""
    from plugins.activation_run_page import URL_ROUTE, page_path

    tab = f"{demo_links.run_url(base, ACTIVATION, run_id)}/plugin/{URL_ROUTE}"
    return tab, f"{base.rstrip('/')}{page_path(ACTIVATION, run_id)}"


def check_run_page(api: AirflowApi, run_id: str) -> str:
    """The page the Airflow API server serves for the run: it must render the run's record."""
    from plugins.activation_run_page import page_path

    response = api.page(page_path(ACTIVATION, run_id))
    if response.status_code != 200 or "What this activation run did" not in response.text:
        raise ValueError(f"the run page answered HTTP {response.status_code}: {response.text[:200]!r}")
    if 'id="no-record"' in response.text:
        raise ValueError("the run page found no record of the run in the warehouse (ACTIVATION.RUN_LOG)")
    return response.text


def make_the_views(settings: CloudSettings, api: AirflowApi, runs: dict[str, str]) -> Made:
    """The run page (served by Airflow) and the dbt docs; a failure of either is reported, not raised: the run
    itself is done."""
    import requests

    cloud_env = read_env_file(settings.env_file)
    page = page_error = docs = docs_error = None
    try:
        check_run_page(api, runs[ACTIVATION])
        page = run_page_urls(demo_links.airflow_base_url(settings), runs[ACTIVATION])[0]
    except (ValueError, requests.RequestException) as exc:
        page_error = f"{type(exc).__name__}: {exc}"
    try:
        docs = dbt_docs.generate(settings, cloud_env).directory
        dbt_docs.check_served(f"http://127.0.0.1:{settings.airflow_port}", settings)
    except (dbt_docs.DbtDocsError, requests.RequestException) as exc:
        docs, docs_error = None, str(exc)
    return Made(docs=docs, docs_error=docs_error, page=page, page_error=page_error)


def main() -> int:
    settings = load_settings()
    progress = Progress(stages=5)
    api = AirflowApi(f"http://127.0.0.1:{settings.airflow_port}")
    ui = demo_links.airflow_base_url(settings)
    try:
        progress.stage("waiting for the dag-processor to parse the pipeline")
        for dag_id in (*INGESTIONS, ACTIVATION):
            api.wait_for_dag(dag_id)
        # On first, so that the ingestions' Asset events are queued for it (a paused DAG gets none).
        api.unpause(ACTIVATION)

        progress.stage("ingestion: the scheduler runs the Salesforce mirror and the signup extraction")
        started_at = datetime.now(UTC)
        runs = start_ingestions(api, INGESTIONS, progress)
        landed = wait_for_runs(api, runs, progress, ui)

        progress.stage(f"activation: both Assets landed, so the scheduler runs {ACTIVATION} (dbt, then Hightouch)")
        last_end = max(parse_time(run["end_date"]) or started_at for run in landed.values())
        runs[ACTIVATION] = wait_for_activation(api, max(started_at, last_end - ASSET_EVENT_LEAD), progress)
        progress.note(f"{ACTIVATION}: {demo_links.run_url(ui, ACTIVATION, runs[ACTIVATION])}")
        wait_for_runs(api, {ACTIVATION: runs[ACTIVATION]}, progress, ui)

        progress.stage("the run page (what the run did, per account manager) and dbt docs (dbt docs generate)")
        made = make_the_views(settings, api, runs)

        progress.stage("summary")
    except (DemoError, AirflowApiError) as exc:
        progress.note("")
        print(f"[demo] FAILED: {exc}\n[demo] logs: {ui}/dags  and {settings.log_dir}/ (make logs)")
        return 1
    print("\n".join(summarise(api, settings, runs, progress.elapsed(), made)), flush=True)
    return 1 if made.failed else 0


if __name__ == "__main__":
    sys.exit(main())
