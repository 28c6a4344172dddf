"""Run DAGs for the integration tests with ``dag.test()`` in one long-lived process.

``airflow dags test`` costs ~20 s of start-up per DAG run before its first task does anything (interpreter,
``import airflow``, the providers and hooks a first task imports, parsing the DAGs folder twice, teardown), for a
few seconds of work; the suite makes dozens of such runs. This process pays that once: it reads one request per
line on stdin, runs the DAG with ``DAG.test()`` (what ``airflow dags test`` runs, Airflow's documented way to run a
DAG in-process), writes everything the run logs to the request's log file and answers one JSON line on stdout.

    {"dag_id": "...", "logical_date": "2026-11-30T10:15:00+00:00" | null, "env": {"NAME": "value" | null},
     "log": "/path/to/run.log"}
    -> RESULT {"state": "success" | "failed" | "error", "run_id": "...", "error": null | "..."}

``env`` overrides this process's environment for the one run (a value of null unsets the variable). The client is
``DagRunner`` below; ``tests/integration/conftest.py`` starts one per test session.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

RESULT = "RESULT "
# The test session's runner (the dag_env fixture adds it). Kept here, not in conftest.py: pytest imports a conftest
# under its own name, so test modules that import from it would see a second, empty copy.
SESSION_RUNNERS: list[DagRunner] = []


@contextmanager
def _environment(overrides: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in overrides}
    try:
        for name, value in overrides.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors, so subprocesses too) to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _run(request: Mapping[str, Any], answer: IO[str]) -> None:
    from airflow.dag_processing.dagbag import DagBag

    result: dict[str, Any] = {"state": "error", "run_id": None, "error": None}
    with _output_to(Path(request["log"])), _environment(request.get("env") or {}):
        try:
            bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"], safe_mode=False)
            dag = bag.dags.get(request["dag_id"])
            if dag is None:
                raise LookupError(f"DAG {request['dag_id']} not found; import errors: {bag.import_errors}")
            # Airflow 3.3.2's dag.test() cannot start a run of a DAG with a deadline: it looks the DeadlineAlert up
            # by the alert object instead of its serialized id (StatementError "'dict' object has no attribute
            # 'hex'"). The deadline is tested where it acts, under the scheduler (test_airflow_scheduler.py).
            dag.deadline = None
            logical_date = request.get("logical_date")
            run = dag.test(logical_date=datetime.fromisoformat(logical_date) if logical_date else None)
            result.update(state=str(getattr(run.state, "value", run.state)), run_id=run.run_id)
        except BaseException as error:  # noqa: BLE001 - reported to the client, the runner keeps serving
            traceback.print_exc()
            result["error"] = f"{type(error).__name__}: {error}"
    answer.write(RESULT + json.dumps(result) + "\n")
    answer.flush()


def fresh_hook_lineage_for_each_task() -> object:
    """A listener that gives each task a new hook lineage collector, as a deployment's process per task has.

    The collector is a process-wide singleton (``airflow.sdk.lineage.get_hook_lineage_collector``). ``dag.test()``
    runs every task in this one process, where it would keep every SQL query of every earlier task and run, and
    OpenLineage would emit all of them again at each task's start: the runner's CPU grew with each run (two thirds of
    it went there late in a test session). The listener runs before OpenLineage's (``tryfirst``)."""
    from airflow.listeners import hookimpl
    from airflow.sdk.lineage import get_hook_lineage_collector

    class FreshHookLineage:
        @hookimpl(tryfirst=True)
        def on_task_instance_running(self, previous_state, task_instance) -> None:
            get_hook_lineage_collector.cache_clear()

    return FreshHookLineage()


def main() -> None:
    from airflow.sdk.listener import get_listener_manager

    get_listener_manager().add_listener(fresh_hook_lineage_for_each_task())
    answer = os.fdopen(os.dup(1), "w")  # the answers keep the original stdout; runs write to their log files
    for line in sys.stdin:
        if line.strip():
            _run(json.loads(line), answer)


@dataclass
class DagRunResult:
    state: str
    run_id: str | None
    output: str  # everything the run logged, task after task, as `airflow dags test` prints it
    error: str | None

    # The shape of a finished `airflow dags test` process, which is how the tests read a run's output.
    @property
    def stdout(self) -> str:
        return self.output

    @property
    def stderr(self) -> str:
        return ""

    @property
    def returncode(self) -> int:
        return 0 if self.state == "success" else 1


class DagRunner:
    """The client: one runner process for a base environment; each ``run`` may override some variables."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, cwd: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.cwd = cwd
        self.runs = 0
        self._process: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            stderr = (self.log_dir / "runner.log").open("a")
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.dag_runner"], cwd=self.cwd, env=self.env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True,
            )  # fmt: skip
        return self._process

    def run(
        self,
        dag_id: str,
        logical_date: datetime | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 900,
    ) -> DagRunResult:
        """Run ``dag_id`` once; ``env`` is a whole environment (as the tests build them), compared to the base."""
        process = self._start()
        overrides: dict[str, str | None] = {}
        if env is not None:
            overrides = {k: v for k, v in env.items() if self.env.get(k) != v}
            overrides.update({k: None for k in self.env if k not in env})
        self.runs += 1
        log = self.log_dir / f"{self.runs:03d}-{dag_id}.log"
        request = {"dag_id": dag_id, "logical_date": logical_date.isoformat() if logical_date else None,
                   "env": overrides, "log": str(log)}  # fmt: skip
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.stop()
                raise TimeoutError(f"{dag_id} did not finish within {timeout:.0f} s; its log so far: {log}")
        line = process.stdout.readline()
        if not line.startswith(RESULT):
            self.stop()
            raise RuntimeError(f"the DAG runner stopped answering; see {self.log_dir / 'runner.log'} and {log}")
        answer = json.loads(line[len(RESULT) :])
        output = log.read_text() if log.exists() else ""
        return DagRunResult(answer["state"], answer["run_id"], output, answer["error"])

    @property
    def pid(self) -> int | None:
        """The runner's process id, which is also its process group's (its children share the group)."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def stop(self) -> None:
        """Stop the runner by its process group (it may have started dbt or other children)."""
        if self._process is not None and self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, 9)
                self._process.wait()
        self._process = None


if __name__ == "__main__":
    main()
