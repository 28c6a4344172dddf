"""The local cloud's process handling: leftover Airflow task sessions are found by their cloud's AIRFLOW_HOME,
and `make down` stops every service it started without reading ``/proc`` (which macOS does not have)."""

from __future__ import annotations

import builtins
import io
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from dev.localcloud.__main__ import main as localcloud_main
from dev.localcloud.process import airflow_task_groups, group_alive, spawn, stop_groups
from dev.localcloud.services import catalogue
from dev.localcloud.settings import load_settings

# Stopping real process groups waits for their exits to be collected (seconds, more on a busy machine): start it
# before the quick modules, not last.
pytestmark = pytest.mark.long_running(minutes=0.5)
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


# --- a platform without /proc -------------------------------------------------------------------------


def _is_proc_path(path: object) -> bool:
    if isinstance(path, int):  # a file descriptor
        return False
    try:
        name = os.fsdecode(os.fspath(path))  # type: ignore[arg-type]
    except TypeError:
        return False
    return name == "/proc" or name.startswith("/proc/")


def _called_from_psutil() -> bool:
    """psutil is the portability layer: on Linux it reads /proc itself, on macOS it asks the kernel (sysctl)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__", "").split(".")[0] == "psutil":
            return True
        frame = frame.f_back
    return False


@pytest.fixture
def no_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way this code could read /proc (open, os, pathlib) fails for it, as on macOS; psutil keeps working."""

    def guard(real):
        def guarded(path, *args, **kwargs):
            if _is_proc_path(path) and not _called_from_psutil():
                raise FileNotFoundError(2, "No such file or directory (no /proc on this platform)", str(path))
            return real(path, *args, **kwargs)

        return guarded

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    for name in ("open", "listdir", "scandir", "stat", "lstat", "readlink"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))


def test_the_proc_guard_blocks_every_way_of_reading_it(no_proc) -> None:
    with pytest.raises(FileNotFoundError):
        Path(f"/proc/{os.getpid()}/stat").read_text()
    with pytest.raises(FileNotFoundError):
        list(Path("/proc").iterdir())
    with pytest.raises(FileNotFoundError), open("/proc/self/status"):
        pass
    with pytest.raises(FileNotFoundError):
        os.listdir("/proc")
    assert not Path("/proc/self").exists()
    assert psutil.Process().create_time() > 0  # ...while psutil still answers


def test_make_down_stops_every_service_it_started_without_proc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proc
) -> None:
    """Real processes recorded as the cloud records its services (own session, pidfile), each with a child in its
    group, plus a task session the scheduler left behind; `python -m dev.localcloud down` must stop them all."""
    monkeypatch.setenv("LOCALCLOUD_HOME", str(tmp_path / "cloud"))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)  # the command line sets it for this process
    settings = load_settings()
    env = {**os.environ, "AIRFLOW_HOME": str(settings.airflow_home)}
    services = [service for group in catalogue(settings).values() for service in group]
    started: dict[str, int] = {}
    for service in services:  # as services.start does: spawn in a new session, record the PID
        pid = spawn(
            ["/bin/sh", "-c", "sleep 120 & wait"],
            env=env,
            log_path=settings.log_dir / f"{service.name}.log",
            cwd=tmp_path,
        )
        service.pidfile(settings).write(pid)
        started[service.name] = pid
    leftover = spawn(
        ["/bin/sh", "-c", "sleep 120 & wait", "airflow"], env=env, log_path=tmp_path / "t.log", cwd=tmp_path
    )
    groups = [*started.values(), leftover]
    members = {pid: _group_members(pid) for pid in groups}
    try:
        assert all(service.pidfile(settings).read_live_pid() == started[service.name] for service in services)

        assert localcloud_main(["down"]) == 0

        assert not list(settings.run_dir.glob("*.pid")), "pidfiles left behind"
        for pgid in groups:
            assert not group_alive(pgid), f"process group {pgid} still running"
        assert all(not _running(pid) for pids in members.values() for pid in pids)
    finally:
        stop_groups([pgid for pgid in groups if group_alive(pgid)], timeout=5)


def _group_members(pgid: int) -> set[int]:
    """The leader and the child it starts (waits until the shell has forked it)."""
    leader = psutil.Process(pgid)
    for _ in range(50):
        children = leader.children()
        if children:
            return {pgid, *(child.pid for child in children)}
        psutil.wait_procs([], timeout=0.1)
    raise AssertionError(f"{pgid} started no child")


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
