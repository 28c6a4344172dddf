"""Page through the cloud app API's workspace events for one window, through an Airflow HTTP connection.

Retries (tenacity) cover what real APIs do: 429 (waiting exactly ``Retry-After``), 5xx, timeouts, dropped
connections and a page whose body is not valid JSON (a truncated response). A page slower than the timeout
(``timeout`` in the connection's extra, in seconds; default 60) is retried too. Pages are yielded one at a
time, so memory stays bounded however large the window.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import tenacity

log = logging.getLogger(__name__)

ENDPOINT = "v1/workspaces"
#: Seconds to wait for a page (connect and read) unless the connection's extra sets ``{"timeout": <seconds>}``.
DEFAULT_TIMEOUT = 60.0
RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class RetryableResponse(Exception):
    """A response worth retrying; carries the server's Retry-After (seconds) when it sent one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceApiError(RuntimeError):
    """A response that retrying cannot fix (400, 401, 404...): fail the task with the API's words."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    initial_wait: float = 1.0
    max_wait: float = 60.0

    def wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableResponse) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait)
        backoff = tenacity.wait_exponential_jitter(initial=self.initial_wait, max=self.max_wait)
        return float(backoff(state))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _timeout(value: Any) -> float:
    """A positive number of seconds (a JSON extra may give it as a number or a numeric string)."""
    try:
        seconds = float("nan") if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, not {value!r}")
    return seconds


class WorkspaceEventsClient:
    """Reads ``GET /v1/workspaces`` pages; ``get`` is any callable performing the HTTP GET (HttpHook.run)."""

    def __init__(
        self,
        hook: Any,
        token: str,
        page_size: int = 500,
        policy: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be within 1..1000 (the API's limit)")
        self.timeout = _timeout(timeout)
        self._hook = hook
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._page_size = page_size
        self._policy = policy or RetryPolicy()
        self.requests_made = 0
        self.retries = 0

    @classmethod
    def from_connection(
        cls, conn_id: str, page_size: int = 500, policy: RetryPolicy | None = None
    ) -> WorkspaceEventsClient:
        from airflow.providers.http.hooks.http import HttpHook

        hook = HttpHook(method="GET", http_conn_id=conn_id)
        connection = hook.get_connection(conn_id)
        token = connection.password
        if not token:
            raise SourceApiError(f"connection {conn_id!r} has no API token (set it as the password)")
        timeout = connection.extra_dejson.get("timeout", DEFAULT_TIMEOUT)
        try:
            return cls(hook, token, page_size, policy, timeout=timeout)
        except ValueError as exc:
            raise SourceApiError(f"connection {conn_id!r}: {exc}") from None

    def _fetch_page(self, params: dict[str, Any]) -> dict[str, Any]:
        self.requests_made += 1
        try:
            response = self._hook.run(
                ENDPOINT,
                data=params,
                headers=self._headers,
                extra_options={"check_response": False, "timeout": self.timeout},
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableResponse(f"connection problem: {exc}") from exc
        if response.status_code in RETRYABLE_STATUS:
            raise RetryableResponse(f"HTTP {response.status_code}: {response.text[:200]}", _retry_after(response))
        if response.status_code >= 400:
            raise SourceApiError(f"HTTP {response.status_code} from the cloud app API: {response.text[:500]}")
        try:
            body = json.loads(response.text)
        except json.JSONDecodeError as exc:
            raise RetryableResponse(f"page is not valid JSON (truncated?): {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("data"), list) or "next_cursor" not in body:
            raise RetryableResponse("page does not have the documented shape (data, next_cursor)")
        return body

    def _fetch_with_retries(self, params: dict[str, Any]) -> dict[str, Any]:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.retries += 1
            log.warning("retrying page (attempt %d): %s", state.attempt_number, state.outcome.exception())

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(RetryableResponse),
            wait=self._policy.wait,
            stop=tenacity.stop_after_attempt(self._policy.attempts),
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(self._fetch_page, params)

    def pages(self, start: datetime, end: datetime) -> Iterator[list[Any]]:
        """Yield the window's events page by page, in the API's order."""
        params: dict[str, Any] = {"created_after": iso(start), "created_before": iso(end), "limit": self._page_size}
        while True:
            body = self._fetch_with_retries(params)
            yield body["data"]
            cursor = body["next_cursor"]
            if not cursor:
                return
            params = {**params, "cursor": cursor}
