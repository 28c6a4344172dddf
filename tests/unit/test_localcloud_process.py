"""Task processes the scheduler leaves behind are found by their cloud's AIRFLOW_HOME, and only those."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CHECKOUT, NOT_IN_IMAGE

if not CHECKOUT:
    pytest.skip(NOT_IN_IMAGE, allow_module_level=True)

from dev.localcloud.process import airflow_task_groups, group_alive, stop_groups

# A stand-in for `airflow worker -- <task>`: "airflow" in its command line, a session of its own.
TASK = [sys.executable, "-c", "import time; time.sleep(60)", "airflow", "worker"]
SERVICE = [sys.executable, "-c", "import time; time.sleep(60)", "emulator"]


def _start(argv: list[str], airflow_home: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, env={**os.environ, "AIRFLOW_HOME": str(airflow_home)}, start_new_session=True)


def test_leftover_task_sessions_of_this_cloud_are_found_and_stopped(tmp_path: Path) -> None:
    ours, other = tmp_path / "ours" / "airflow", tmp_path / "other" / "airflow"
    task, service, scheduler = _start(TASK, ours), _start(SERVICE, ours), _start(TASK, ours)
    elsewhere = _start(TASK, other)
    try:
        # The cloud's own services share its environment: neither a non-Airflow one nor one it recorded is a leftover.
        assert airflow_task_groups(ours, exclude={scheduler.pid}) == [task.pid]
        assert airflow_task_groups(other) == [elsewhere.pid]
        assert airflow_task_groups(tmp_path / "nobody") == []
        stop_groups(airflow_task_groups(ours, exclude={scheduler.pid}), timeout=5)
        task.wait(timeout=5)
        assert not group_alive(task.pid)
        assert (service.poll(), scheduler.poll(), elsewhere.poll()) == (None, None, None), "something else was touched"
    finally:
        for proc in (task, service, scheduler, elsewhere):
            proc.kill()
            proc.wait()
