"""Start, find and stop background services by their own process group: never by name.

Each service runs in a new session (its PID is its process-group id) and is recorded in a pidfile
with the process start time, so a recycled PID is never mistaken for ours. Every question about a process
goes through psutil, never ``/proc``, so the same code runs on Linux and macOS.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


def _start_time(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch, as psutil reports it), or None if it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class PidFile:
    path: Path

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"pid": pid, "start_time": _start_time(pid)}))

    def read_live_pid(self) -> int | None:
        """The recorded PID if that very process (or its group) still runs; clears stale files."""
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        pid = int(data["pid"])
        _reap(pid)  # a leader that exited while we started it is a zombie until collected, not a live service
        started, recorded = _start_time(pid), data.get("start_time")
        if started is not None and recorded is not None and math.isclose(started, recorded, abs_tol=0.05):
            return pid
        if group_alive(pid):  # leader gone, children of its group still running
            return pid
        self.path.unlink(missing_ok=True)
        return None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def spawn(argv: list[str], *, env: dict[str, str], log_path: Path, cwd: Path) -> int:
    """Start ``argv`` detached in its own session; output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc.pid


def stop_groups(pgids: list[int], timeout: float = 20.0) -> set[int]:
    """SIGTERM every group at once, wait for all, then SIGKILL what is left. Returns the groups killed."""
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    remaining = set(pgids)
    while remaining and time.monotonic() < deadline:
        for pgid in list(remaining):
            _reap(pgid)
            if not group_alive(pgid):
                remaining.discard(pgid)
        time.sleep(0.2)
    for pgid in remaining:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    for _ in range(50):
        for pgid in remaining:
            _reap(pgid)
        if not any(group_alive(pgid) for pgid in remaining):
            break
        time.sleep(0.1)
    return remaining


def _ancestors() -> set[int]:
    me = psutil.Process()
    return {me.pid} | {parent.pid for parent in me.parents()}


def airflow_task_groups(airflow_home: Path, exclude: set[int] | None = None) -> list[int]:
    """Process groups of Airflow task processes that run with this cloud's AIRFLOW_HOME.

    The LocalExecutor's supervisor starts each task in a session of its own, outside the scheduler's process
    group; when the scheduler has to be killed they are left behind. They are found by the AIRFLOW_HOME in
    their environment (this cloud's private directory) and ``airflow`` in their command line; every service of
    the cloud shares that environment, so the groups it started itself are passed in ``exclude``.
    """
    mine = _ancestors()
    groups: set[int] = set()
    for proc in psutil.process_iter():
        if proc.pid in mine:
            continue
        try:  # another user's process, or one that just exited: not ours either way
            if proc.environ().get("AIRFLOW_HOME") == str(airflow_home) and any(
                "airflow" in arg for arg in proc.cmdline()
            ):
                groups.add(os.getpgid(proc.pid))
        except (psutil.Error, OSError):
            continue
    return sorted(groups - {os.getpgid(0)} - (exclude or set()))


def stop_group(pgid: int, timeout: float = 20.0) -> bool:
    """Stop one process group; True if it had to be killed."""
    return bool(stop_groups([pgid], timeout))


def _reap(pid: int) -> None:
    """Collect the exit status if the leader is our own child (as in tests), so it is not a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
