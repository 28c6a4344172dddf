"""Test-wide set-up: an isolated Airflow home, so tests never touch a developer's ~/airflow or .local/airflow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# False inside the deployment image, where `astro dev pytest` runs tests/ with dags/, include/, plugins/ and
# .astro/ but without the Makefile, dev/ (the local cloud), docs/, the tooling packages of requirements-dev.txt or
# the repository's CI and compose files. A module that needs any of them skips itself when this is False (before
# importing them: tests/static/test_test_layout.py checks it), and the two folders that need them throughout are
# not collected there (collect_ignore_glob below).
CHECKOUT = (REPO_ROOT / "Makefile").is_file()
NOT_IN_IMAGE = "needs the repository checkout (dev/, docs/, tooling), which the deployment image leaves out"
# False in a fork that deleted dev/, the local cloud (docs/fork-this-template.md, "Without the local cloud"): the
# integration tests run the pipeline on it, so they are not collected; unit, DAG and static tests still run.
LOCAL_CLOUD = (REPO_ROOT / "dev").is_dir()
NO_LOCAL_CLOUD = "tests/integration were not collected: they run the pipeline on the local cloud, and dev/ is gone"
# Two test sessions at once (e.g. two checkouts) need their own state and ports: LOCALCLOUD_TEST_STATE, and
# LOCALCLOUD_TEST_PORT_OFFSET (added to every test port) or the LOCALCLOUD_TEST_*_PORT variables of
# tests/integration/conftest.py.
BASE_TEST_STATE = Path(os.environ.get("LOCALCLOUD_TEST_STATE", REPO_ROOT / ".local" / "test"))
# `make test` runs the modules on pytest-xdist workers: each has its own local cloud, with its own state and
# ports (worker n: every test port + 100 n), so they never meet.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_STATE = BASE_TEST_STATE / WORKER if WORKER else BASE_TEST_STATE
PORT_OFFSET = int(os.environ.get("LOCALCLOUD_TEST_PORT_OFFSET", 0)) + 100 * int(WORKER.removeprefix("gw") or 0)


def worker_port(variable: str, default: int) -> int:
    """A port of the test cloud: ``variable`` (LOCALCLOUD_TEST_*_PORT) or ``default``, moved for this worker."""
    return int(os.environ.get(variable, default)) + PORT_OFFSET


# Must be set before anything imports airflow.
os.environ["AIRFLOW_HOME"] = str(TEST_STATE / "airflow-unit")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)

# integration/ drives the local cloud; static/ reads the compose file, workflows, Makefile and docs.
collect_ignore_glob = [] if CHECKOUT else ["integration/*", "static/*"]
if CHECKOUT and not LOCAL_CLOUD:
    collect_ignore_glob.append("integration/*")

_REPORT: list[str] = []


@pytest.fixture(scope="session")
def report() -> list[str]:
    """Lines for the end-of-run summary: measured figures the tests want a reader to see."""
    return _REPORT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked ``long_running`` come first, longest first. `make test` hands whole modules to its
    workers in this order (``--dist loadfile --no-loadscope-reorder``), so the long DAG-running modules do not
    start last and leave one worker alone at the end. The minutes are what each module took in a whole `make test`
    on 2 cores (three workers sharing them; re-measure them from the worker timeline of `pytest -v` when a module
    changes much): only their order matters."""

    def longest_first(item: pytest.Item) -> float:
        marker = item.get_closest_marker("long_running")
        return -float(marker.kwargs.get("minutes", 1)) if marker else 0.0

    items.sort(key=longest_first)  # stable: a module's tests stay together and in order


def pytest_sessionfinish(session: pytest.Session) -> None:
    if WORKER and _REPORT:  # a worker hands its lines to the controller, which prints the summary
        (BASE_TEST_STATE / f"measured-{WORKER}.txt").write_text("\n".join(_REPORT) + "\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if WORKER:  # a worker's own summary goes nowhere: the controller reads the lines the workers handed over
        return
    lines = list(_REPORT)
    if not CHECKOUT:
        lines.append("the deployment image: tests/integration and tests/static were not collected")
    elif not LOCAL_CLOUD:
        lines.append(NO_LOCAL_CLOUD)
    for handed in sorted(BASE_TEST_STATE.glob("measured-gw*.txt")):
        lines += handed.read_text().splitlines()
        handed.unlink()
    if lines:
        terminalreporter.section("measured")
        for line in lines:
            terminalreporter.write_line(line)
