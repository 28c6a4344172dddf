"""Are the Hightouch syncs of ``syncs.yaml`` healthy? A sync is healthy when its last finished run succeeded.

Activation runs syncs from Airflow, but a sync may also be run by hand, or not at all: a sync whose last run
failed, only half-worked (``warning``), or never ran leaves Salesforce behind the warehouse without any Airflow
task turning red. This module judges every sync of the catalogue (``syncs.default_syncs()``), the syncs the
pipeline depends on, by what the Hightouch API reference documents (https://hightouch.com/docs/api-reference):

- the sync object (``GET /syncs``) carries ``status``, "the overall status of the sync", which the Hightouch UI
  derives from the latest run (https://hightouch.com/docs/syncs/overview), ``lastRunAt`` and ``disabled``;
- ``GET /syncs/{id}/runs`` promises no order (``orderBy`` defaults to ``id`` and no direction is documented),
  so runs are only read to explain a verdict or to find the last finished run while one is in progress, and
  always as a whole window (``after`` = now - lookback, every page), ordered here by ``createdAt`` and id.

Verdicts come from pure functions over API payloads (unit-tested); the calls are at the edge
(``check_workspace``). A catalogue sync missing from the workspace is unhealthy; a disabled one is skipped
(logged, not judged: ``preflight`` reports it); a workspace sync that is not in the catalogue is listed in
its own log section, not judged. On any unhealthy sync: a warning line per sync, one message through the
pipeline's alert notifier (``include/alerts.py``: the ``alerts_webhook`` connection, Slack or Mattermost; the
log when it is not configured), and a failed task.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from include import alerts
from include.connections import ALERTS_WEBHOOK, HIGHTOUCH
from include.hightouch.api import HightouchApi
from include.hightouch.operator import row_counts
from include.hightouch.syncs import SyncCatalogue, default_syncs

log = logging.getLogger(__name__)

#: Run statuses (the reference's ``SyncRunStatus``) of a run that has ended, and of one still going.
FINISHED = frozenset({"success", "warning", "failed", "cancelled", "interrupted"})
IN_PROGRESS = frozenset({"queued", "querying", "processing", "reporting"})
SUCCESS = "success"
#: How far back runs are read to find the last finished one while a run is in progress.
LOOKBACK = dt.timedelta(days=7)


@dataclass(frozen=True)
class SyncHealth:
    """One catalogue sync's verdict, with what an alert needs to say about it."""

    sync_id: str | None  # None when the workspace has no sync with this slug
    slug: str
    healthy: bool
    status: str | None  # the status the verdict rests on: the sync's, or the last finished run's
    reason: str
    # The run the verdict rests on, if any.
    run_id: str | None = None
    run_at: str | None = None  # when that run finished (or was created, if Hightouch gave no finish time)
    failed_rows: int = 0
    error: str | None = None
    in_progress: bool = False  # a run is queued or running now: its outcome is not judged yet

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MonitorReport:
    """The catalogue's verdicts, the catalogue syncs skipped, and the workspace syncs outside the catalogue."""

    verdicts: tuple[SyncHealth, ...]
    disabled: tuple[str, ...] = ()  # slugs of catalogue syncs disabled in Hightouch: not judged
    outside_catalogue: tuple[str, ...] = ()  # "slug (id N, status S)" of workspace syncs not in syncs.yaml
    unhealthy: tuple[SyncHealth, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unhealthy", tuple(v for v in self.verdicts if not v.healthy))

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdicts": [v.as_dict() for v in self.verdicts],
            "disabled": list(self.disabled),
            "outside_catalogue": list(self.outside_catalogue),
        }


def _run_order(run: Mapping[str, Any]) -> tuple[str, int]:
    run_id = str(run.get("id", ""))
    return str(run.get("createdAt") or ""), int(run_id) if run_id.isdigit() else -1


def last_finished_run(runs: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest run in a terminal state, whatever order the API listed them in."""
    finished = [r for r in runs if r.get("status") in FINISHED]
    return max(finished, key=_run_order) if finished else None


def is_disabled(sync: Mapping[str, Any]) -> bool:
    """``disabled``: "Whether the sync has been disabled by the user" (``status`` may also say ``disabled``)."""
    return bool(sync.get("disabled")) or sync.get("status") == "disabled"


def never_ran(sync: Mapping[str, Any]) -> bool:
    """``pending`` ("no runs have been scheduled yet") and no ``lastRunAt``."""
    return sync.get("status") == "pending" and not sync.get("lastRunAt")


def needs_runs(sync: Mapping[str, Any]) -> bool:
    """Whether judging or explaining this sync needs its runs: yes unless it is disabled, healthy or never ran."""
    return not is_disabled(sync) and sync.get("status") != SUCCESS and not never_ran(sync)


def _verdict(
    sync: Mapping[str, Any], healthy: bool, status: str | None, reason: str, run: Mapping[str, Any] | None = None
) -> SyncHealth:
    return SyncHealth(
        sync_id=str(sync["id"]),
        slug=str(sync.get("slug") or sync["id"]),
        healthy=healthy,
        status=status,
        run_id=None if run is None else str(run["id"]),
        run_at=None if run is None else (run.get("finishedAt") or run.get("createdAt")),
        failed_rows=0 if run is None else sum(row_counts(run, "failedRows").values()),
        error=None if run is None else run.get("error"),
        in_progress=sync.get("status") in IN_PROGRESS,
        reason=reason,
    )


def _run_reason(run: Mapping[str, Any], failed_rows: int) -> str:
    status, at = run["status"], run.get("finishedAt") or run.get("createdAt")
    if status == SUCCESS:
        return f"last run {run['id']} succeeded at {at}"
    return f"last run {run['id']} ended {status} at {at}: {failed_rows} failed rows; error: {run.get('error')}"


def judge_sync(sync: Mapping[str, Any], runs: Sequence[Mapping[str, Any]] = (), lookback: str = "7 days") -> SyncHealth:
    """Judge an enabled sync (a ``GET /syncs`` item) by its ``status``, with its recent runs for the details.

    ``runs`` are the sync's runs of the last ``lookback`` (any order). A terminal status decides at once
    (``success`` healthy; ``warning``, ``failed``, ``cancelled``, ``interrupted`` not). A run in progress is not
    judged: the newest finished run among ``runs`` decides, so a monitor that runs during an activation does not
    flap; none in the window is unhealthy. ``pending`` without ``lastRunAt`` means it never ran: unhealthy.
    """
    status = sync.get("status")
    last = last_finished_run(runs)
    if never_ran(sync):
        return _verdict(sync, False, None, "has never run")
    if status in FINISHED:
        # The run that explains the status, when the window holds it (the newest finished run, same status).
        run = last if last is not None and last.get("status") == status else None
        if run is not None:
            reason = _run_reason(run, sum(row_counts(run, "failedRows").values()))
        elif status == SUCCESS:
            reason = f"status success, last run at {sync.get('lastRunAt')}"
        else:
            reason = f"status {status}, last run at {sync.get('lastRunAt')} (no run of the last {lookback} to detail)"
        return _verdict(sync, status == SUCCESS, status, reason, run)
    if status in IN_PROGRESS or status == "pending":  # pending after a run: treated as a run about to start
        if last is None:
            return _verdict(sync, False, None, f"a run is {status} and no run finished in the last {lookback}")
        reason = _run_reason(last, sum(row_counts(last, "failedRows").values())) + f" (a run is {status} now)"
        return _verdict(sync, last["status"] == SUCCESS, str(last["status"]), reason, last)
    return _verdict(sync, False, None if status is None else str(status), f"unexpected sync status {status!r}")


def missing_sync(slug: str, model: str) -> SyncHealth:
    """The verdict on a catalogue sync that the workspace does not have."""
    reason = f"not found in the Hightouch workspace: no sync has the slug {slug} (syncs.yaml: model {model})"
    return SyncHealth(sync_id=None, slug=slug, healthy=False, status=None, reason=reason)


def catalogue_syncs_in_workspace(
    catalogue: SyncCatalogue, workspace: Sequence[Mapping[str, Any]]
) -> dict[str, Mapping[str, Any] | None]:
    """Each catalogue slug (in catalogue order) with its workspace sync, None when the workspace has none."""
    by_slug = {str(sync.get("slug")): sync for sync in workspace}
    return {entry.slug: by_slug.get(entry.slug) for entry in catalogue.syncs}


def build_report(
    catalogue: SyncCatalogue,
    workspace: Sequence[Mapping[str, Any]],
    runs_by_sync_id: Mapping[str, Sequence[Mapping[str, Any]]],
    lookback: str = "7 days",
) -> MonitorReport:
    """The monitor's whole verdict from API payloads: every ``GET /syncs`` item and the runs read per sync id."""
    verdicts: list[SyncHealth] = []
    disabled: list[str] = []
    matched = catalogue_syncs_in_workspace(catalogue, workspace)
    for entry in catalogue.syncs:
        sync = matched[entry.slug]
        if sync is None:
            verdicts.append(missing_sync(entry.slug, entry.model))
        elif is_disabled(sync):
            disabled.append(entry.slug)
        else:
            verdicts.append(judge_sync(sync, runs_by_sync_id.get(str(sync["id"]), ()), lookback))
    slugs = {entry.slug for entry in catalogue.syncs}
    outside = [
        f"{sync.get('slug')} (id {sync.get('id')}, status {sync.get('status')})"
        for sync in workspace
        if sync.get("slug") not in slugs
    ]
    return MonitorReport(tuple(verdicts), tuple(disabled), tuple(outside))


def alert_text(report: MonitorReport) -> str:
    """The alert message: one line per unhealthy sync, most useful facts first."""
    lines = [f":rotating_light: Hightouch: {len(report.unhealthy)} of {len(report.verdicts)} syncs unhealthy"]
    lines += [f"• `{h.slug}` (id {h.sync_id}): {h.reason}" for h in report.unhealthy]
    return "\n".join(lines)


def check_workspace(
    conn_id: str = HIGHTOUCH,
    catalogue: SyncCatalogue | None = None,
    *,
    page_size: int = 100,
    lookback: dt.timedelta = LOOKBACK,
) -> MonitorReport:
    """Read the workspace's syncs, and the recent runs of those that need them, and judge the catalogue."""
    catalogue = catalogue or default_syncs()
    api = HightouchApi(conn_id)
    workspace = api.syncs(page_size)
    after = dt.datetime.now(dt.UTC) - lookback
    runs = {
        str(sync["id"]): api.sync_runs(str(sync["id"]), after=after, page_size=page_size)
        for sync in catalogue_syncs_in_workspace(catalogue, workspace).values()
        if sync is not None and needs_runs(sync)
    }
    return build_report(catalogue, workspace, runs, _describe(lookback))


def _describe(lookback: dt.timedelta) -> str:
    hours = lookback.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 24 else f"{hours:g} hours"


def log_report(report: MonitorReport) -> None:
    """One line per catalogue sync, then the skipped syncs and the workspace syncs outside the catalogue."""
    for verdict in report.verdicts:
        if verdict.healthy:
            log.info("Hightouch sync %s (id %s) healthy: %s", verdict.slug, verdict.sync_id, verdict.reason)
        else:
            log.warning("Hightouch sync %s (id %s) UNHEALTHY: %s", verdict.slug, verdict.sync_id, verdict.reason)
    for slug in report.disabled:
        log.info("Hightouch sync %s skipped: disabled in Hightouch (not judged; preflight reports it)", slug)
    if report.outside_catalogue:
        log.info(
            "Hightouch syncs in the workspace but not in syncs.yaml (not judged): %s",
            "; ".join(report.outside_catalogue),
        )


def check_and_alert(
    hightouch_conn_id: str = HIGHTOUCH, alerts_conn_id: str = ALERTS_WEBHOOK, catalogue: SyncCatalogue | None = None
) -> dict[str, Any]:
    """Judge the catalogue's syncs, alert on the unhealthy ones and fail; return the report when all are healthy.

    Fails with ``AirflowFailException`` (no retries): the syncs will not heal within a retry delay, and each
    retry would post the same alert again. Errors reaching Hightouch stay ordinary (retried) failures.
    """
    report = check_workspace(hightouch_conn_id, catalogue)
    log_report(report)
    if not report.unhealthy:
        return report.as_dict()

    alerts.post(alert_text(report), alerts_conn_id)  # logs, never raises: the failure below reports everything
    raise alerts.already_alerted(
        AirflowFailException(
            f"{len(report.unhealthy)} of {len(report.verdicts)} Hightouch syncs unhealthy: "
            + "; ".join(f"{h.slug}: {h.reason}" for h in report.unhealthy)
        )
    )
