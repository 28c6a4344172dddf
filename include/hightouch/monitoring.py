"""Is every Hightouch sync healthy? A sync is healthy when its last finished run succeeded.

Activation runs syncs from Airflow, but syncs also run on Hightouch schedules, by hand, or not at all: a sync
whose last run failed, only half-worked (``warning``), or never ran leaves Salesforce behind the warehouse
without any Airflow task turning red. This module asks Hightouch for every sync and its recent runs (through
the provider's ``HightouchHook``: same connection, auth and API retries as the operator), classifies them with
pure functions (unit-tested on API payloads), and alerts: a warning log line per unhealthy sync, one Slack
message if the ``slack_alerts`` connection exists, and a failed task.

Slack is posted with ``HttpHook`` to an incoming webhook: apache-airflow-providers-slack is not in this image,
and one JSON POST does not justify a dependency. The ``slack_alerts`` connection is an ``http`` connection with
``host`` = ``https://hooks.slack.com`` and ``password`` = the webhook's secret path ``/services/T…/B…/…``
(the password is masked in logs and the UI; a host is not).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import requests
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowNotFoundException
from airflow_provider_hightouch.consts import PENDING_STATUSES, SUCCESS, TERMINAL_STATUSES
from airflow_provider_hightouch.hooks.hightouch import HightouchHook

from include.connections import HIGHTOUCH, SLACK_ALERTS
from include.hightouch.operator import row_counts

log = logging.getLogger(__name__)

#: How many recent runs to read per sync to find the last finished one (runs can queue behind a running one).
RUNS_PER_SYNC = 10
#: Hightouch's default and documented page size for ``GET /syncs``.
PAGE_SIZE = 100


@dataclass(frozen=True)
class SyncHealth:
    """One sync's verdict, with what an alert needs to say about it."""

    sync_id: str
    slug: str
    healthy: bool
    status: str | None  # status of the last finished run; None if no finished run was found
    run_id: str | None
    run_at: str | None  # when that run finished (or was created, if Hightouch gave no finish time)
    failed_rows: int
    error: str | None
    in_progress: bool  # a run is queued or running now: its outcome is not judged yet
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _run_order(run: Mapping[str, Any]) -> tuple[str, int]:
    run_id = str(run.get("id", ""))
    return str(run.get("createdAt") or ""), int(run_id) if run_id.isdigit() else -1


def last_finished_run(runs: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest run in a terminal state, whatever order the API listed them in."""
    finished = [r for r in runs if r.get("status") in TERMINAL_STATUSES]
    return max(finished, key=_run_order) if finished else None


def assess(sync: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> SyncHealth:
    """Classify a sync (``GET /syncs`` item) from its recent runs (``GET /syncs/{id}/runs``).

    A run still in progress is not judged: the previous finished run decides, so a monitor that happens to
    run during an activation does not flap. No finished run at all (never run, or only queued runs) is
    unhealthy: nothing has reached the destination.
    """
    sync_id, slug = str(sync["id"]), str(sync.get("slug") or sync["id"])
    in_progress = any(r.get("status") in PENDING_STATUSES for r in runs)
    last = last_finished_run(runs)
    if last is None:
        never = not runs and not sync.get("lastRunAt")
        return SyncHealth(
            sync_id=sync_id,
            slug=slug,
            healthy=False,
            status=None,
            run_id=None,
            run_at=None,
            failed_rows=0,
            error=None,
            in_progress=in_progress,
            reason="has never run" if never else f"no finished run among its {len(runs)} most recent runs",
        )

    status = str(last["status"])
    failed = sum(row_counts(last, "failedRows").values())
    run_at = last.get("finishedAt") or last.get("createdAt")
    if status == SUCCESS:
        reason = f"last run {last['id']} succeeded at {run_at}"
    else:
        reason = f"last run {last['id']} ended {status} at {run_at}: {failed} failed rows; error: {last.get('error')}"
    if in_progress:
        reason += " (a run is in progress now)"
    return SyncHealth(
        sync_id=sync_id,
        slug=slug,
        healthy=status == SUCCESS,
        status=status,
        run_id=str(last["id"]),
        run_at=run_at,
        failed_rows=failed,
        error=last.get("error"),
        in_progress=in_progress,
        reason=reason,
    )


def alert_text(unhealthy: Sequence[SyncHealth], total: int) -> str:
    """The Slack message: one line per unhealthy sync, most useful facts first."""
    lines = [f":rotating_light: Hightouch: {len(unhealthy)} of {total} syncs unhealthy"]
    lines += [f"• `{h.slug}` (id {h.sync_id}): {h.reason}" for h in unhealthy]
    return "\n".join(lines)


def list_syncs(hook: HightouchHook, page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """Every sync in the workspace, page by page (``limit``/``offset``; a short page is the last one).

    The hook's ``make_request`` unwraps ``data`` and drops ``hasMore``, hence the short-page rule.
    """
    syncs: list[dict[str, Any]] = []
    while True:
        page = hook.make_request("GET", "syncs", data={"limit": page_size, "offset": len(syncs)})
        syncs += page
        if len(page) < page_size:
            return syncs


def recent_runs(hook: HightouchHook, sync_id: str, limit: int = RUNS_PER_SYNC) -> list[dict[str, Any]]:
    """The sync's newest runs (Hightouch lists them newest first; ``assess`` does not rely on it)."""
    return list(hook.make_request("GET", f"syncs/{sync_id}/runs", data={"limit": limit}))


def check_syncs(
    conn_id: str = HIGHTOUCH, *, page_size: int = PAGE_SIZE, runs_per_sync: int = RUNS_PER_SYNC
) -> list[SyncHealth]:
    """Every sync's health, in the order Hightouch lists them."""
    hook = HightouchHook(hightouch_conn_id=conn_id)
    return [assess(sync, recent_runs(hook, str(sync["id"]), runs_per_sync)) for sync in list_syncs(hook, page_size)]


def post_to_slack(text: str, conn_id: str = SLACK_ALERTS) -> bool:
    """Post ``text`` to the webhook of connection ``conn_id``; False (and nothing sent) if it is not defined."""
    from airflow.providers.http.hooks.http import HttpHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        log.info("No %s connection: alert not sent to Slack", conn_id)
        return False
    HttpHook(method="POST", http_conn_id=conn_id).run(endpoint=conn.password or "", json={"text": text})
    return True


def check_and_alert(hightouch_conn_id: str = HIGHTOUCH, slack_conn_id: str = SLACK_ALERTS) -> list[dict[str, Any]]:
    """Check every sync, alert on the unhealthy ones and fail; return every verdict when all are healthy.

    Fails with ``AirflowFailException`` (no retries): the syncs will not heal within a retry delay, and each
    retry would post the same Slack alert again. Errors reaching Hightouch stay ordinary (retried) failures.
    """
    verdicts = check_syncs(hightouch_conn_id)
    unhealthy = [v for v in verdicts if not v.healthy]
    for verdict in verdicts:
        if verdict.healthy:
            log.info("Hightouch sync %s (id %s) healthy: %s", verdict.slug, verdict.sync_id, verdict.reason)
        else:
            log.warning("Hightouch sync %s (id %s) UNHEALTHY: %s", verdict.slug, verdict.sync_id, verdict.reason)
    if not unhealthy:
        return [v.as_dict() for v in verdicts]

    try:
        post_to_slack(alert_text(unhealthy, len(verdicts)), slack_conn_id)
    except (AirflowException, requests.RequestException) as exc:  # the failure below still reports everything
        log.error("Could not post the alert to Slack: %s", exc)
    raise AirflowFailException(
        f"{len(unhealthy)} of {len(verdicts)} Hightouch syncs unhealthy: "
        + "; ".join(f"{h.slug}: {h.reason}" for h in unhealthy)
    )
