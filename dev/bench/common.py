"""What every benchmark shares: the bench cloud's ports, machine facts, timing and the docs/benchmarks.md sections.

Each benchmark runs its own cloud under ``.local/bench/<name>`` on the bench ports (never the developer's or the
tests'), from an empty state, and stops it at the end. Results replace the benchmark's own marked section of
docs/benchmarks.md, so running one benchmark leaves the others' figures untouched.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dev.localcloud.settings import REPO_ROOT

BENCH_HOME = REPO_ROOT / ".local" / "bench"
PORTS = {
    "LOCALCLOUD_S3_PORT": "29000",
    "LOCALCLOUD_SNOWFLAKE_PORT": "28443",
    "LOCALCLOUD_CLOUD_APP_PORT": "28001",
    "LOCALCLOUD_SALESFORCE_PORT": "28444",
    "LOCALCLOUD_HIGHTOUCH_PORT": "28002",
    "LOCALCLOUD_AIRFLOW_PORT": "28080",
}
DOC = REPO_ROOT / "docs" / "benchmarks.md"
PY = sys.executable


def log(name: str, message: str) -> None:
    print(f"[bench {name}] {datetime.now(UTC):%H:%M:%S} {message}", flush=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Machine:
    """Cores and load average before/after: anything else running slows a benchmark down, so say how busy it was."""

    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_before: str = field(default_factory=load_average)
    load_after: str = ""
    seconds: float = 0.0
    _t0: float = field(default_factory=time.perf_counter)

    def finish(self) -> None:
        self.load_after = load_average()
        self.seconds = time.perf_counter() - self._t0

    def header(self, command: str) -> str:
        return (
            f"Measured {self.started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, Python {platform.python_version()}"
            f"; load average (1/5/15 min) {self.load_before} before, {self.load_after} after; this benchmark took"
            f" {self.seconds / 60:.1f} min. Command: `{command}`."
        )


def write_section(name: str, title: str, body: list[str]) -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->`` (append a section if new)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = "\n".join([begin, *body, end])
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## {title}\n\n{block}\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)


@dataclass
class Cloud:
    """One bench cloud: its state directory, its environment, ``localcloud up/down`` with that environment."""

    name: str
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return BENCH_HOME / self.name

    def base_env(self) -> dict[str, str]:
        # BENCH_PORT_OFFSET moves every port, to try a benchmark while another one runs (never for figures).
        offset = int(os.environ.get("BENCH_PORT_OFFSET", "0"))
        ports = {key: str(int(port) + offset) for key, port in PORTS.items()}
        env = {**os.environ, **ports, "LOCALCLOUD_HOME": str(self.home / "cloud"), "PYTHONPATH": str(REPO_ROOT)}
        for key in ("AIRFLOW_HOME", "AIRFLOW__CORE__UNIT_TEST_MODE", "VIRTUAL_ENV_PROMPT"):
            env.pop(key, None)
        env.update(self.overrides)
        return env

    def env(self) -> dict[str, str]:
        """Environment of a client of this cloud: connections, CA bundle, dbt target, plus the overrides."""
        from dev.localcloud.env import read_env_file

        env = self.base_env()
        env.update(read_env_file(self.home / "cloud" / "localcloud.env"))
        env.update(self.overrides)
        return env

    def localcloud(self, *args: str, timeout: float = 600) -> None:
        result = subprocess.run(
            [PY, "-m", "dev.localcloud", *args], cwd=REPO_ROOT, env=self.base_env(),
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"localcloud {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-3000:]}")

    def fresh_up(self, only: str | None) -> None:
        self.localcloud("down")
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        self.localcloud("up", *(["--only", only] if only else []))

    def into_environ(self) -> None:
        """In-process hooks (SalesforceHook, SnowflakeHook) use this cloud's connections."""
        for key, value in self.env().items():
            if key.startswith("AIRFLOW_CONN_") or key in {"REQUESTS_CA_BUNDLE", "LANDING_BUCKET"}:
                os.environ[key] = value

    def dag_env(self) -> dict[str, str]:
        """For `airflow dags test` against this cloud: its own migrated Airflow home (no services needed)."""
        env = self.env()
        home = self.home / "airflow-dagtest"
        env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
        env.pop("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", None)
        if not (home / "airflow.db").exists():
            home.mkdir(parents=True, exist_ok=True)
            run([PY, "-m", "airflow", "db", "migrate"], env, timeout=300)
        return env


def run(argv: list[str], env: dict[str, str], timeout: float = 900, cwd: Path = REPO_ROOT) -> str:
    """Run a command; fail loudly with its output's tail; return stdout+stderr."""
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} failed ({result.returncode}):\n{output[-4000:]}")
    return output


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def median(values: list[float]) -> float:
    return statistics.median(values)


def dag_run(env: dict[str, str], dag_id: str, logical_date: datetime | None = None) -> tuple[str, float]:
    """`airflow dags test` (``dev.dag_test``: the same, without the deadline Airflow 3.3.2's dag.test() cannot
    create); returns (run_id, wall seconds); fails unless the run succeeded."""
    argv = [PY, "-m", "dev.dag_test", dag_id, *([logical_date.isoformat()] if logical_date else [])]
    seconds, output = timed(lambda: run(argv, env, timeout=1200))
    finished = re.search(r"DagRun Finished: dag_id=\S+, logical_date=[^,]+, run_id=([^,]+),.*?state=(\w+)", output)
    if not finished or finished.group(2) != "success":
        lines = [line[:300] for line in output.splitlines() if re.search(r"error|fail|exception", line, re.I)]
        raise RuntimeError(f"{dag_id} did not succeed:\n" + "\n".join(lines[-40:]))
    return finished.group(1), seconds


def run_timings(env: dict[str, str], dag_id: str, run_id: str) -> dict[str, float]:
    """DAG run duration and the dbt part (first transform.* start to last end) from the metadata DB."""
    import sqlite3

    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(db) as conn:
        start, end = conn.execute(
            "SELECT start_date, end_date FROM dag_run WHERE dag_id = ? AND run_id = ?", (dag_id, run_id)
        ).fetchone()
        tis = conn.execute(
            "SELECT task_id, start_date, end_date FROM task_instance WHERE dag_id = ? AND run_id = ?", (dag_id, run_id)
        ).fetchall()

    def ts(value: str) -> datetime:
        return datetime.fromisoformat(value)

    dbt = [(ts(s), ts(e)) for task, s, e in tis if task.startswith("transform.") and s and e]
    syncs = [(ts(s), ts(e)) for task, s, e in tis if not task.startswith("transform.") and s and e]
    timings = {"run": (ts(end) - ts(start)).total_seconds(), "tasks": float(len(tis))}
    if dbt:
        timings["dbt"] = (max(e for _, e in dbt) - min(s for s, _ in dbt)).total_seconds()
    if syncs:
        timings["syncs"] = (max(e for _, e in syncs) - min(s for s, _ in syncs)).total_seconds()
    return timings


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the marts' external ids use md5 too


@contextmanager
def stopped_at_end(cloud: Cloud) -> Iterator[Cloud]:
    try:
        yield cloud
    finally:
        cloud.localcloud("down")


def fmt_s(seconds: float) -> str:
    return f"{seconds:.1f} s"
