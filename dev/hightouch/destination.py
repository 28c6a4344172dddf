"""The Salesforce side of a sync: OAuth, then composite sObject collections, 200 records a call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

BATCH = 200  # the composite sObject collections limit
API_VERSION = "v59.0"


class DestinationUnavailable(RuntimeError):
    """Salesforce could not be reached or refused the session: the whole batch failed."""


@dataclass
class RowResult:
    ok: bool
    error: str | None = None


@dataclass
class SalesforceDestination:
    instance_url: str
    client_id: str
    client_secret: str
    timeout: float = 30.0
    _session: requests.Session = field(default_factory=requests.Session)
    _token: str | None = None

    def _authenticate(self) -> None:
        try:
            response = self._session.post(
                f"{self.instance_url}/services/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.client_secret),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise DestinationUnavailable(f"Salesforce unreachable: {exc}") from exc
        if response.status_code != 200:
            raise DestinationUnavailable(f"Salesforce authentication failed: {response.text[:300]}")
        self._token = response.json()["access_token"]

    def _call(self, method: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        if self._token is None:
            self._authenticate()
        url = f"{self.instance_url}/services/data/{API_VERSION}/{path}"
        for attempt in (1, 2):
            try:
                response = self._session.request(
                    method, url, json=body, headers={"Authorization": f"Bearer {self._token}"}, timeout=self.timeout
                )
            except requests.RequestException as exc:
                raise DestinationUnavailable(f"Salesforce unreachable: {exc}") from exc
            if response.status_code == 401 and attempt == 1:
                self._authenticate()  # expired session: log in again once, as Hightouch does
                continue
            if response.status_code >= 400:
                raise DestinationUnavailable(
                    f"Salesforce rejected the batch ({response.status_code}): {response.text[:500]}"
                )
            return list(response.json())
        raise DestinationUnavailable("Salesforce session could not be renewed")

    def write(
        self, sobject: str, mode: str, external_id_field: str | None, records: list[dict[str, Any]]
    ) -> list[RowResult]:
        """Write records in batches; one result per record, in order."""
        results: list[RowResult] = []
        for batch in _chunks(records, BATCH):
            payload = {"allOrNone": False, "records": [{"attributes": {"type": sobject}, **r} for r in batch]}
            if mode == "upsert":
                answer = self._call("PATCH", f"composite/sobjects/{sobject}/{external_id_field}", payload)
            elif mode == "update":
                answer = self._call("PATCH", "composite/sobjects", payload)
            else:
                answer = self._call("POST", "composite/sobjects", payload)
            results += [
                RowResult(True)
                if item.get("success")
                else RowResult(
                    False, "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in item.get("errors", []))
                )
                for item in answer
            ]
        return results


def _chunks(items: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
