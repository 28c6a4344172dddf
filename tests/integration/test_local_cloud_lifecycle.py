"""`make up` / `make status` / `make down` behave: idempotent, honest about ports, persistent, leave nothing."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import psutil
import pytest

from include.settings import raw_table
from tests.integration.conftest import CLOUD_HOME, TEST_STATE, cloud_env, load_connections_into_environ, localcloud
from tests.integration.dag_runner import SESSION_RUNNERS

# Restarts the data platform a few times: the longest of the modules that run no DAG.
pytestmark = pytest.mark.long_running(minutes=0.8)
SERVICES = ["s3", "snowflake"]


def _recorded_pids(home: Path) -> dict[str, int]:
    return {p.stem: json.loads(p.read_text())["pid"] for p in (home / "run").glob("*.pid")}


def _processes_of(home: Path) -> list[int]:
    """Every live process started for this cloud home, found by its environment: catches escaped children. The
    test session's DAG runner (tests/integration/dag_runner.py) shares that environment but is not the cloud's."""
    runners = {runner.pid for runner in SESSION_RUNNERS if runner.pid}
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if (
                proc.environ().get("LOCALCLOUD_HOME") == str(home)
                and proc.status() != psutil.STATUS_ZOMBIE
                and os.getpgid(proc.pid) not in runners
            ):
                found.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return found


def test_up_twice_is_harmless_and_status_reports_health(data_platform) -> None:
    before = _recorded_pids(CLOUD_HOME)
    again = localcloud("up", "--only", "s3,snowflake")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "s3: already running" in again.stdout
    assert "snowflake: already running" in again.stdout
    assert _recorded_pids(CLOUD_HOME) == before

    status = localcloud("status")
    lines = {line.split()[0]: line for line in status.stdout.splitlines() if line.strip()}
    for name in SERVICES:
        assert lines[name].endswith("healthy"), status.stdout
    assert status.returncode == (0 if "airflow-scheduler" in before else 1)  # stopped services count as down


def test_busy_port_is_reported_not_ignored(tmp_path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = cloud_env(home=tmp_path / "cloud", LOCALCLOUD_S3_PORT=str(port))
        result = localcloud("up", "--only", "s3", env=env, timeout=60)
    assert result.returncode == 1
    assert f"port {port} for s3 is busy" in result.stdout
    assert "LOCALCLOUD_S3_PORT" in result.stdout
    assert _recorded_pids(tmp_path / "cloud") == {}


def test_state_survives_down_and_up(emulators) -> None:
    """Warehouse tables, created workspaces, Salesforce records and Hightouch runs all outlive a restart."""
    import requests
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from dev.localcloud.settings import CLOUD_APP_TOKEN, HIGHTOUCH_TOKEN
    from include.connections import SALESFORCE, SNOWFLAKE
    from tests.integration.conftest import TEST_PORTS

    warehouse = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    warehouse.run(
        [
            f"CREATE SCHEMA IF NOT EXISTS {raw_table('CONTRACT_TESTS')}",
            f"CREATE OR REPLACE TABLE {raw_table('CONTRACT_TESTS.SURVIVOR')} (ID INTEGER, NOTE VARCHAR)",
            f"INSERT INTO {raw_table('CONTRACT_TESTS.SURVIVOR')} VALUES (1, 'before restart'), (2, 'ünïcödé')",
        ]
    )
    app = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_CLOUD_APP_PORT']}"
    workspace = requests.post(
        f"{app}/v1/workspaces", json={"plan": "free"}, headers={"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}, timeout=5
    ).json()
    lead = (
        SalesforceHook(salesforce_conn_id=SALESFORCE)
        .get_conn()
        .Lead.create({"LastName": "Survivor", "Company": "Restart Inc", "Email": "survivor@restart.io"})
    )
    hightouch = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_HIGHTOUCH_PORT']}/api/v1"
    ht_auth = {"Authorization": f"Bearer {HIGHTOUCH_TOKEN}"}
    run_id = requests.post(f"{hightouch}/syncs/trigger", data={"syncSlug": "salesforce-accounts"}, headers=ht_auth,
                           timeout=5).json()["id"]  # fmt: skip
    pids = _recorded_pids(CLOUD_HOME)

    down = localcloud("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert _processes_of(CLOUD_HOME) == [], "processes left behind after down"
    assert _recorded_pids(CLOUD_HOME) == {}
    for name, pid in pids.items():
        assert f"{name}: stopped (process group {pid}" in down.stdout

    up = localcloud("up", "--only", "s3,snowflake,emulators")
    assert up.returncode == 0, up.stdout + up.stderr
    load_connections_into_environ()
    assert warehouse.get_records(f"SELECT ID, NOTE FROM {raw_table('CONTRACT_TESTS.SURVIVOR')} ORDER BY ID") == [
        (1, "before restart"),
        (2, "ünïcödé"),
    ]
    # The stage is re-created by the bootstrap at start-up, so loading keeps working after a restart.
    assert warehouse.get_first(f"SHOW STAGES IN SCHEMA {raw_table('LANDING')}")[1] == "LANDING_STAGE"
    created = workspace["created_at"]
    listed = requests.get(
        f"{app}/v1/workspaces",
        params={"created_after": created, "created_before": "2100-01-01T00:00:00Z", "limit": 1000},
        headers={"Authorization": f"Bearer {CLOUD_APP_TOKEN}"},
        timeout=5,
    ).json()["data"]
    assert workspace in listed
    restored = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn().Lead.get(lead["id"])
    assert (restored["LastName"], restored["Email"]) == ("Survivor", "survivor@restart.io")
    runs = requests.get(f"{hightouch}/syncs/1001/runs", params={"runId": run_id}, headers=ht_auth, timeout=5)
    assert str(runs.json()["data"][0]["id"]) == str(run_id)


def test_test_state_is_isolated_from_the_developers_cloud() -> None:
    assert CLOUD_HOME.is_relative_to(TEST_STATE)
    assert cloud_env()["LOCALCLOUD_S3_PORT"] != "9000"
