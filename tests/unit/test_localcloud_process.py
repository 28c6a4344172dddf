"""Task processes the scheduler leaves behind are found by their cloud's AIRFLOW_HOME, and only those."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dev.localcloud.process import airflow_task_groups, group_alive, stop_groups


def test_leftover_task_sessions_of_this_cloud_are_found_and_stopped(tmp_path: Path) -> None:
    ours, other = tmp_path / "ours" / "airflow", tmp_path / "other" / "airflow"
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    # Like the LocalExecutor's task supervisor: a session of its own, outside the scheduler's group.
    mine = subprocess.Popen(sleeper, env={**os.environ, "AIRFLOW_HOME": str(ours)}, start_new_session=True)
    theirs = subprocess.Popen(sleeper, env={**os.environ, "AIRFLOW_HOME": str(other)}, start_new_session=True)
    try:
        assert airflow_task_groups(ours) == [mine.pid]
        assert airflow_task_groups(other) == [theirs.pid]
        assert airflow_task_groups(tmp_path / "nobody") == []
        stop_groups(airflow_task_groups(ours), timeout=5)
        mine.wait(timeout=5)
        assert not group_alive(mine.pid)
        assert theirs.poll() is None, "another cloud's process was touched"
    finally:
        for proc in (mine, theirs):
            proc.kill()
            proc.wait()
