"""Port overrides are remembered under the cloud's home, and Airflow's log servers are checked like every port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dev.localcloud.env import environment
from dev.localcloud.services import ServiceError, catalogue, start
from dev.localcloud.settings import PORTS_FILE, load_settings, remember_ports
from tests.conftest import REPO_ROOT


def test_an_override_given_to_up_is_used_by_every_later_command(tmp_path: Path) -> None:
    home = tmp_path / "cloud"
    up_env = {"LOCALCLOUD_HOME": str(home), "LOCALCLOUD_AIRFLOW_PORT": "8181", "LOCALCLOUD_S3_PORT": "9100"}
    assert remember_ports(home, up_env) == {"LOCALCLOUD_AIRFLOW_PORT": "8181", "LOCALCLOUD_S3_PORT": "9100"}

    later = load_settings({"LOCALCLOUD_HOME": str(home)})  # `make down`, `make sql`... with no variable set
    assert (later.airflow_port, later.s3_port, later.snowflake_port) == (8181, 9100, 8443)
    assert remember_ports(home, {"LOCALCLOUD_AIRFLOW_PORT": "8181"}) == {}, "nothing new to remember"


def test_the_environment_wins_and_a_new_override_is_remembered_beside_the_old(tmp_path: Path) -> None:
    home = tmp_path / "cloud"
    remember_ports(home, {"LOCALCLOUD_AIRFLOW_PORT": "8181", "LOCALCLOUD_S3_PORT": "9100"})
    assert load_settings({"LOCALCLOUD_HOME": str(home), "LOCALCLOUD_S3_PORT": "9200"}).s3_port == 9200
    remember_ports(home, {"LOCALCLOUD_S3_PORT": "9200"})
    later = load_settings({"LOCALCLOUD_HOME": str(home)})
    assert (later.airflow_port, later.s3_port) == (8181, 9200)


def test_deleting_the_file_restores_the_defaults(tmp_path: Path) -> None:
    home = tmp_path / "cloud"
    remember_ports(home, {"LOCALCLOUD_SNOWFLAKE_PORT": "8555"})
    (home / PORTS_FILE).unlink()
    assert load_settings({"LOCALCLOUD_HOME": str(home)}).snowflake_port == 8443


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("LOCALCLOUD_S3_PORT=nine", "is not a port number"),
        ("LOCALCLOUD_S3_PORT=70000", "is outside 1-65535"),
        ("S3_PORT=9100", "is not one of LOCALCLOUD_S3_PORT"),
    ],
)
def test_a_bad_remembered_line_is_a_clear_error(tmp_path: Path, line: str, says: str) -> None:
    (tmp_path / PORTS_FILE).write_text(f"# comment\n{line}\n")
    with pytest.raises(SystemExit, match=says) as error:
        load_settings({"LOCALCLOUD_HOME": str(tmp_path)})
    assert str(tmp_path / PORTS_FILE) in str(error.value)


def test_make_up_remembers_and_make_status_uses_it(tmp_path: Path) -> None:
    """Through the command line: `up` with an override that cannot start (its port is busy), then `status` without."""
    home = tmp_path / "cloud"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        up = _localcloud("up", "--only", "s3", env={"LOCALCLOUD_HOME": str(home), "LOCALCLOUD_S3_PORT": str(port)})
    assert up.returncode == 1
    assert f"remembered LOCALCLOUD_S3_PORT={port} in {home / PORTS_FILE}" in up.stdout
    status = _localcloud("status", env={"LOCALCLOUD_HOME": str(home)})
    assert f"port {port} " in next(line for line in status.stdout.splitlines() if line.startswith("s3 "))


def _localcloud(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCALCLOUD_")}
    return subprocess.run(
        [sys.executable, "-m", "dev.localcloud", *args],
        cwd=REPO_ROOT,
        env={**clean, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_airflow_is_told_the_log_server_ports_the_busy_check_checks(tmp_path: Path) -> None:
    settings = load_settings({"LOCALCLOUD_HOME": str(tmp_path), "LOCALCLOUD_AIRFLOW_PORT": "18080"})
    env = environment(settings)
    checked = {s.name: s.ports for s in catalogue(settings)["airflow"]}
    assert checked["airflow-scheduler"] == [int(env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"])] == [18793]
    assert checked["airflow-triggerer"] == [int(env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"])] == [18794]
    assert checked["airflow-api-server"] == [18080]


@pytest.mark.parametrize(("component", "above"), [("scheduler", 713), ("triggerer", 714)])
def test_a_busy_log_server_port_is_reported_before_anything_starts(tmp_path: Path, component: str, above: int) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = load_settings({"LOCALCLOUD_HOME": str(tmp_path), "LOCALCLOUD_AIRFLOW_PORT": str(port - above)})
        service = next(s for s in catalogue(settings)["airflow"] if s.name == f"airflow-{component}")
        with pytest.raises(ServiceError) as error:
            start(service, settings, env={}, log=print)
    assert f"port {port} for airflow-{component}'s log server (Airflow port + {above}) is busy" in str(error.value)
    assert "LOCALCLOUD_AIRFLOW_PORT=<port>" in str(error.value)
    assert not service.pidfile(settings).path.exists(), "nothing may start on a busy port"


def test_an_airflow_port_whose_log_servers_cannot_fit_is_refused() -> None:
    with pytest.raises(SystemExit, match="at most 64821"):
        load_settings({"LOCALCLOUD_AIRFLOW_PORT": "65000"})
