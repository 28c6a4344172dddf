"""Links ``make demo`` prints: Airflow 3 UI pages of a run and its failed tasks, the dbt docs view, API pages.

Pure functions (no requests): the paths follow the Airflow 3 UI's routes (``/dags/:dagId/runs/:runId``,
``.../tasks/:taskId``, ``.../mapped/:mapIndex``, ``/plugin/:page``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dev.localcloud.settings import CloudSettings

# Task states that mean "this is where the run went wrong" (a failed task's downstream is upstream_failed).
FAILED_STATES = frozenset({"failed", "upstream_failed"})


def _segment(value: str) -> str:
    """One path segment. Run ids hold ':' and '+' (``scheduled__2026-11-26T02:15:00+00:00``); the UI's own links
    keep them as they are, so they stay readable; anything else that is not URL-safe is percent-encoded."""
    if not value:
        raise ValueError("an empty id cannot be part of a UI link")
    return quote(value, safe=":+")


def airflow_base_url(settings: CloudSettings) -> str:
    """The UI a browser on this machine opens (``AIRFLOW__API__BASE_URL`` of the local cloud)."""
    return f"http://localhost:{settings.airflow_port}"


def dag_url(base: str, dag_id: str) -> str:
    return f"{base.rstrip('/')}/dags/{_segment(dag_id)}"


def run_url(base: str, dag_id: str, run_id: str) -> str:
    """The run's page: its grid, tasks and logs."""
    return f"{dag_url(base, dag_id)}/runs/{_segment(run_id)}"


def task_url(base: str, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """One task instance of a run; a mapped instance (``map_index >= 0``) has its own page."""
    url = f"{run_url(base, dag_id, run_id)}/tasks/{_segment(task_id)}"
    return f"{url}/mapped/{map_index}" if map_index >= 0 else url


@dataclass(frozen=True)
class FailedTask:
    task_id: str
    map_index: int
    state: str

    @property
    def label(self) -> str:
        return self.task_id + (f"[{self.map_index}]" if self.map_index >= 0 else "")


def failed_tasks(task_instances: Iterable[Mapping[str, Any]]) -> list[FailedTask]:
    """The task instances (as the REST API lists them) that failed, the failed ones before those they stopped."""
    found = [
        FailedTask(str(ti["task_id"]), int(ti.get("map_index", -1)), str(ti["state"]))
        for ti in task_instances
        if ti.get("state") in FAILED_STATES
    ]
    return sorted(found, key=lambda t: (t.state != "failed", t.task_id, t.map_index))


def plugin_page_url(base: str, view_name: str) -> str:
    """An external view shown inside the Airflow UI. A view without ``url_route`` (as Cosmos registers its dbt
    docs) is routed by its name, lower-cased with its first space turned into a dash, as the UI does."""
    return f"{base.rstrip('/')}/plugin/{_segment(view_name.lower().replace(' ', '-', 1))}"


@dataclass(frozen=True)
class ApiPage:
    service: str
    url: str


def api_pages(settings: CloudSettings) -> list[ApiPage]:
    """The interactive API pages (FastAPI's ``/docs``) of what the local cloud runs. The Salesforce emulator
    serves none: Salesforce's own REST reference is the contract it follows."""
    return [
        ApiPage("Airflow REST API", f"{airflow_base_url(settings)}/docs"),
        ApiPage("Cloud app API", f"http://{settings.cloud_app_host}:{settings.cloud_app_port}/docs"),
        ApiPage("Hightouch emulator", f"http://{settings.hightouch_host}:{settings.hightouch_port}/docs"),
    ]
