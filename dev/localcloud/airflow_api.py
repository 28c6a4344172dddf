"""A small client for the local Airflow's REST API (v2): trigger a DAG run and wait for it.

Used by ``make demo`` and the end-to-end tests, so both drive the real scheduler the same way.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

TERMINAL_STATES = {"success", "failed"}


class AirflowApiError(RuntimeError):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def parse_time(value: str | None) -> datetime | None:
    """A timestamp of the API (ISO 8601, ``Z`` or offset); None stays None (a run not started or ended yet)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


_SAFE_TO_REPEAT = frozenset({"GET", "PATCH"})  # reading, or setting a field to a value: repeating changes nothing


def _transient(error: BaseException) -> bool:
    """A slow or restarting api-server (a busy laptop), not an answer: worth asking again."""
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return True
    # 500 "Database error": the scheduler is holding the local SQLite metadata database's lock; ask again.
    return isinstance(error, AirflowApiError) and error.status_code in {500, 502, 503, 504}


@dataclass
class AirflowApi:
    base_url: str
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self._session = requests.Session()
        # The local deployment runs SimpleAuthManager with all users admin: a token needs no credentials.
        token = Retrying(retry=retry_if_exception(_transient), stop=stop_after_attempt(4),
                         wait=wait_exponential(multiplier=1, max=10), reraise=True)(
            self._session.get, f"{self.base_url}/auth/token", timeout=self.timeout
        )  # fmt: skip
        token.raise_for_status()
        self._session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def _call(self, method: str, path: str, *, repeatable: bool = False, **kwargs: Any) -> Any:
        """One API call; reads, field updates and calls marked ``repeatable`` are tried again on a transient error."""
        attempts = Retrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(4 if repeatable or method in _SAFE_TO_REPEAT else 1),
            wait=wait_exponential(multiplier=1, max=10),
            reraise=True,
        )
        return attempts(self._request, method, path, **kwargs)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._session.request(method, f"{self.base_url}/api/v2{path}", timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise AirflowApiError(
                f"{method} {path} -> {response.status_code}: {response.text[:500]}", response.status_code
            )
        return response.json() if response.content else None

    def page(self, path: str) -> requests.Response:
        """A page the API server serves outside the REST API (a plugin's), with this client's token."""
        return self._session.get(f"{self.base_url}{path}", timeout=self.timeout)

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the dag-processor has parsed ``dag_id``; fail fast on an import error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            errors = self._call("GET", "/importErrors")["import_errors"]
            if errors:
                detail = "; ".join(f"{e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}" for e in errors)
                raise AirflowApiError(f"DAG import errors: {detail}")
            try:
                return dict(self._call("GET", f"/dags/{dag_id}"))
            except AirflowApiError:
                time.sleep(2)
        raise AirflowApiError(f"DAG {dag_id} not parsed within {timeout:.0f}s")

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        body = {"logical_date": None, "conf": conf or {}}
        return str(self._call("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = str(self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])
            if state in TERMINAL_STATES:
                return state
            time.sleep(2)
        raise AirflowApiError(f"run {run_id} of {dag_id} not finished within {timeout:.0f}s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (mapped ones each), paging past the API's page limit."""
        path, instances = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", []
        while True:
            page = self._call("GET", path, params={"limit": 100, "offset": len(instances)})
            instances += page["task_instances"]
            if not page["task_instances"] or len(instances) >= page["total_entries"]:
                return instances

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """task_id (with ``[map_index]`` for mapped tasks) -> state."""
        return {
            ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti["state"]
            for ti in self.task_instances(dag_id, run_id)
        }

    def dag(self, dag_id: str) -> dict[str, Any]:
        """The DAG as the scheduler sees it (is_paused, next_dagrun_run_after, timetable_summary, ...)."""
        return dict(self._call("GET", f"/dags/{dag_id}"))

    def is_paused(self, dag_id: str) -> bool:
        return bool(self._call("GET", f"/dags/{dag_id}")["is_paused"])

    def pause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": True})

    def runs(self, dag_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The DAG's newest runs first (run_id, state, run_type, run_after, start_date, end_date, ...)."""
        params = {"order_by": "-run_after", "limit": limit}
        return list(self._call("GET", f"/dags/{dag_id}/dagRuns", params=params)["dag_runs"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}"))

    def mark_run_failed(self, dag_id: str, run_id: str) -> None:
        """Stop a queued or running run, as the UI's "Mark run as failed" does: its unfinished tasks end and no new one
        starts (PATCH /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}:
        https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#operation/patch_dag_run)."""
        self._call("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}", json={"state": "failed"}, repeatable=True)

    def clear_run(self, dag_id: str, run_id: str) -> None:
        """Re-run every task of a finished run (Airflow's way to re-process the same data interval)."""
        # Clearing twice leaves the run as clearing once does: safe to repeat.
        self._call("POST", f"/dags/{dag_id}/dagRuns/{run_id}/clear", json={"dry_run": False}, repeatable=True)

    def clear_task(self, dag_id: str, run_id: str, task_id: str) -> None:
        """Re-run one task of a run and everything downstream of it, as the UI's Clear with "Downstream" does
        (POST /api/v2/dags/{dag_id}/clearTaskInstances:
        https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#operation/post_clear_task_instances)."""
        body = {"dry_run": False, "dag_run_id": run_id, "task_ids": [task_id], "only_failed": False,
                "include_downstream": True, "reset_dag_runs": True}  # fmt: skip
        self._call("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """One try's log as the UI shows it (worker and triggerer parts), one message per line."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        response = self._session.get(
            f"{self.base_url}/api/v2{path}", headers={"Accept": "application/x-ndjson"}, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise AirflowApiError(f"GET {path} -> {response.status_code}: {response.text[:500]}")
        lines = []
        for raw in response.text.splitlines():
            try:
                lines.append(str(json.loads(raw).get("event", "")))
            except ValueError:
                lines.append(raw)
        return "\n".join(lines)

    def hitl_detail(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """What a human-in-the-loop task asks (subject, body, options) and any response."""
        return dict(self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails"))

    def respond(self, dag_id: str, run_id: str, task_id: str, option: str) -> dict[str, Any]:
        """Answer a waiting human-in-the-loop task, as its Required actions page in the UI does."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails"
        return dict(self._call("PATCH", path, json={"chosen_options": [option], "params_input": {}}))

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self._call("GET", path, params={"deserialize": "true"})["value"]
