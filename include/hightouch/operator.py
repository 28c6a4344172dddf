"""Run one Hightouch sync by slug, wait for it, and hand the run's outcome to Airflow.

The provider's ``HightouchTriggerSyncOperator`` and its ``HightouchHook`` trigger a run and read it back, with
their retries of API calls; this subclass reuses them. What it adds is what an on-call engineer needs and the
provider 5.0.0 loses:

- an unknown slug fails at once, naming the slug, the Hightouch host and workspace (the provider triggers by
  slug, gets an error, retries it three times and raises "Exceeded max number of retries" and nothing else);
  so does a connection Hightouch cannot accept (``connection.connection_problems``) or a disabled sync;
- a run id that answers no run ends in a clear error (the provider indexes the empty list: ``IndexError``);
- in synchronous mode the provider returns nothing (its own result parsing fails), and on a failed run its
  exception carries neither the row counts nor the run's details. Here the task logs one line per run,
  returns the run as a dict (XCom ``return_value``), and a failed task says which run failed, how, and how
  many rows Salesforce rejected.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow_provider_hightouch.consts import TERMINAL_STATUSES
from airflow_provider_hightouch.hooks.hightouch import HightouchHook
from airflow_provider_hightouch.operators.hightouch import HightouchTriggerSyncOperator

from include.connections import HIGHTOUCH, SNOWFLAKE
from include.hightouch.api import HightouchApi
from include.lineage import ReportsLineage

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Terminal statuses that mean the run did not do its job, whatever error_on_warning says.
FAILED_STATUSES = frozenset({"failed", "cancelled", "interrupted"})
WARNING = "warning"
#: Polls in a row that may find no run for the triggered run id before the task gives up on it.
MISSING_RUN_POLLS = 3


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


def run_links(sync_id: str, run_id: str) -> dict[str, str]:
    """The run's page in the Hightouch app, for alerts: ``HIGHTOUCH_APP_URL`` is the workspace's address in the app
    (``https://app.hightouch.com/<workspace slug>``, as the browser shows it); unset, no link."""
    app_url = os.environ.get("HIGHTOUCH_APP_URL", "").rstrip("/")
    return {"Hightouch run": f"{app_url}/syncs/{sync_id}/runs/{run_id}"} if app_url else {}


class HightouchRunFailed(AirflowException):
    """A sync run that ended failed (or warning, when that fails the task); ``alert_links`` leads to the run."""

    def __init__(self, message: str, alert_links: Mapping[str, str]) -> None:
        super().__init__(message)
        self.alert_links = dict(alert_links)


def unknown_slug_message(slug: str, host: str, workspace_id: str | None) -> str:
    """Why the task stops when the workspace has no sync with this slug, and how to fix it."""
    workspace = f"workspace {workspace_id}" if workspace_id else "the workspace (it lists no sync at all)"
    return (
        f"Hightouch sync slug {slug!r} not found in {workspace} at {host} (GET /syncs?slug={slug} answered no"
        f" sync). Create the sync with this slug in that workspace (see include/hightouch/syncs.yaml), or check"
        f" that the connection's API key belongs to the workspace that holds it."
    )


def find_run(runs: Sequence[Mapping[str, Any]], run_id: str) -> Mapping[str, Any] | None:
    """The run with id ``run_id`` in an answer to ``GET syncs/{id}/runs?runId=``; None when it is not there."""
    return next((run for run in runs if str(run.get("id")) == str(run_id)), None)


class HightouchSyncOperator(ReportsLineage, HightouchTriggerSyncOperator):
    """Trigger a Hightouch sync by slug, wait for its run, log it, return it, and fail if it did not succeed.

    Slugs, not ids, because ``syncs.yaml`` names syncs by slug and a slug survives re-creating a sync. The slug
    is resolved first (``GET /syncs?slug=``): an unknown slug, a disabled sync or an unusable connection fails
    the task at once with ``AirflowFailException`` (no retry: a retry cannot fix them). The run is then
    triggered by the id found, so the run polled is the one of that sync.

    ``error_on_warning`` defaults to True (the provider's default is False): a ``warning`` run means some rows
    never reached Salesforce, and a green task would hide that until someone notices a missing record.

    Every finished run, whatever its status, is written to the activation run record before the task succeeds
    or fails (``record_conn_id``, the warehouse; include/activation/run_record.py).

    Polling: one ``GET /syncs/{id}/runs?runId=`` every ``wait_seconds`` (1 s) until the run ends or ``timeout``
    (s) passes. Hightouch allows 200 requests per 10 seconds per workspace
    (https://hightouch.com/docs/developer-tools/api-guide#hightouch-api-rate-limits): one sync polling makes
    10 requests per 10 s, so even ten syncs polling at once stay at half the limit. The provider's hook retries
    a failed poll request (three more tries, 0.5 s apart).
    """

    def __init__(
        self,
        *,
        sync_slug: str,
        connection_id: str = HIGHTOUCH,
        error_on_warning: bool = True,
        wait_seconds: float = 1,
        timeout: int = 3600,
        record_conn_id: str | None = SNOWFLAKE,
        **kwargs: Any,
    ) -> None:
        self.record_conn_id = record_conn_id  # where the run record goes (the warehouse); None: not recorded
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
        slug = str(self.sync_slug)
        sync_id = self._resolve(slug)
        hook = HightouchHook(hightouch_conn_id=self.hightouch_conn_id, api_version=self.api_version)
        run_id = str(hook.start_sync(sync_id=sync_id))
        self.log.info("Triggered Hightouch sync %s (id %s): run %s", slug, sync_id, run_id)

        result = summarize_run(slug, sync_id, self._wait_for_run(hook, sync_id, run_id))
        self.log.info(describe(result))
        self._report_lineage(slug)
        self._record(context, result, run_links(sync_id, run_id))
        problem = failure_message(result, self.error_on_warning)
        if problem:
            raise HightouchRunFailed(problem, run_links(sync_id, run_id))
        if result["status"] == WARNING:
            self.log.warning("Run %s ended with warning: %s", run_id, result["error"])
        return result

    def _report_lineage(self, slug: str) -> None:
        """OpenLineage: the sync reads its mart and writes its Salesforce object (syncs.yaml)."""
        from include import lineage
        from include.hightouch.syncs import default_syncs

        sync = next((s for s in default_syncs().syncs if s.slug == slug), None)
        if sync is None or self.record_conn_id is None:
            return
        mart = lineage.warehouse_dataset(sync.model, lineage.snowflake_namespace(self.record_conn_id))
        lineage.report(self, inputs=[mart], outputs=[lineage.salesforce_dataset(sync.destination_object)])

    def _record(self, context: Context, result: SyncRunResult, links: Mapping[str, str]) -> None:
        """The run's outcome in the activation run record (include/activation/run_record.py)."""
        if self.record_conn_id is None:
            return
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include.activation.run_record import record_step

        warehouse = SnowflakeHook(snowflake_conn_id=self.record_conn_id)
        record_step(warehouse, context, str(self.sync_slug), str(result["status"]), {**result, "links": dict(links)})

    def _resolve(self, slug: str) -> str:
        """The id of the enabled sync ``slug``; AirflowFailException when it does not exist or is disabled."""
        api = HightouchApi(self.hightouch_conn_id)
        sync = api.sync_by_slug(slug)
        if sync is None:
            raise AirflowFailException(unknown_slug_message(slug, api.host, api.workspace_id()))
        if sync.get("disabled"):
            raise AirflowFailException(
                f"Hightouch sync {slug} (id {sync['id']}) is disabled in workspace {sync.get('workspaceId')} at"
                f" {api.host}: enable it in Hightouch (the sync's Settings) to let Airflow run it"
            )
        return str(sync["id"])

    def _wait_for_run(self, hook: HightouchHook, sync_id: str, run_id: str) -> dict[str, Any]:
        """Poll the run until it ends (whatever its status) and return it; AirflowException on timeout or no run.

        A just-triggered run may take a moment to be listed, so up to ``MISSING_RUN_POLLS`` polls in a row may
        find none; after that the run id is taken to answer no run. A retry of the task triggers a new run.
        """
        deadline = time.monotonic() + self.timeout
        missing = 0
        status = None
        while True:
            run = find_run(hook.get_sync_run_details(sync_id, run_id), run_id)
            if run is None:
                missing += 1
                if missing >= MISSING_RUN_POLLS:
                    raise AirflowException(
                        f"Hightouch answered no run for run {run_id} of sync {sync_id}: GET syncs/{sync_id}/runs"
                        f"?runId={run_id} listed no such run {missing} times in a row. The trigger returned this"
                        " run id; check the sync's runs in Hightouch."
                    )
            else:
                missing = 0
                status = run.get("status")
                if status in TERMINAL_STATUSES:
                    return dict(run)
                self.log.info(
                    "Hightouch sync %s run %s: %s, %.0f%% done",
                    sync_id,
                    run_id,
                    status,
                    100 * float(run.get("completionRatio") or 0),
                )
            if time.monotonic() >= deadline:
                raise AirflowException(
                    f"Hightouch sync {sync_id} run {run_id} did not finish within {self.timeout} s;"
                    f" last status {status or 'unknown (no run listed)'}"
                )
            time.sleep(self.wait_seconds)
