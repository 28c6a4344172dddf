"""Run one Hightouch sync by slug, wait for it, and hand the run's outcome to Airflow.

The provider's ``HightouchTriggerSyncOperator`` already triggers, polls (with its timeout) and retries API calls,
so this subclass reuses all of that through the provider's ``HightouchHook``. What it adds is what an on-call
engineer needs and the provider 5.0.0 loses: in synchronous mode it returns nothing (its own result parsing
fails, see ``../shared/NOTES.md``), and on a failed run its exception carries neither the row counts nor the
run's details. Here the task logs one line per run, returns the run as a dict (XCom ``return_value``), and a
failed task says which run failed, how, and how many rows Salesforce rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from airflow.sdk.exceptions import AirflowException
from airflow_provider_hightouch.consts import TERMINAL_STATUSES
from airflow_provider_hightouch.hooks.hightouch import HightouchHook
from airflow_provider_hightouch.operators.hightouch import HightouchTriggerSyncOperator

from include.connections import HIGHTOUCH

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Terminal statuses that mean the run did not do its job, whatever error_on_warning says.
FAILED_STATUSES = frozenset({"failed", "cancelled", "interrupted"})
WARNING = "warning"


class RowCounts(TypedDict):
    added: int
    changed: int
    removed: int


class SyncRunResult(TypedDict):
    """What the task pushes to XCom: enough to report on or branch on without calling Hightouch again."""

    sync_slug: str
    sync_id: str
    run_id: str
    status: str
    planned_rows: RowCounts
    successful_rows: RowCounts
    failed_rows: RowCounts
    query_size: int | None
    error: str | None


def row_counts(run: Mapping[str, Any], key: str) -> RowCounts:
    """``plannedRows`` / ``successfulRows`` / ``failedRows`` of a run as plain ints (the API sends numbers)."""
    counts = run.get(key) or {}
    return RowCounts(
        added=int(counts.get("addedCount") or 0),
        changed=int(counts.get("changedCount") or 0),
        removed=int(counts.get("removedCount") or 0),
    )


def summarize_run(sync_slug: str, sync_id: str, run: Mapping[str, Any]) -> SyncRunResult:
    """A run as the API returns it (``GET syncs/{id}/runs``), reduced to what downstream tasks and people read."""
    query_size = run.get("querySize")
    return SyncRunResult(
        sync_slug=sync_slug,
        sync_id=str(sync_id),
        run_id=str(run["id"]),
        status=str(run.get("status")),
        planned_rows=row_counts(run, "plannedRows"),
        successful_rows=row_counts(run, "successfulRows"),
        failed_rows=row_counts(run, "failedRows"),
        query_size=None if query_size is None else int(query_size),
        error=run.get("error"),
    )


def _counts(counts: RowCounts) -> str:
    return f"added={counts['added']} changed={counts['changed']} removed={counts['removed']}"


def describe(result: SyncRunResult) -> str:
    """The one log line per run: greppable, and complete enough to answer "what did the sync do?"."""
    return (
        f"Hightouch sync {result['sync_slug']} (id {result['sync_id']}) run {result['run_id']}: {result['status']}"
        f" | planned {_counts(result['planned_rows'])} | successful {_counts(result['successful_rows'])}"
        f" | failed {_counts(result['failed_rows'])} | query size {result['query_size']}"
    )


def failure_message(result: SyncRunResult, error_on_warning: bool) -> str | None:
    """Why the task must fail, or None when the run is acceptable."""
    status = result["status"]
    if status not in FAILED_STATUSES and not (status == WARNING and error_on_warning):
        return None
    failed = sum(result["failed_rows"].values())
    return (
        f"Hightouch sync {result['sync_slug']} (id {result['sync_id']}) run {result['run_id']} ended with status "
        f"{status}: {failed} failed row{'' if failed == 1 else 's'} ({_counts(result['failed_rows'])}); "
        f"Hightouch error: {result['error'] or 'none given'}"
    )


class HightouchSyncOperator(HightouchTriggerSyncOperator):
    """Trigger a Hightouch sync by slug, wait for its run, log it, return it, and fail if it did not succeed.

    Slugs, not ids, because ``syncs.yaml`` names syncs by slug and a slug survives re-creating a sync.
    ``error_on_warning`` defaults to True (the provider's default is False): a ``warning`` run means some rows
    never reached Salesforce, and a green task would hide that until someone notices a missing record.
    Polling interval, timeout and the API retries are the provider's (``wait_seconds``, ``timeout``).
    """

    def __init__(
        self,
        *,
        sync_slug: str,
        connection_id: str = HIGHTOUCH,
        error_on_warning: bool = True,
        wait_seconds: float = 1,
        timeout: int = 3600,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            sync_slug=sync_slug,
            connection_id=connection_id,
            synchronous=True,
            error_on_warning=error_on_warning,
            wait_seconds=wait_seconds,
            timeout=timeout,
            **kwargs,
        )

    def execute(self, context: Context) -> SyncRunResult:
        hook = HightouchHook(hightouch_conn_id=self.hightouch_conn_id, api_version=self.api_version)
        slug = str(self.sync_slug)
        run_id = str(hook.start_sync(sync_slug=slug))
        sync_id = str(hook.get_sync_from_slug(sync_slug=slug))
        self.log.info("Triggered Hightouch sync %s (id %s): run %s", slug, sync_id, run_id)

        result = summarize_run(slug, sync_id, self._wait_for_run(hook, sync_id, run_id))
        self.log.info(describe(result))
        problem = failure_message(result, self.error_on_warning)
        if problem:
            raise AirflowException(problem)
        if result["status"] == WARNING:
            self.log.warning("Run %s ended with warning: %s", run_id, result["error"])
        return result

    def _wait_for_run(self, hook: HightouchHook, sync_id: str, run_id: str) -> dict[str, Any]:
        """Poll with the provider's loop; return the finished run even when the provider raised on its status.

        ``poll_sync`` raises on failed/cancelled/interrupted before returning the run, so the run is read once
        more to report its counts. If it is still unfinished, the provider raised for a timeout or an API
        failure: that error is the right one to surface, unchanged.
        """
        try:
            output = hook.poll_sync(
                sync_id, run_id, fail_on_warning=False, poll_interval=self.wait_seconds, poll_timeout=self.timeout
            )
        except AirflowException:
            run = hook.get_sync_run_details(sync_id, run_id)[0]
            if run.get("status") not in TERMINAL_STATUSES:
                raise
            return dict(run)
        return dict(output.sync_run_details)
