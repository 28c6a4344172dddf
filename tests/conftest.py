"""Test-wide set-up: an isolated Airflow home, so tests never touch a developer's ~/airflow or .local/airflow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Two test sessions at once (e.g. two checkouts) need their own state and ports: LOCALCLOUD_TEST_STATE and
# the LOCALCLOUD_TEST_*_PORT variables of tests/integration/conftest.py.
TEST_STATE = Path(os.environ.get("LOCALCLOUD_TEST_STATE", REPO_ROOT / ".local" / "test"))

# Must be set before anything imports airflow.
os.environ["AIRFLOW_HOME"] = str(TEST_STATE / "airflow-unit")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)

_REPORT: list[str] = []


@pytest.fixture(scope="session")
def report() -> list[str]:
    """Lines for the end-of-run summary: measured figures the tests want a reader to see."""
    return _REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORT:
        terminalreporter.section("measured")
        for line in _REPORT:
            terminalreporter.write_line(line)
