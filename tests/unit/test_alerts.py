"""The alert messages (pure), and the notifier's edge: posting through the Slack provider, or logging without it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from include import alerts
from include.hightouch.operator import HightouchRunFailed, run_links


@pytest.fixture
def webhook_posts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What the Slack SDK's webhook client would have sent: (url, JSON body), answered 200 "ok" as Slack does."""
    from slack_sdk.webhook import WebhookClient, WebhookResponse

    sent: list[tuple[str, dict[str, Any]]] = []

    def send_dict(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> WebhookResponse:
        sent.append((self.url, body))
        return WebhookResponse(url=self.url, status_code=200, body="ok", headers={})

    monkeypatch.setattr(WebhookClient, "send_dict", send_dict)
    return sent


@pytest.fixture
def mattermost(monkeypatch: pytest.MonkeyPatch) -> str:
    url = "https://chat.example.com/hooks/xyz123"
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_WEBHOOK", json.dumps({"conn_type": "slackwebhook", "password": url}))
    return url


def _ti(**overrides: Any) -> SimpleNamespace:
    values = {"dag_id": "activate_salesforce", "task_id": "sync_salesforce_accounts", "try_number": 4,
              "max_tries": 3, "run_id": "scheduled__2026-12-07T10:00:00+00:00",
              "log_url": "http://airflow.example/dags/activate_salesforce/runs/r/tasks/t"}  # fmt: skip
    return SimpleNamespace(**{**values, **overrides})


def test_a_failed_task_message_says_what_where_and_why() -> None:
    text = alerts.failed_task_message(
        dag_id="activate_salesforce", task_id="convert_salesforce_leads", run_id="manual__1", try_number=2,
        max_tries=1, task_url="http://airflow/x", error="Lead conversion: 1 of 3 planned leads failed\nmore",
        links={"Hightouch run": "https://app.hightouch.com/acme/syncs/1/runs/2"},
    )  # fmt: skip
    assert text.splitlines() == [
        ":red_circle: Airflow task failed: activate_salesforce.convert_salesforce_leads",
        "Run: manual__1 (try 2 of 2)",
        "Task in Airflow: http://airflow/x",
        "Hightouch run: https://app.hightouch.com/acme/syncs/1/runs/2",
        "Error:",
        "Lead conversion: 1 of 3 planned leads failed",
        "more",
    ]


def test_an_error_is_cut_to_its_first_lines_and_marked() -> None:
    long = "\n".join(f"line {n}" for n in range(50))
    assert alerts.first_lines(long, lines=3) == "line 0\nline 1\nline 2\n…"
    assert alerts.first_lines("x" * 5000, chars=100) == "x" * 99 + "…"
    assert alerts.first_lines("\n\n  one  \n\n") == "one"


def test_the_notifier_posts_one_message_to_the_webhook_url(webhook_posts, mattermost) -> None:
    error = HightouchRunFailed("Hightouch sync salesforce-accounts (id 1001) run 7 ended with status failed",
                               {"Hightouch run": "https://app.hightouch.com/acme/syncs/1001/runs/7"})  # fmt: skip
    alerts.PipelineFailureNotifier()({"ti": _ti(), "exception": error})
    [(url, body)] = webhook_posts
    assert url == mattermost
    lines = body["text"].splitlines()
    assert lines[0] == ":red_circle: Airflow task failed: activate_salesforce.sync_salesforce_accounts"
    assert "Run: scheduled__2026-12-07T10:00:00+00:00 (try 4 of 4)" in lines
    assert "Hightouch run: https://app.hightouch.com/acme/syncs/1001/runs/7" in lines
    assert lines[-1] == "Hightouch sync salesforce-accounts (id 1001) run 7 ended with status failed"


def test_without_a_webhook_connection_the_alert_is_logged_and_nothing_raises(
    webhook_posts, caplog, monkeypatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_WEBHOOK", raising=False)  # an integration test may have loaded one
    alerts.PipelineFailureNotifier()({"ti": _ti(), "exception": ValueError("boom")})
    assert webhook_posts == []
    assert any("No alerts_webhook connection: alert logged only" in r.getMessage() for r in caplog.records)
    assert any("boom" in r.getMessage() for r in caplog.records)


def test_an_unreachable_webhook_is_logged_not_raised(monkeypatch, mattermost, caplog) -> None:
    from slack_sdk.webhook import WebhookClient

    def refuse(self, body, headers=None):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(WebhookClient, "send_dict", refuse)
    assert alerts.post("hello") is False
    assert any("Could not post the alert" in r.getMessage() for r in caplog.records)


def test_a_failure_its_task_already_alerted_is_not_posted_twice(webhook_posts, mattermost) -> None:
    alerts.PipelineFailureNotifier()({"ti": _ti(), "exception": alerts.already_alerted(RuntimeError("x"))})
    assert webhook_posts == []


def test_a_missed_deadline_posts_the_run_and_its_link(webhook_posts, mattermost) -> None:
    context = {
        "dag_run": {"dag_id": "activate_salesforce", "dag_run_id": "asset_triggered__2026-12-07T10:15:02+00:00",
                    "queued_at": "2026-12-07T10:15:03Z"},
        "deadline": {"id": "d1", "deadline_time": datetime(2026, 12, 7, 11, 0, 3, tzinfo=UTC)},
    }  # fmt: skip
    asyncio.run(alerts.missed_deadline_callback(context=context))
    [(_, body)] = webhook_posts
    lines = body["text"].splitlines()
    assert lines[0] == ":alarm_clock: Airflow run missed its deadline: activate_salesforce"
    assert lines[1] == (
        "Run: asset_triggered__2026-12-07T10:15:02+00:00 (queued 2026-12-07T10:15:03Z) was not finished by"
        " 2026-12-07T11:00:03+00:00."
    )
    assert lines[2].endswith("/dags/activate_salesforce/runs/asset_triggered__2026-12-07T10%3A15%3A02%2B00%3A00")


def test_a_hightouch_run_link_needs_the_app_url(monkeypatch) -> None:
    monkeypatch.delenv("HIGHTOUCH_APP_URL", raising=False)
    assert run_links("1001", "7") == {}
    monkeypatch.setenv("HIGHTOUCH_APP_URL", "https://app.hightouch.com/acme/")
    assert run_links("1001", "7") == {"Hightouch run": "https://app.hightouch.com/acme/syncs/1001/runs/7"}
