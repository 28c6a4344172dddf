"""The Hightouch connection check, the API client's error handling and the sync operator's run polling, no network."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import tenacity

from include.hightouch.api import HightouchApi, HightouchApiError, error_detail
from include.hightouch.connection import checked_connection, connection_problems
from include.hightouch.operator import HightouchSyncOperator, find_run, unknown_slug_message


def conn(host: str | None = "https://api.hightouch.com", login: str | None = None, password: str | None = "key",  # noqa: S107
         schema: str | None = None) -> SimpleNamespace:  # fmt: skip
    return SimpleNamespace(conn_id="hightouch_test", host=host, login=login, password=password, schema=schema)


# The connection


@pytest.mark.parametrize(
    "connection",
    [conn(), conn(host="http://127.0.0.1:8002"), conn(host="api.hightouch.com", schema="https")],
    ids=["documented", "explicit-http-local", "host-and-https-schema"],
)
def test_a_usable_connection_has_no_problem(connection: SimpleNamespace) -> None:
    assert connection_problems(connection) == []


def test_a_login_is_a_problem_with_its_fix() -> None:
    (problem,) = connection_problems(conn(login="me@example.com"))
    assert problem.startswith("has a login ('me@example.com'): the HTTP hook then sends Basic auth")
    assert problem.endswith("leave the login empty and put the API key in the password")


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        (conn(password=None), "has no password: put the Hightouch workspace API key"),
        (conn(host=None), "has no host: set the host to https://api.hightouch.com"),
        (conn(host="api.hightouch.com"), "without a scheme, so calls would go over plain http: set the host to https://api"),
    ],
    ids=["no-password", "no-host", "no-scheme"],
)  # fmt: skip
def test_each_other_problem_says_how_to_fix_it(connection: SimpleNamespace, expected: str) -> None:
    (problem,) = connection_problems(connection)
    assert expected in problem


def test_every_problem_is_reported_at_once(monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv("AIRFLOW_CONN_HIGHTOUCH_TEST", json.dumps({"conn_type": "http", "login": "me"}))
    with pytest.raises(AirflowFailException) as failed:
        checked_connection("hightouch_test")
    message = str(failed.value)
    assert message.startswith("Airflow connection 'hightouch_test' for Hightouch has a login ('me')")
    assert "; it has no password" in message
    assert "; it has no host" in message


def test_the_api_client_and_the_operator_refuse_a_connection_with_a_login(monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv(
        "AIRFLOW_CONN_HIGHTOUCH_TEST",
        json.dumps({"conn_type": "http", "host": "https://api.hightouch.com", "login": "me", "password": "key"}),
    )
    sent: list[Any] = []
    monkeypatch.setattr(requests.Session, "send", lambda self, request, **kw: sent.append(request))
    with pytest.raises(AirflowFailException, match="has a login"):
        HightouchApi("hightouch_test")
    operator = HightouchSyncOperator(task_id="sync", sync_slug="salesforce-accounts", connection_id="hightouch_test")
    with pytest.raises(AirflowFailException, match="has a login"):
        operator.execute({})
    assert sent == [], "nothing reaches Hightouch"


# The API client


def response(status: int, body: Any, url: str = "https://api.hightouch.com/api/v1/syncs") -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer.url = status, url
    answer._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    return answer


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "Sync not found"}, "Sync not found"),
        ({"message": "Validation failed", "details": {"orderBy": "bad"}}, "Validation failed: {'orderBy': 'bad'}"),
        ("Internal Server Error", "Internal Server Error"),
    ],
    ids=["TriggerErrorResponse", "ValidateErrorJSON", "text"],
)
def test_hightouchs_error_text_is_read_from_either_documented_shape(body: Any, expected: str) -> None:
    assert error_detail(response(400, body)) == expected


@pytest.fixture
def answers(monkeypatch):
    """Serve the given answers in order to the client; return the requests sent."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_HIGHTOUCH_TEST",
        json.dumps({"conn_type": "http", "host": "https://api.hightouch.com", "password": "test-api-key"}),
    )
    sent: list[requests.PreparedRequest] = []

    def install(*queued: requests.Response) -> list[requests.PreparedRequest]:
        pending = list(queued)

        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            sent.append(request)
            return pending.pop(0)

        monkeypatch.setattr(requests.Session, "send", send)
        return sent

    return install


def test_a_rate_limited_call_is_retried_and_succeeds(answers) -> None:
    sent = answers(response(429, {"error": "Rate limited"}), response(200, {"data": [], "hasMore": False}))
    api = HightouchApi("hightouch_test", wait=tenacity.wait_none())
    assert api.get("syncs", {"slug": "x"}) == {"data": [], "hasMore": False}
    assert len(sent) == 2
    assert sent[0].headers["Authorization"] == "Bearer test-api-key"
    assert sent[0].url == "https://api.hightouch.com/api/v1/syncs?slug=x"


def test_an_error_a_retry_cannot_fix_is_raised_at_once_with_hightouchs_text(answers) -> None:
    sent = answers(response(422, {"message": "Validation failed", "details": {"orderBy": "bad"}}))
    with pytest.raises(HightouchApiError, match=r"answered 422: Validation failed: \{'orderBy': 'bad'\}") as failed:
        HightouchApi("hightouch_test", wait=tenacity.wait_none()).get("syncs", {"orderBy": "bad"})
    assert (failed.value.status, len(sent)) == (422, 1)


def test_a_refused_api_key_fails_without_retry(answers) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    sent = answers(response(401, {"error": "Unauthorized"}))
    with pytest.raises(AirflowFailException, match=r"refused the API key of connection 'hightouch_test' \(401"):
        HightouchApi("hightouch_test", wait=tenacity.wait_none()).syncs()
    assert len(sent) == 1


def test_a_server_error_that_persists_is_raised_after_the_retries(answers) -> None:
    sent = answers(*[response(503, {"error": "down"})] * 4)
    with pytest.raises(HightouchApiError, match="answered 503: down"):
        HightouchApi("hightouch_test", wait=tenacity.wait_none()).get("syncs")
    assert len(sent) == 4


def test_a_slug_lookup_keeps_only_the_exact_slug(answers) -> None:
    answers(response(200, {"data": [{"id": 1, "slug": "a-b"}, {"id": 2, "slug": "a"}], "hasMore": False}))
    assert HightouchApi("hightouch_test").sync_by_slug("a") == {"id": 2, "slug": "a"}


# The operator's pure helpers and its polling


def test_the_unknown_slug_message_names_slug_host_workspace_and_fix() -> None:
    message = unknown_slug_message("salesforce-leads", "https://api.hightouch.com", "123")
    assert message.startswith(
        "Hightouch sync slug 'salesforce-leads' not found in workspace 123 at https://api.hightouch.com"
    )
    assert "Create the sync with this slug" in message
    assert "workspace (it lists no sync at all)" in unknown_slug_message("x", "https://h", None)


def test_only_the_run_asked_for_is_taken() -> None:
    assert find_run([{"id": 41}, {"id": 42}], "42") == {"id": 42}
    assert find_run([{"id": 41}], "42") is None
    assert find_run([], "42") is None


class PollHook:
    """Answers ``get_sync_run_details`` from a script of answers (the last one repeats)."""

    def __init__(self, *answers: list[dict[str, Any]]) -> None:
        self.answers, self.calls = list(answers), 0

    def get_sync_run_details(self, sync_id: str, run_id: str) -> list[dict[str, Any]]:
        self.calls += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _operator(**kwargs: Any) -> HightouchSyncOperator:
    return HightouchSyncOperator(task_id="sync", sync_slug="s", wait_seconds=0, **kwargs)


def test_polling_returns_the_run_once_it_ends_whatever_its_status() -> None:
    hook = PollHook(
        [{"id": 7, "status": "queued"}], [], [{"id": 7, "status": "processing"}], [{"id": 7, "status": "failed"}]
    )
    assert _operator()._wait_for_run(hook, "2001", "7") == {"id": 7, "status": "failed"}
    assert hook.calls == 4


def test_a_run_that_is_never_listed_fails_clearly_after_a_few_polls() -> None:
    from airflow.sdk.exceptions import AirflowException

    hook = PollHook([{"id": 8, "status": "success"}])  # another run: the API answered, but not with run 7
    with pytest.raises(AirflowException, match=r"^Hightouch answered no run for run 7 of sync 2001: .* 3 times"):
        _operator()._wait_for_run(hook, "2001", "7")
    assert hook.calls == 3


def test_a_run_that_does_not_end_in_time_fails_with_its_last_status() -> None:
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(
        AirflowException, match=r"^Hightouch sync 2001 run 7 did not finish within 0 s; last status processing$"
    ):
        _operator(timeout=0)._wait_for_run(PollHook([{"id": 7, "status": "processing"}]), "2001", "7")
