"""Alerts: one notifier for every pipeline DAG, posting to a Slack-compatible incoming webhook.

The notifier is the Slack provider's ``SlackWebhookNotifier`` (Airflow's notifier interface), so it posts what
Slack's incoming webhooks take, a JSON body with ``text``; Mattermost's incoming webhooks accept the same
payload ("Slack-compatible"), so one connection type serves both:

- connection ``alerts_webhook`` (``include/connections.py``), type ``slackwebhook``, ``password`` = the webhook's
  full URL: ``https://hooks.slack.com/services/T…/B…/…`` or ``https://<your-mattermost>/hooks/<key>``.
- No such connection: the message goes to the task's log and nothing fails (alerts are optional; a missing
  alert channel must never turn a green run red or hide the original error).

What is posted is built by pure functions (unit-tested): one message per failed task (DAG, task, run and try,
the task's page in the Airflow UI, the first lines of the error, and the Hightouch run or the Salesforce error
where the error carries one), one per missed deadline, and the daily sync monitor's report.

Wiring: ``dag_defaults.default_args()`` sets ``on_failure_callback=[task_failure_alert()]`` for every task of
every pipeline DAG, and ``activate_salesforce`` declares its ``DeadlineAlert`` with ``missed_deadline_callback``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
from airflow.sdk.exceptions import AirflowNotFoundException

from include.connections import ALERTS_WEBHOOK

log = logging.getLogger(__name__)

#: How much of an error a message carries: enough to triage from a phone, the rest is in the task log.
ERROR_LINES = 8
ERROR_CHARS = 1200


def first_lines(text: str, lines: int = ERROR_LINES, chars: int = ERROR_CHARS) -> str:
    """The first ``lines`` non-blank lines of ``text``, at most ``chars`` characters, marked when cut."""
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    cut = kept[:lines]
    body = "\n".join(cut)
    if len(body) > chars:
        body = body[: chars - 1].rstrip() + "…"
    elif len(kept) > lines:
        body += "\n…"
    return body


def failed_task_message(
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    try_number: int | None,
    max_tries: int | None,
    task_url: str,
    error: str | None,
    links: Mapping[str, str] | None = None,
) -> str:
    """The message for one failed task: what failed, where to look, and why in a few lines."""
    attempt = f" (try {try_number} of {max_tries + 1})" if try_number and max_tries is not None else ""
    lines = [
        f":red_circle: Airflow task failed: {dag_id}.{task_id}",
        f"Run: {run_id}{attempt}",
        f"Task in Airflow: {task_url}",
    ]
    lines += [f"{label}: {url}" for label, url in (links or {}).items()]
    lines += ["Error:", first_lines(error) if error else "(no error text: see the task log)"]
    return "\n".join(lines)


def missed_deadline_message(*, dag_id: str, run_id: str, deadline: str, queued_at: str | None, run_url: str) -> str:
    """The message for a run that had not finished by its deadline (it may still be running)."""
    return "\n".join(
        [
            f":alarm_clock: Airflow run missed its deadline: {dag_id}",
            f"Run: {run_id} (queued {queued_at or 'unknown'}) was not finished by {deadline}.",
            f"Run in Airflow: {run_url}",
            "It may still be running; what it has not done yet has not reached Salesforce.",
        ]
    )


def airflow_url(path: str) -> str:
    """A link into this deployment's Airflow UI: ``[api] base_url`` (Astro sets it; set
    ``AIRFLOW__API__BASE_URL`` elsewhere), or the bare path when it is not set."""
    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback=None) or ""
    return f"{base.rstrip('/')}/{path.lstrip('/')}"


def error_links(error: BaseException | None) -> dict[str, str]:
    """Links an error knows about (e.g. a failed Hightouch run's page): ``alert_links`` on the exception."""
    links = getattr(error, "alert_links", None)
    return dict(links) if isinstance(links, Mapping) else {}


ALERTED = "alert_sent"


def already_alerted(error: BaseException) -> BaseException:
    """Mark ``error`` as reported by its task's own, fuller alert, so the failure notifier does not post it again."""
    setattr(error, ALERTED, True)
    return error


def message_for_failed_task(context: Mapping[str, Any]) -> str:
    ti = context["ti"]
    error = context.get("exception")
    try:
        task_url = ti.log_url
    except Exception:  # noqa: BLE001 - a callback context without a full task instance: link the run instead
        task_url = airflow_url(f"dags/{ti.dag_id}/runs/{quote(ti.run_id)}")
    return failed_task_message(
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        try_number=getattr(ti, "try_number", None),
        max_tries=getattr(ti, "max_tries", None),
        task_url=task_url,
        error=str(error) if error else None,
        links=error_links(error if isinstance(error, BaseException) else None),
    )


def post(text: str, conn_id: str = ALERTS_WEBHOOK) -> bool:
    """Post ``text`` to the webhook of ``conn_id``; False (the text logged, nothing raised) if it is not defined.

    An unreachable webhook is logged, not raised: the alert is a side channel of a failure Airflow already
    records, and raising here would only bury the original error under the webhook's.
    """
    notifier = SlackWebhookNotifier(slack_webhook_conn_id=conn_id, text=text)
    try:
        notifier.notify({})
    except AirflowNotFoundException:
        log.warning("No %s connection: alert logged only.\n%s", conn_id, text)
        return False
    except Exception as error:  # noqa: BLE001 - see the docstring
        log.error("Could not post the alert to %s (%s); the alert was:\n%s", conn_id, error, text)
        return False
    log.info("Alert posted to %s", conn_id)
    return True


class PipelineFailureNotifier(SlackWebhookNotifier):
    """``on_failure_callback`` of every pipeline task: one webhook message per failed task."""

    def __init__(self, *, slack_webhook_conn_id: str = ALERTS_WEBHOOK, **kwargs: Any) -> None:
        super().__init__(slack_webhook_conn_id=slack_webhook_conn_id, text="", **kwargs)

    def notify(self, context: Any) -> None:
        if getattr(context.get("exception"), ALERTED, False):
            log.info("The task posted its own alert for this failure: not posted twice")
            return
        post(message_for_failed_task(context), self.slack_webhook_conn_id)


def approval_request_message(*, dag_id: str, task_id: str, run_id: str, url: str, reasons: list[str]) -> str:
    return "\n".join(
        [
            f":raised_hand: Approval needed before Salesforce: {dag_id}.{task_id}",
            f"Run: {run_id}",
            *(f"- {reason}" for reason in reasons),
            f"Approve or reject in Airflow: {url}",
            "Nothing is written to Salesforce until someone approves.",
        ]
    )


class ApprovalRequestNotifier(SlackWebhookNotifier):
    """Called by a human-in-the-loop task when it starts waiting: who must act, why, and where."""

    def __init__(self, *, slack_webhook_conn_id: str = ALERTS_WEBHOOK, **kwargs: Any) -> None:
        super().__init__(slack_webhook_conn_id=slack_webhook_conn_id, text="", **kwargs)

    def notify(self, context: Any) -> None:
        ti, task = context["ti"], context["task"]
        try:
            url = task.generate_link_to_ui_from_context(context=context)  # [api] base_url
        except Exception:  # noqa: BLE001 - the task's page is the next best place
            url = ti.log_url
        text = approval_request_message(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=ti.run_id,
            url=url,
            reasons=list(getattr(task, "hitl_summary_extra", {}).get("reasons", [])),
        )
        post(text, self.slack_webhook_conn_id)


def task_failure_alert() -> PipelineFailureNotifier:
    return PipelineFailureNotifier()


async def missed_deadline_callback(context: Mapping[str, Any] | None = None, **_: Any) -> None:
    """``DeadlineAlert`` callback (runs in the triggerer): one message for the run that missed its deadline."""
    context = context or {}
    dag_run = context.get("dag_run") or {}
    deadline = (context.get("deadline") or {}).get("deadline_time")
    dag_id, run_id = str(dag_run.get("dag_id")), str(dag_run.get("dag_run_id") or dag_run.get("run_id"))
    text = missed_deadline_message(
        dag_id=dag_id,
        run_id=run_id,
        deadline=deadline.isoformat() if isinstance(deadline, datetime) else str(deadline),
        queued_at=dag_run.get("queued_at"),
        run_url=airflow_url(f"dags/{dag_id}/runs/{quote(run_id)}"),
    )
    # The hook is synchronous (connection lookup and HTTP): keep it off the triggerer's event loop.
    await asyncio.to_thread(post, text)
