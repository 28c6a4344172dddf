"""A private Hightouch emulator for scenario tests: its own port, syncs file and state, beside the test cloud.

The test cloud's own emulator (``emulators`` fixture) serves ``include/hightouch/syncs.yaml``; scenario tests
need small syncs over tables they create, so each test module starts one of these (one at a time, on PORT).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import requests

from dev.localcloud.process import PidFile, spawn, stop_group
from dev.localcloud.settings import HIGHTOUCH_TOKEN
from tests.conftest import REPO_ROOT, worker_port
from tests.integration.conftest import TEST_PORTS

PORT = worker_port("LOCALCLOUD_TEST_HIGHTOUCH_SCENARIO_PORT", 18003)
BASE = f"http://127.0.0.1:{PORT}/api/v1"
AUTH = {"Authorization": f"Bearer {HIGHTOUCH_TOKEN}"}
CONN_ID = "hightouch_test"
TEST_SYNCS = REPO_ROOT / "tests" / "fixtures" / "hightouch_test_syncs.yaml"


def use_connection() -> None:
    """Point connection CONN_ID at the scenario emulator, as the provider expects it (token in the password)."""
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {"conn_type": "http", "host": f"http://127.0.0.1:{PORT}", "password": HIGHTOUCH_TOKEN}
    )


def start_emulator(state_dir: Path, syncs: Path = TEST_SYNCS, *options: str) -> int:
    """Start the emulator on PORT with its state in ``state_dir``; wait until it answers; return its pid.

    ``options`` are more command-line options, e.g. ``--runs-order oldest-first``.
    """
    argv = [
        sys.executable, "-m", "dev.hightouch", "--port", str(PORT), "--state-dir", str(state_dir),
        "--syncs", str(syncs),
        "--snowflake-port", TEST_PORTS["LOCALCLOUD_SNOWFLAKE_PORT"],
        "--salesforce-url", f"https://localhost:{TEST_PORTS['LOCALCLOUD_SALESFORCE_PORT']}",
        *options,
    ]  # fmt: skip
    pid = spawn(argv, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, log_path=state_dir / "hightouch.log",
                cwd=REPO_ROOT)  # fmt: skip
    PidFile(state_dir / "hightouch.pid").write(pid)
    for _ in range(100):
        try:
            if requests.get(f"{BASE}/health", timeout=1).status_code == 200:
                return pid
        except requests.ConnectionError:
            time.sleep(0.2)
    stop_group(pid)
    raise RuntimeError(f"Hightouch emulator did not start; see {state_dir / 'hightouch.log'}")


def stop_emulator(state_dir: Path, pid: int) -> None:
    """Stop the emulator this state dir's pid file names (a test may have restarted it), else ``pid``."""
    stop_group(PidFile(state_dir / "hightouch.pid").read_live_pid() or pid)
