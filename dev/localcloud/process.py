"""Start, find and stop background services by their own process group: never by name.

Each service runs in a new session (its PID is its process-group id) and is recorded in a pidfile
with the process start time, so a recycled PID is never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def _start_ticks(pid: int) -> int | None:
    """Kernel start time of ``pid`` (clock ticks since boot), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Field 22; split after the command name, which may itself contain spaces or parentheses.
    return int(stat.rsplit(")", 1)[1].split()[19])


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
        self.path.write_text(json.dumps({"pid": pid, "start_ticks": _start_ticks(pid)}))

    def read_live_pid(self) -> int | None:
        """The recorded PID if that very process (or its group) still runs; clears stale files."""
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        pid = int(data["pid"])
        if _start_ticks(pid) == data.get("start_ticks") and _start_ticks(pid) is not None:
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
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def airflow_task_groups(airflow_home: Path, exclude: set[int] | None = None) -> list[int]:
    """Process groups of Airflow task processes that run with this cloud's AIRFLOW_HOME.

    The LocalExecutor's supervisor starts each task in a session of its own, outside the scheduler's process
    group; when the scheduler has to be killed they are left behind. They are found by the AIRFLOW_HOME in
    their environment (this cloud's private directory) and ``airflow`` in their command line; every service of
    the cloud shares that environment, so the groups it started itself are passed in ``exclude``.
    """
    marker = f"AIRFLOW_HOME={airflow_home}".encode()
    mine = _ancestors()
    groups: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            if (
                marker in (entry / "environ").read_bytes().split(b"\0")
                and b"airflow" in (entry / "cmdline").read_bytes()
            ):
                groups.add(os.getpgid(int(entry.name)))
        except (OSError, ProcessLookupError):
            continue
    return sorted(groups - {os.getpgid(0)} - (exclude or set()))


def stop_group(pgid: int, timeout: float = 20.0) -> bool:
    """Stop one process group; True if it had to be killed."""
    return bool(stop_groups([pgid], timeout))


def _reap(pid: int) -> None:
    """Collect the exit status if the leader is our own child (as in tests), so it is not a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
