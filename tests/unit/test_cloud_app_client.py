"""The extraction client's pagination and retry decisions, with a scripted HTTP hook (no network)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import requests

from include.cloud_app.client import RetryableResponse, RetryPolicy, SourceApiError, WorkspaceEventsClient

START, END = datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 3, 1, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: object = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status_code(self) -> int:
        return self.status

    def __post_init__(self) -> None:
        if self.text is None:
            self.text = json.dumps(self.body)


class ScriptedHook:
    """Plays back replies (or raises exceptions) in order; records every request's parameters."""

    def __init__(self, *replies: Reply | Exception) -> None:
        self.replies = list(replies)
        self.calls: list[dict] = []

    def run(self, endpoint, data=None, headers=None, extra_options=None):
        self.calls.append(dict(data))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def page(ids: list[int], cursor: str | None) -> Reply:
    return Reply(body={"data": [{"event_id": i} for i in ids], "next_cursor": cursor, "has_more": cursor is not None})


class NoSleepPolicy(RetryPolicy):
    """Records the waits tenacity asks for instead of sleeping them."""

    def __init__(self) -> None:
        super().__init__(attempts=4, initial_wait=1.0, max_wait=30.0)
        object.__setattr__(self, "waits", [])

    def wait(self, state) -> float:
        self.waits.append(super().wait(state))
        return 0.0


def test_follows_cursors_until_the_last_page() -> None:
    hook = ScriptedHook(page([1, 2], "c1"), page([3, 4], "c2"), page([5], None))
    client = WorkspaceEventsClient(hook, "token", page_size=2)
    assert [e["event_id"] for p in client.pages(START, END) for e in p] == [1, 2, 3, 4, 5]
    assert [c.get("cursor") for c in hook.calls] == [None, "c1", "c2"]
    assert hook.calls[0] == {"created_after": "2026-11-03T00:00:00Z", "created_before": "2026-11-03T01:00:00Z",
                             "limit": 2}  # fmt: skip


def test_waits_exactly_retry_after_then_backs_off_exponentially() -> None:
    policy = NoSleepPolicy()
    hook = ScriptedHook(
        Reply(429, {"error": "rate_limited"}, headers={"Retry-After": "7"}),
        Reply(503, {"error": "unavailable"}),
        Reply(200, text='{"data": [{"event_id": 1}], "next_c'),  # truncated body
        page([1], None),
    )
    client = WorkspaceEventsClient(hook, "token", policy=policy)
    assert [e["event_id"] for p in client.pages(START, END) for e in p] == [1]
    assert client.retries == 3
    assert policy.waits[0] == 7.0
    assert 1.0 <= policy.waits[1] <= 3.0  # exponential with jitter, second attempt
    assert 2.0 <= policy.waits[2] <= 5.0


def test_connection_errors_are_retried() -> None:
    hook = ScriptedHook(requests.ConnectionError("reset"), requests.Timeout("slow"), page([1], None))
    client = WorkspaceEventsClient(hook, "token", policy=NoSleepPolicy())
    assert sum(len(p) for p in client.pages(START, END)) == 1
    assert client.retries == 2


def test_gives_up_after_the_policy_attempts() -> None:
    hook = ScriptedHook(*[Reply(500, {"error": "boom"}) for _ in range(4)])
    with pytest.raises(RetryableResponse, match="HTTP 500"):
        list(WorkspaceEventsClient(hook, "token", policy=NoSleepPolicy()).pages(START, END))
    assert len(hook.calls) == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_fail_at_once(status: int) -> None:
    hook = ScriptedHook(Reply(status, {"error": "nope"}))
    with pytest.raises(SourceApiError, match=f"HTTP {status}"):
        list(WorkspaceEventsClient(hook, "token", policy=NoSleepPolicy()).pages(START, END))
    assert len(hook.calls) == 1


def test_a_page_without_the_documented_shape_is_retried() -> None:
    hook = ScriptedHook(Reply(200, {"items": []}), page([], None))
    client = WorkspaceEventsClient(hook, "token", policy=NoSleepPolicy())
    assert list(client.pages(START, END)) == [[]]
    assert client.retries == 1


def test_page_size_is_bounded_by_the_api_limit() -> None:
    with pytest.raises(ValueError, match="page_size"):
        WorkspaceEventsClient(ScriptedHook(), "token", page_size=5000)


class RecordingHook(ScriptedHook):
    """A ScriptedHook that also keeps the extra_options of every request."""

    def __init__(self, *replies: Reply | Exception) -> None:
        super().__init__(*replies)
        self.options: list[dict] = []

    def run(self, endpoint, data=None, headers=None, extra_options=None):
        self.options.append(dict(extra_options or {}))
        return super().run(endpoint, data, headers, extra_options)


def _connection(monkeypatch, extra: dict | None) -> None:
    conn = {"conn_type": "http", "host": "http://127.0.0.1:9", "password": "token"}
    if extra is not None:
        conn["extra"] = extra
    monkeypatch.setenv("AIRFLOW_CONN_CLOUD_APP_TEST", json.dumps(conn))


def test_every_request_carries_the_default_timeout_of_60_seconds() -> None:
    hook = RecordingHook(page([1], "c1"), page([2], None))
    client = WorkspaceEventsClient(hook, "token", policy=NoSleepPolicy())
    assert sum(len(p) for p in client.pages(START, END)) == 2
    assert hook.options == [{"check_response": False, "timeout": 60.0}] * 2


@pytest.mark.parametrize(("extra", "timeout"), [(None, 60.0), ({}, 60.0), ({"timeout": 5}, 5.0),
                                                ({"timeout": "2.5"}, 2.5)])  # fmt: skip
def test_timeout_comes_from_the_connection_extra(monkeypatch, extra, timeout) -> None:
    _connection(monkeypatch, extra)
    client = WorkspaceEventsClient.from_connection("cloud_app_test")
    assert client.timeout == timeout
    # The timeout reaches every request (HttpHook gives extra_options precedence over the connection).
    client._hook = RecordingHook(page([1], None))
    list(client.pages(START, END))
    assert client._hook.options == [{"check_response": False, "timeout": timeout}]


@pytest.mark.parametrize("bad", [0, -1, "soon", True, None, [5]])
def test_a_bad_timeout_in_the_connection_fails_clearly(monkeypatch, bad) -> None:
    _connection(monkeypatch, {"timeout": bad})
    with pytest.raises(SourceApiError, match="timeout must be a positive number of seconds"):
        WorkspaceEventsClient.from_connection("cloud_app_test")


def test_a_read_timeout_is_retried_like_a_dropped_connection() -> None:
    hook = RecordingHook(requests.ReadTimeout("read timed out (read timeout=5.0)"), page([1, 2], None))
    client = WorkspaceEventsClient(hook, "token", policy=NoSleepPolicy(), timeout=5)
    assert [e["event_id"] for p in client.pages(START, END) for e in p] == [1, 2]
    assert (client.retries, client.requests_made) == (1, 2)
    assert [o["timeout"] for o in hook.options] == [5.0, 5.0]
