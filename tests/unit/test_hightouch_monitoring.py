"""Sync health from Hightouch API payloads (``GET /syncs`` items and ``GET /syncs/{id}/runs``), no network.

Payload shapes follow the API reference's ``Sync`` and ``SyncRun`` (https://hightouch.com/docs/api-reference).
The last tests serve a fake Hightouch over ``requests`` to check the calls at the edge.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from include.hightouch import monitoring
from include.hightouch.monitoring import (
    MonitorReport,
    build_report,
    check_and_alert,
    check_workspace,
    judge_sync,
    last_finished_run,
    needs_runs,
)
from include.hightouch.syncs import SyncCatalogue, default_syncs, load_syncs
from tests.conftest import REPO_ROOT

CATALOGUE = load_syncs(REPO_ROOT / "tests" / "fixtures" / "hightouch_test_syncs.yaml")


def sync(
    sync_id: int,
    slug: str,
    status: str = "success",
    last_run_at: str | None = "2026-11-20T06:00:00.000Z",
    disabled: bool = False,
) -> dict[str, Any]:
    return {"id": sync_id, "slug": slug, "status": status, "lastRunAt": last_run_at, "disabled": disabled}


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


# The verdict on one sync


def test_status_success_is_healthy_with_its_last_run_when_known() -> None:
    verdict = judge_sync(sync(1, "accounts"), [run(43, "success", "2026-11-20T06:00:00.000Z")])
    assert (verdict.healthy, verdict.status, verdict.run_id, verdict.failed_rows) == (True, "success", "43", 0)
    assert verdict.run_at == "2026-11-20T06:00:30.000Z"
    without_runs = judge_sync(sync(1, "accounts"))
    assert (without_runs.healthy, without_runs.reason) == (True, "status success, last run at 2026-11-20T06:00:00.000Z")


@pytest.mark.parametrize("status", ["failed", "warning", "cancelled", "interrupted"])
def test_a_terminal_status_other_than_success_is_unhealthy_with_its_runs_details(status: str) -> None:
    runs = [run(44, status, "2026-11-20T06:00:00.000Z", failed_added=2, error="INVALID_EMAIL_ADDRESS")]
    verdict = judge_sync(sync(2, "contacts", status), runs)
    assert (verdict.healthy, verdict.status, verdict.run_id, verdict.failed_rows) == (False, status, "44", 2)
    assert verdict.error == "INVALID_EMAIL_ADDRESS"
    assert f"last run 44 ended {status}" in verdict.reason
    assert "2 failed rows" in verdict.reason


def test_the_syncs_status_decides_even_when_the_runs_read_do_not_show_that_run() -> None:
    """The runs' listing order is not documented: whatever runs were read, a failed status is unhealthy."""
    old_successes = [run(n, "success", f"2026-11-{n:02d}T06:00:00.000Z") for n in range(1, 11)]
    verdict = judge_sync(sync(2, "contacts", "failed", "2026-11-20T06:00:00.000Z"), old_successes)
    assert (verdict.healthy, verdict.status, verdict.run_id) == (False, "failed", None)
    assert verdict.reason == (
        "status failed, last run at 2026-11-20T06:00:00.000Z (no run of the last 7 days to detail)"
    )


def test_never_run_is_unhealthy() -> None:
    verdict = judge_sync(sync(3, "tasks", "pending", last_run_at=None))
    assert (verdict.healthy, verdict.status, verdict.run_id) == (False, None, None)
    assert verdict.reason == "has never run"


def test_a_run_in_progress_is_not_judged_the_previous_finished_run_decides() -> None:
    running = run(45, "processing", "2026-11-21T06:00:00.000Z")
    healthy = judge_sync(sync(1, "a", "processing"), [running, run(44, "success", "2026-11-20T06:00:00.000Z")])
    assert (healthy.healthy, healthy.run_id, healthy.in_progress) == (True, "44", True)
    assert healthy.reason.endswith("(a run is processing now)")
    broken = judge_sync(sync(1, "a", "querying"), [running, run(44, "failed", "2026-11-20T06:00:00.000Z")])
    assert (broken.healthy, broken.status, broken.in_progress) == (False, "failed", True)


def test_a_run_in_progress_with_no_finished_run_in_the_window_is_unhealthy() -> None:
    verdict = judge_sync(sync(1, "a", "queued"), [run(45, "queued", "2026-11-21T06:00:00.000Z")], lookback="2 days")
    assert (verdict.healthy, verdict.in_progress) == (False, True)
    assert verdict.reason == "a run is queued and no run finished in the last 2 days"


def test_the_newest_finished_run_is_found_whatever_the_listing_order() -> None:
    old_failure = run(40, "failed", "2026-11-19T06:00:00.000Z", error="boom")
    new_success = run(41, "success", "2026-11-20T06:00:00.000Z")
    for runs in ([old_failure, new_success], [new_success, old_failure]):
        assert judge_sync(sync(1, "a", "processing"), runs).run_id == "41"


def test_runs_with_the_same_timestamp_are_ordered_by_numeric_id() -> None:
    runs = [run(9, "failed", "2026-11-20T06:00:00.000Z"), run(10, "success", "2026-11-20T06:00:00.000Z")]
    assert last_finished_run(runs)["id"] == 10


def test_an_unexpected_status_is_unhealthy_and_says_so() -> None:
    verdict = judge_sync(sync(1, "a", "exploded"))
    assert (verdict.healthy, verdict.reason) == (False, "unexpected sync status 'exploded'")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (sync(1, "a", "success"), False),
        (sync(1, "a", "pending", None), False),
        (sync(1, "a", "failed", disabled=True), False),
        (sync(1, "a", "failed"), True),
        (sync(1, "a", "processing"), True),
    ],
)
def test_runs_are_read_only_to_judge_or_explain(payload: dict[str, Any], expected: bool) -> None:
    assert needs_runs(payload) is expected


# The verdict on the catalogue


def test_the_catalogue_is_judged_missing_and_disabled_syncs_apart_and_others_listed() -> None:
    workspace = [
        sync(2001, "test-accounts"),
        sync(2002, "test-contacts", "failed", disabled=True),  # skipped: disabled by a user
        sync(9001, "someone-elses-sync", "failed"),  # not in the catalogue: listed, not judged
    ]
    report = build_report(CATALOGUE, workspace, {})
    assert [(v.slug, v.healthy) for v in report.verdicts] == [("test-accounts", True), ("test-broken-model", False)]
    assert report.verdicts[1].sync_id is None
    assert report.verdicts[1].reason == (
        "not found in the Hightouch workspace: no sync has the slug test-broken-model"
        " (syncs.yaml: model ANALYTICS.HT_TESTS.DOES_NOT_EXIST)"
    )
    assert report.disabled == ("test-contacts",)
    assert report.outside_catalogue == ("someone-elses-sync (id 9001, status failed)",)
    assert [v.slug for v in report.unhealthy] == ["test-broken-model"]


def test_a_status_disabled_also_skips_the_sync() -> None:
    workspace = [sync(2001, "test-accounts", "disabled"), sync(2002, "test-contacts"), sync(2003, "test-broken-model")]
    assert build_report(CATALOGUE, workspace, {}).disabled == ("test-accounts",)


def test_the_runs_read_for_a_sync_explain_its_verdict() -> None:
    workspace = [sync(2001, "test-accounts", "warning"), sync(2002, "test-contacts"), sync(2003, "test-broken-model")]
    runs = {"2001": [run(7, "warning", "2026-11-20T06:00:00.000Z", 1, "REQUIRED_FIELD_MISSING")]}
    verdict = build_report(CATALOGUE, workspace, runs).verdicts[0]
    assert (verdict.healthy, verdict.run_id, verdict.failed_rows, verdict.error) == (
        False,
        "7",
        1,
        "REQUIRED_FIELD_MISSING",
    )


# Alerting


def _unhealthy_check(monkeypatch: pytest.MonkeyPatch) -> None:
    report = build_report(
        CATALOGUE,
        [
            sync(2001, "test-accounts"),
            sync(2002, "test-contacts", "warning"),
            sync(2003, "test-broken-model", "pending", None),
        ],
        {"2002": [run(2, "warning", "2026-11-20T06:00:00.000Z", 1, "REQUIRED")]},
    )
    monkeypatch.setattr(monitoring, "check_workspace", lambda conn_id, catalogue: report)


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


def test_unhealthy_syncs_fail_the_check_and_post_one_alert(monkeypatch, webhook_posts, caplog) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_TEST",
        json.dumps({"conn_type": "slackwebhook", "password": "https://hooks.slack.example/services/T1/B2/xyz"}),
    )
    _unhealthy_check(monkeypatch)
    expected = (
        r"^2 of 3 Hightouch syncs unhealthy: test-contacts: last run 2 ended warning .*;"
        r" test-broken-model: has never run$"
    )
    with pytest.raises(AirflowFailException, match=expected):
        check_and_alert("hightouch_test", alerts_conn_id="alerts_test")

    assert len(webhook_posts) == 1
    url, body = webhook_posts[0]
    assert url == "https://hooks.slack.example/services/T1/B2/xyz"
    text = body["text"]
    assert text.splitlines()[0] == ":rotating_light: Hightouch: 2 of 3 syncs unhealthy"
    assert [line.split("`")[1] for line in text.splitlines()[1:]] == ["test-contacts", "test-broken-model"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w.split()[2] for w in warnings] == ["test-contacts", "test-broken-model"]


def test_without_an_alerts_connection_the_check_still_fails_and_sends_nothing(monkeypatch, webhook_posts) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    _unhealthy_check(monkeypatch)
    with pytest.raises(AirflowFailException, match="2 of 3"):
        check_and_alert("hightouch_test", alerts_conn_id="no_such_alerts_connection")
    assert webhook_posts == []


def test_all_healthy_returns_the_report_and_logs_the_other_sections(monkeypatch, webhook_posts, caplog) -> None:
    caplog.set_level("INFO")
    report = build_report(
        CATALOGUE,
        [sync(2001, "test-accounts"), sync(2002, "test-contacts", disabled=True), sync(9, "extra")],
        {},
    )
    report = MonitorReport(report.verdicts[:1], report.disabled, report.outside_catalogue)
    monkeypatch.setattr(monitoring, "check_workspace", lambda conn_id, catalogue: report)
    assert check_and_alert("hightouch_test", alerts_conn_id="alerts_test") == report.as_dict()
    assert webhook_posts == []
    messages = [r.getMessage() for r in caplog.records]
    assert "Hightouch sync test-contacts skipped: disabled in Hightouch (not judged; preflight reports it)" in messages
    assert (
        "Hightouch syncs in the workspace but not in syncs.yaml (not judged): extra (id 9, status success)" in messages
    )


# The calls at the edge, against a fake Hightouch


class FakeHightouch:
    """``GET /syncs`` and ``GET /syncs/{id}/runs`` as the reference documents them; runs listed by ascending id
    (``orderBy`` defaults to ``id``; no direction is documented, so ascending is as legitimate as any)."""

    def __init__(self, syncs: list[dict[str, Any]], runs: dict[str, list[dict[str, Any]]]) -> None:
        self.syncs, self.runs = syncs, runs
        self.calls: list[tuple[str, dict[str, str]]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlparse(request.url)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        path = url.path.removeprefix("/api/v1/")
        self.calls.append((path, query))
        parts = path.split("/")
        limit, offset = int(query.get("limit", 100)), int(query.get("offset", 0))
        if parts == ["syncs"]:
            items = [s for s in self.syncs if "slug" not in query or s["slug"] == query["slug"]]
        elif len(parts) == 3 and parts[0] == "syncs" and parts[2] == "runs":
            items = sorted(self.runs.get(parts[1], []), key=lambda r: r["id"])
            if "after" in query:
                items = [r for r in items if r["createdAt"] >= query["after"]]
        else:
            raise AssertionError(f"unexpected call {url.path}")
        response = requests.Response()
        response.status_code, response.url = 200, request.url
        response._content = json.dumps({"data": items[offset : offset + limit], "hasMore": offset + limit < len(items)})
        response._content = response._content.encode()
        return response


def _iso(hours_ago: float) -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def fake_workspace(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HIGHTOUCH_TEST",
        json.dumps({"conn_type": "http", "host": "https://hightouch.example", "password": "test-api-key"}),
    )

    def install(syncs: list[dict[str, Any]], runs: dict[str, list[dict[str, Any]]]) -> FakeHightouch:
        fake = FakeHightouch(syncs, runs)
        monkeypatch.setattr(requests.Session, "send", lambda self, request, **kw: fake.send(request, **kw))
        return fake

    return install


def test_a_failed_sync_is_unhealthy_though_its_first_runs_listed_succeeded(fake_workspace) -> None:
    """Regression (defect 6): the monitor read the first 10 runs listed and took them for the newest.

    Hightouch lists runs by ``id`` without a documented direction; listed oldest first, the first 10 runs of
    salesforce-accounts are old successes and its latest run (13) failed. The old code judged it healthy
    ("last run 10 succeeded") and returned without alerting.
    """
    from airflow.sdk.exceptions import AirflowFailException

    syncs, runs = [], {}
    for number, entry in enumerate(default_syncs().syncs, start=1):
        failing = entry.slug == "salesforce-accounts"
        syncs.append(sync(number, entry.slug, "failed" if failing else "success", _iso(1)))
        runs[str(number)] = (
            [run(n, "success", _iso(40 - n)) for n in range(1, 13)] + [run(13, "failed", _iso(1), error="boom")]
            if failing
            else [run(1, "success", _iso(1))]
        )
    fake_workspace(syncs, runs)
    n = len(default_syncs().syncs)
    with pytest.raises(AirflowFailException, match=rf"^1 of {n} Hightouch syncs unhealthy: salesforce-accounts: last"):
        check_and_alert("hightouch_test", alerts_conn_id="no_such_alerts_connection")


def test_every_page_of_syncs_and_of_the_runs_window_is_read(fake_workspace) -> None:
    catalogue = SyncCatalogue(syncs=CATALOGUE.syncs[:1])
    failing = [run(n, "success", _iso(100 - n)) for n in range(1, 6)] + [run(6, "failed", _iso(1), error="late")]
    fake = fake_workspace(
        [sync(2001, "test-accounts", "failed", _iso(1))] + [sync(9000 + n, f"other-{n}") for n in range(4)],
        {"2001": [run(0, "failed", _iso(24 * 30), error="a month ago"), *failing]},
    )
    report = check_workspace("hightouch_test", catalogue, page_size=2, lookback=dt.timedelta(days=7))

    assert (report.verdicts[0].run_id, report.verdicts[0].error) == ("6", "late")
    assert len(report.outside_catalogue) == 4
    sync_pages = [q for path, q in fake.calls if path == "syncs"]
    assert [q["offset"] for q in sync_pages] == ["0", "2", "4"]
    run_pages = [q for path, q in fake.calls if path == "syncs/2001/runs"]
    assert [q["offset"] for q in run_pages] == ["0", "2", "4"]
    assert {q["orderBy"] for q in run_pages} == {"id"}
    after = dt.datetime.fromisoformat(run_pages[0]["after"].replace("Z", "+00:00"))
    assert abs(after - (dt.datetime.now(dt.UTC) - dt.timedelta(days=7))) < dt.timedelta(minutes=1)


def test_runs_are_not_read_for_healthy_or_disabled_syncs(fake_workspace) -> None:
    fake = fake_workspace(
        [sync(2001, "test-accounts"), sync(2002, "test-contacts", "failed", disabled=True)],
        {},
    )
    check_workspace("hightouch_test", CATALOGUE)
    assert [path for path, _ in fake.calls] == ["syncs"]
