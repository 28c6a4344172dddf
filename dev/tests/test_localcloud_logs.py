"""A service that fails to start says why (the end of its log, wherever LOCALCLOUD_HOME is), and `make logs`
shows the end of the logs, then follows them."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from dev.localcloud.logs import follow
from dev.localcloud.services import ServiceError, catalogue, start
from dev.localcloud.settings import load_settings


def _broken(tmp_path: Path, script: str, start_timeout: float = 30.0):
    settings = load_settings({"LOCALCLOUD_HOME": str(tmp_path / "elsewhere")})
    service = dataclasses.replace(
        catalogue(settings)["emulators"][0],
        port=None,
        argv=[sys.executable, "-c", script],
        health=lambda: "not answering",
        start_timeout=start_timeout,
    )
    return settings, service


def test_a_service_that_exits_at_start_shows_the_end_of_its_log(tmp_path: Path) -> None:
    script = (
        "import sys\nfor i in range(40): print(f'line {i}', flush=True)\n"
        "sys.exit('boom: the state directory is unreadable')"
    )
    settings, service = _broken(tmp_path, script)
    with pytest.raises(ServiceError) as error:
        start(service, settings, env={}, log=print)
    message = str(error.value)
    assert message.startswith(f"{service.name} exited during start-up")
    assert f"last lines of {settings.log_dir / (service.name + '.log')}" in message
    assert str(tmp_path / "elsewhere" / "logs") in message, "the log is where LOCALCLOUD_HOME points"
    assert "| boom: the state directory is unreadable" in message
    assert "| line 39" in message
    assert "| line 0\n" not in message, "only the last lines"


def test_a_service_that_never_gets_healthy_shows_the_end_of_its_log(tmp_path: Path) -> None:
    script = "import time\nprint('listening on the wrong port', flush=True)\ntime.sleep(60)"
    settings, service = _broken(tmp_path, script, start_timeout=2)
    with pytest.raises(ServiceError) as error:
        start(service, settings, env={}, log=print)
    message = str(error.value)
    assert message.startswith(f"{service.name} not healthy after 2s: not answering")
    assert "| listening on the wrong port" in message
    assert not service.pidfile(settings).path.exists(), "a service that failed its start is stopped"


def test_logs_show_the_last_lines_then_follow_every_log(tmp_path: Path) -> None:
    s3, airflow = tmp_path / "s3.log", tmp_path / "airflow-scheduler.log"
    s3.write_text("old 1\nold 2\nold 3\n")
    rounds = iter([True, True, False])
    lines = follow({"s3": s3, "airflow-scheduler": airflow}, lines=2, keep_following=lambda: next(rounds), interval=0)

    assert [next(lines), next(lines)] == ["s3                | old 2", "s3                | old 3"]
    with s3.open("a") as log:
        log.write("new s3 line\nhalf a li")
    airflow.write_text("scheduler started\n")  # a log that did not exist yet
    assert [next(lines), next(lines)] == ["s3                | new s3 line", "airflow-scheduler | scheduler started"]
    with s3.open("a") as log:
        log.write("ne\n")
    assert list(lines) == ["s3                | half a line"]


def test_one_log_is_shown_without_a_prefix(tmp_path: Path) -> None:
    log = tmp_path / "snowflake.log"
    log.write_text("ready\n")
    assert list(follow({"snowflake": log}, keep_following=lambda: False)) == ["ready"]
