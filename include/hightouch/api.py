"""The Hightouch REST API calls the product makes beyond the provider's trigger-and-poll, with their status codes.

The provider's ``HightouchHook.make_request`` retries every failure the same way and then raises "Exceeded max
number of retries", losing the status and Hightouch's message; and it drops ``hasMore``, so it cannot page.
This client goes through the same hook (same connection, base URL and HTTP options), checks the connection
first (``connection.checked_connection``), retries only what a retry can fix (connection errors, 429, 5xx),
pages with ``limit``/``offset``/``hasMore``, and reports any other answer with Hightouch's own error text.

Endpoints and parameters are those of the Hightouch API reference, https://hightouch.com/docs/api-reference:
``GET /syncs`` (ListSync: ``slug``, ``limit``, ``offset``, ``orderBy``), ``GET /syncs/{syncId}/runs`` (ListSyncRuns:
``runId``, ``after``, ``limit``, ``offset``, ``orderBy``), ``GET /models`` and ``GET /models/{modelId}``. Lists answer
``{"data": [...], "hasMore": bool}``; errors answer ``{"error": "..."}`` or, for 422, ``{"message": "Validation
failed", "details": {...}}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import requests
import tenacity
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow_provider_hightouch import __version__ as provider_version
from airflow_provider_hightouch.consts import HIGHTOUCH_API_BASE_V3
from airflow_provider_hightouch.hooks.hightouch import HightouchHook

from include.hightouch.connection import checked_connection, describe_host

#: Hightouch's default and largest documented page size for list endpoints.
PAGE_SIZE = 100
#: Attempts for a request that failed in a way a retry can fix (connection error, 429, 5xx).
ATTEMPTS = 4


class HightouchApiError(AirflowException):
    """Hightouch answered with an error status; the message carries the call, the status and Hightouch's text."""

    def __init__(self, method: str, url: str, status: int, detail: str) -> None:
        super().__init__(f"Hightouch API {method} {url} answered {status}: {detail}")
        self.status = status
        self.detail = detail


def error_detail(response: requests.Response) -> str:
    """Hightouch's error text: ``error`` (400/404/409/429), ``message`` + ``details`` (422), else the raw body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason
    if isinstance(body, Mapping):
        if body.get("error"):
            return str(body["error"])
        if body.get("message"):
            details = body.get("details")
            return f"{body['message']}: {details}" if details else str(body["message"])
    return str(body)[:500]


def _retryable(response: requests.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def iso(moment: dt.datetime) -> str:
    """An ISO 8601 UTC timestamp as Hightouch writes them (``2026-11-20T06:00:00.000Z``)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HightouchApi:
    """Read access to one Hightouch workspace through the Airflow connection ``conn_id``."""

    def __init__(self, conn_id: str, *, wait: tenacity.wait.wait_base | None = None) -> None:
        self.conn_id = conn_id
        conn = checked_connection(conn_id)
        #: The base URL as configured: what an error message names as "where".
        self.host = describe_host(conn)
        self._hook = HightouchHook(hightouch_conn_id=conn_id)
        self._headers = {
            "accept": "application/json",
            "Authorization": f"Bearer {conn.password}",
            "User-Agent": f"AirflowHightouchOperator/{provider_version}",
        }
        self._wait = wait if wait is not None else tenacity.wait_exponential(multiplier=1, max=10)

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET /api/v1/<endpoint>``: the parsed JSON body, or HightouchApiError (AirflowFailException on 401/403)."""
        self._hook.method = "GET"
        response: requests.Response = self._hook.run_with_advanced_retry(
            {
                "stop": tenacity.stop_after_attempt(ATTEMPTS),
                "wait": self._wait,
                "retry": tenacity.retry_if_exception_type(requests.ConnectionError)
                | tenacity.retry_if_result(_retryable),
                # Out of attempts: hand back the last answer (or raise its exception) instead of a RetryError.
                "retry_error_callback": lambda state: state.outcome.result(),
            },
            endpoint=urljoin(HIGHTOUCH_API_BASE_V3, endpoint),
            data=dict(params or {}),
            headers=self._headers,
            extra_options={"check_response": False},
        )
        if response.ok:
            return response.json()
        detail = error_detail(response)
        if response.status_code in (401, 403):
            raise AirflowFailException(
                f"Hightouch at {self.host} refused the API key of connection {self.conn_id!r}"
                f" ({response.status_code}: {detail}): check the key in the connection's password"
            )
        raise HightouchApiError("GET", response.url, response.status_code, detail)

    def list_all(self, endpoint: str, params: Mapping[str, Any] | None = None, page_size: int = PAGE_SIZE) -> list:
        """Every item of a list endpoint, page by page, until ``hasMore`` is false (or a page comes back short)."""
        items: list[Any] = []
        while True:
            body = self.get(endpoint, {**(params or {}), "limit": page_size, "offset": len(items)})
            page = list(body.get("data") or [])
            items += page
            if not page or not body.get("hasMore", len(page) == page_size):
                return items

    def syncs(self, page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """Every sync of the workspace (``GET /syncs``, ordered by id)."""
        return self.list_all("syncs", {"orderBy": "id"}, page_size)

    def sync_by_slug(self, slug: str) -> dict[str, Any] | None:
        """The sync whose slug is ``slug`` (``GET /syncs?slug=``), or None when the workspace has none."""
        data = self.get("syncs", {"slug": slug}).get("data") or []
        return next((dict(sync) for sync in data if sync.get("slug") == slug), None)

    def workspace_id(self) -> str | None:
        """The workspace's id as its syncs report it (``workspaceId``); None if it has no sync to tell."""
        data = self.get("syncs", {"limit": 1}).get("data") or []
        return str(data[0]["workspaceId"]) if data and data[0].get("workspaceId") is not None else None

    def sync_runs(self, sync_id: str, *, after: dt.datetime, page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """Every run of a sync started after ``after``, in no promised order (callers order them themselves)."""
        return self.list_all(f"syncs/{sync_id}/runs", {"after": iso(after), "orderBy": "id"}, page_size)

    def models(self, page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """Every model of the workspace (``GET /models``, ordered by id)."""
        return self.list_all("models", {"orderBy": "id"}, page_size)

    def model(self, model_id: str) -> dict[str, Any]:
        """One model (``GET /models/{modelId}``): ``primaryKey``, ``queryType``, for a table model ``table.name``."""
        return dict(self.get(f"models/{model_id}"))
