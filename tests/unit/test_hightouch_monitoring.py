"""Sync health from Hightouch API payloads (shapes of ``GET /syncs`` and ``GET /syncs/{id}/runs``), no network."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from include.hightouch import monitoring
from include.hightouch.monitoring import assess, check_and_alert, last_finished_run, list_syncs


def sync(sync_id: int, slug: str, status: str = "success", last_run_at: str | None = "2026-11-20T06:00:00.000Z"):
    return {"id": sync_id, "slug": slug, "status": status, "lastRunAt": last_run_at, "disabled": False}


def run(run_id: int, status: str, created: str, failed_added: int = 0, error: str | None = None) -> dict[str, Any]:
    def counts(added: int) -> dict[str, int]:
        return {"addedCount": added, "changedCount": 0, "removedCount": 0}

    return {
        "id": run_id,
        "status": status,
        "createdAt": created,
        "startedAt": created,
        "finishedAt": None if status in {"queued", "querying", "processing"} else created.replace("00.000", "30.000"),
        "querySize": 10,
        "completionRatio": 1.0,
        "plannedRows": counts(10),
        "successfulRows": counts(10 - failed_added),
        "failedRows": counts(failed_added),
        "error": error,
    }


def test_last_run_success_is_healthy() -> None:
    verdict = assess(sync(1, "accounts"), [run(43, "success", "2026-11-20T06:00:00.000Z")])
    assert (verdict.healthy, verdict.status, verdict.run_id, verdict.failed_rows) == (True, "success", "43", 0)
    assert verdict.run_at == "2026-11-20T06:00:30.000Z"


@pytest.mark.parametrize("status", ["failed", "warning", "cancelled", "interrupted"])
def test_last_run_not_success_is_unhealthy_with_its_details(status: str) -> None:
    runs = [run(44, status, "2026-11-20T06:00:00.000Z", failed_added=2, error="INVALID_EMAIL_ADDRESS")]
    verdict = assess(sync(2, "contacts", status), runs)
    assert (verdict.healthy, verdict.status, verdict.run_id, verdict.failed_rows) == (False, status, "44", 2)
    assert verdict.error == "INVALID_EMAIL_ADDRESS"
    assert f"last run 44 ended {status}" in verdict.reason
    assert "2 failed rows" in verdict.reason


def test_never_run_is_unhealthy() -> None:
    verdict = assess(sync(3, "tasks", "pending", last_run_at=None), [])
    assert (verdict.healthy, verdict.status, verdict.run_id) == (False, None, None)
    assert verdict.reason == "has never run"


def test_only_the_newest_finished_run_counts_whatever_the_listing_order() -> None:
    old_failure = run(40, "failed", "2026-11-19T06:00:00.000Z", error="boom")
    new_success = run(41, "success", "2026-11-20T06:00:00.000Z")
    assert assess(sync(1, "a"), [old_failure, new_success]).healthy
    assert assess(sync(1, "a"), [new_success, old_failure]).healthy
    assert not assess(sync(1, "a", "failed"), [run(42, "failed", "2026-11-21T06:00:00.000Z"), new_success]).healthy


def test_a_run_in_progress_is_not_judged_the_previous_finished_run_decides() -> None:
    running = run(45, "processing", "2026-11-21T06:00:00.000Z")
    healthy = assess(sync(1, "a", "processing"), [running, run(44, "success", "2026-11-20T06:00:00.000Z")])
    assert (healthy.healthy, healthy.run_id, healthy.in_progress) == (True, "44", True)
    broken = assess(sync(1, "a", "processing"), [running, run(44, "failed", "2026-11-20T06:00:00.000Z")])
    assert (broken.healthy, broken.status, broken.in_progress) == (False, "failed", True)


def test_a_first_run_still_in_progress_is_not_yet_healthy() -> None:
    verdict = assess(sync(1, "a", "querying"), [run(45, "querying", "2026-11-21T06:00:00.000Z")])
    assert (verdict.healthy, verdict.in_progress) == (False, True)
    assert verdict.reason == "no finished run among its 1 most recent runs"


def test_runs_with_the_same_timestamp_are_ordered_by_numeric_id() -> None:
    runs = [run(9, "failed", "2026-11-20T06:00:00.000Z"), run(10, "success", "2026-11-20T06:00:00.000Z")]
    assert last_finished_run(runs)["id"] == 10


class PagedHook:
    """Answers ``GET syncs`` as HightouchHook.make_request does: the ``data`` list of one page."""

    def __init__(self, total: int) -> None:
        self.syncs = [sync(i, f"s{i}") for i in range(1, total + 1)]
        self.calls: list[dict[str, Any]] = []

    def make_request(self, method: str, endpoint: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        assert (method, endpoint) == ("GET", "syncs")
        self.calls.append(data)
        return self.syncs[data["offset"] : data["offset"] + data["limit"]]


@pytest.mark.parametrize(("total", "offsets"), [(0, [0]), (4, [0]), (5, [0, 5]), (12, [0, 5, 10])])
def test_list_syncs_reads_every_page(total: int, offsets: list[int]) -> None:
    hook = PagedHook(total)
    assert [s["id"] for s in list_syncs(hook, page_size=5)] == list(range(1, total + 1))  # type: ignore[arg-type]
    assert [c["offset"] for c in hook.calls] == offsets


def _unhealthy_check(monkeypatch: pytest.MonkeyPatch) -> None:
    verdicts = [
        assess(sync(1, "accounts"), [run(1, "success", "2026-11-20T06:00:00.000Z")]),
        assess(sync(2, "contacts", "warning"), [run(2, "warning", "2026-11-20T06:00:00.000Z", 1, "REQUIRED")]),
        assess(sync(3, "tasks", "pending", None), []),
    ]
    monkeypatch.setattr(monitoring, "check_syncs", lambda conn_id: verdicts)


@pytest.fixture
def slack_posts(monkeypatch: pytest.MonkeyPatch) -> list[requests.PreparedRequest]:
    """What would have been sent over HTTP (a 200 "ok", as Slack answers)."""
    sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent.append(request)
        response = requests.Response()
        response.status_code, response._content, response.url = 200, b"ok", request.url
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    return sent


def test_unhealthy_syncs_fail_the_check_and_post_one_slack_message(monkeypatch, slack_posts, caplog) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_TEST",
        json.dumps({"conn_type": "http", "host": "https://hooks.slack.example", "password": "/services/T1/B2/xyz"}),
    )
    _unhealthy_check(monkeypatch)
    expected = r"^2 of 3 Hightouch syncs unhealthy: contacts: last run 2 ended warning .*; tasks: has never run$"
    with pytest.raises(AirflowFailException, match=expected):
        check_and_alert("hightouch_test", slack_conn_id="slack_test")

    assert len(slack_posts) == 1
    assert (slack_posts[0].method, slack_posts[0].url) == ("POST", "https://hooks.slack.example/services/T1/B2/xyz")
    text = json.loads(slack_posts[0].body)["text"]
    assert text.splitlines()[0] == ":rotating_light: Hightouch: 2 of 3 syncs unhealthy"
    assert [line.split("`")[1] for line in text.splitlines()[1:]] == ["contacts", "tasks"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w.split()[2] for w in warnings] == ["contacts", "tasks"]


def test_without_a_slack_connection_the_check_still_fails_and_sends_nothing(monkeypatch, slack_posts) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    _unhealthy_check(monkeypatch)
    with pytest.raises(AirflowFailException, match="2 of 3"):
        check_and_alert("hightouch_test", slack_conn_id="no_such_slack_connection")
    assert slack_posts == []


def test_all_healthy_returns_every_verdict_and_sends_nothing(monkeypatch, slack_posts) -> None:
    verdict = assess(sync(1, "accounts"), [run(1, "success", "2026-11-20T06:00:00.000Z")])
    monkeypatch.setattr(monitoring, "check_syncs", lambda conn_id: [verdict])
    assert check_and_alert("hightouch_test", slack_conn_id="slack_test") == [verdict.as_dict()]
    assert slack_posts == []
