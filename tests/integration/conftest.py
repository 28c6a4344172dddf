"""Integration fixtures: a private local cloud on its own ports and state directory.

The tests start it with the same command a developer runs (``python -m dev.localcloud up``) and stop it
by process group at the end, so a developer's own ``make up`` (default ports, ``.local/``) is untouched.
Ports can be moved with ``LOCALCLOUD_TEST_{S3,SNOWFLAKE,AIRFLOW}_PORT``.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, TEST_STATE, worker_port
from tests.integration.dag_runner import SESSION_RUNNERS, DagRunner, DagRunResult

pytestmark = pytest.mark.integration

CLOUD_HOME = TEST_STATE / "cloud"
TEST_PORTS = {
    "LOCALCLOUD_S3_PORT": str(worker_port("LOCALCLOUD_TEST_S3_PORT", 19000)),
    "LOCALCLOUD_SNOWFLAKE_PORT": str(worker_port("LOCALCLOUD_TEST_SNOWFLAKE_PORT", 18443)),
    "LOCALCLOUD_AIRFLOW_PORT": str(worker_port("LOCALCLOUD_TEST_AIRFLOW_PORT", 18080)),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.integration)


def cloud_env(home: Path = CLOUD_HOME, **overrides: str) -> dict[str, str]:
    env = {**os.environ, **TEST_PORTS, "LOCALCLOUD_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("AIRFLOW_HOME", None)  # the local cloud sets its own under LOCALCLOUD_HOME
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    env.update(overrides)
    return env


def localcloud(*args: str, env: dict[str, str] | None = None, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dev.localcloud", *args],
        cwd=REPO_ROOT,
        env=env or cloud_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def load_connections_into_environ() -> None:
    """Give in-process hooks the connections the local cloud generated (as Airflow workers get them)."""
    from dev.localcloud.env import read_env_file

    for key, value in read_env_file(CLOUD_HOME / "localcloud.env").items():
        if key.startswith("AIRFLOW_CONN_") or key in {"REQUESTS_CA_BUNDLE", "LANDING_BUCKET", "HIGHTOUCH_APP_URL"}:
            os.environ[key] = value


@pytest.fixture(scope="session")
def data_platform() -> Iterator[Path]:
    """S3 and Snowflake stand-ins, bootstrapped, from an empty state; stopped at the end of the session."""
    localcloud("down")
    shutil.rmtree(CLOUD_HOME, ignore_errors=True)
    result = localcloud("up", "--only", "s3,snowflake")
    assert result.returncode == 0, result.stdout + result.stderr
    load_connections_into_environ()
    yield CLOUD_HOME
    down = localcloud("down")
    assert down.returncode == 0, down.stdout + down.stderr


# The test cloud keeps its raw data in a database that is not the default RAW: every ingestion and activation
# test then proves that the bootstrap, the loaders and dbt's sources all follow
# SNOWFLAKE_RAW_DATABASE (include/settings.py). Tests name raw tables through include.settings.raw_table.
TEST_RAW_DATABASE = "RAW_TEST"
os.environ["SNOWFLAKE_RAW_DATABASE"] = TEST_RAW_DATABASE

TEST_PORTS.update(
    {
        "SNOWFLAKE_RAW_DATABASE": TEST_RAW_DATABASE,
        "LOCALCLOUD_CLOUD_APP_PORT": str(worker_port("LOCALCLOUD_TEST_CLOUD_APP_PORT", 18001)),
        "LOCALCLOUD_SALESFORCE_PORT": str(worker_port("LOCALCLOUD_TEST_SALESFORCE_PORT", 18444)),
        "LOCALCLOUD_HIGHTOUCH_PORT": str(worker_port("LOCALCLOUD_TEST_HIGHTOUCH_PORT", 18002)),
        # Busier than the demo, so a 15-minute interval holds every kind of mess.
        "LOCALCLOUD_SIGNUPS_PER_HOUR": "240",
    }
)


def source_config():
    """The generator configuration the test cloud's cloud app API runs with (its ground truth)."""
    from dev.cloud_app.generator import GeneratorConfig

    return GeneratorConfig(signups_per_hour=int(TEST_PORTS["LOCALCLOUD_SIGNUPS_PER_HOUR"]))


def stop_airflow() -> None:
    """Stop the test cloud's Airflow and forget its runs (its metadata database goes; the next ``up`` migrates a new
    one, as it migrates an existing one). A module that starts Airflow with its own settings then starts from no runs:
    a run another module left queued or running would otherwise resume under the new scheduler and write to
    Salesforce in the middle of that module's tests."""
    from dev.localcloud.services import catalogue, stop
    from dev.localcloud.settings import load_settings

    settings = load_settings(cloud_env())
    stop(catalogue(settings)["airflow"], settings, lambda _line: None)
    for database in settings.airflow_home.glob("airflow.db*"):
        database.unlink()


def airflow_api():
    """The REST API of the test cloud's Airflow (dev/localcloud/airflow_api.py)."""
    from dev.localcloud.airflow_api import AirflowApi

    return AirflowApi(f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_AIRFLOW_PORT']}")


def start_airflow(*, reparse_dags: bool = True, **settings: str) -> subprocess.CompletedProcess:
    """The full test cloud with a new Airflow started with ``settings`` (environment variables); asserted.

    Activation's hourly safety-net run is off: a module's own run crossing the top of the hour would otherwise get
    a second activation beside it (tests/dags/test_activation_schedule.py holds the schedule itself).
    ``reparse_dags=False``: the dag-processor parses the DAG files when it starts and not every 30 s after, for a
    module that edits no DAG file and needs nothing computed at a later parse (a DAG's next run)."""
    if not reparse_dags:
        settings = {"AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600", **settings}
    stop_airflow()
    # The data platform is up and bootstrapped already (the session's fixtures): only what Airflow needs beside it.
    up = localcloud(
        "up", "--only", "emulators,airflow", env=cloud_env(**{"ACTIVATION_SAFETY_NET_SCHEDULE": "", **settings})
    )
    assert up.returncode == 0, up.stdout + up.stderr
    return up


@pytest.fixture(scope="session")
def emulators(data_platform) -> Path:
    """The SaaS emulators (cloud app API, Salesforce, Hightouch) beside the data platform (started and bootstrapped
    by ``data_platform``: not again)."""
    result = localcloud("up", "--only", "emulators")
    assert result.returncode == 0, result.stdout + result.stderr
    load_connections_into_environ()
    return CLOUD_HOME


@pytest.fixture(scope="module")
def salesforce(emulators):
    """simple-salesforce client on the test cloud's Salesforce, through the DAGs' own connection."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    from include.connections import SALESFORCE

    return SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()


@pytest.fixture(scope="module")
def warehouse(emulators):
    """SnowflakeHook on the test cloud's warehouse, through the DAGs' own connection."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    return SnowflakeHook(snowflake_conn_id=SNOWFLAKE)


DAG_HOME = TEST_STATE / "airflow-dagtest"


@pytest.fixture(scope="session")
def dag_env(emulators) -> Iterator[dict[str, str]]:
    """Environment of the DAG runs against the test cloud (`dag.test()`, as `airflow dags test` runs them), with
    its own migrated Airflow home; the session's DAG runner (tests/integration/dag_runner.py) runs them."""
    from dev.localcloud.env import read_env_file

    env = {**cloud_env(), **read_env_file(CLOUD_HOME / "localcloud.env")}
    env.update(AIRFLOW_HOME=str(DAG_HOME), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    env.pop("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", None)
    DAG_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    runner = DagRunner(env, log_dir=DAG_HOME / "runs", cwd=REPO_ROOT)
    SESSION_RUNNERS.append(runner)
    yield env
    SESSION_RUNNERS.remove(runner)
    runner.stop()


def dag_run(env: dict[str, str], dag_id: str, logical_date: datetime | None = None) -> DagRunResult:
    """One DAG run in the session's runner, with ``env`` (dag_env, or a copy with changes); not asserted."""
    assert SESSION_RUNNERS, "request the dag_env fixture to run DAGs"
    return SESSION_RUNNERS[0].run(dag_id, logical_date, env=env)


def dags_test(env: dict[str, str], dag_id: str, logical_date: datetime) -> DagRunResult:
    """One DAG run that must succeed (``dag_run``); its log is in ``.output``."""
    result = dag_run(env, dag_id, logical_date)
    assert result.state == "success", f"{dag_id}: {result.state} {result.error or ''}\n{result.output[-4000:]}"
    return result


DBT = Path(sys.executable).with_name("dbt")
# The partial parse file of this worker's last dbt CLI call (dbt writes it into each call's target path).
LAST_PARSE = TEST_STATE / "dbt-last-parse" / "partial_parse.msgpack"


def dbt_cli(*args: str, env: dict[str, str], under: Path, timeout: float = 400) -> subprocess.CompletedProcess:
    """The dbt CLI on the project (``--profiles-dir dbt_project``, its target from ``env``); not asserted.

    Its target and log paths are its own, under ``under``: other test workers read the shared dbt_project/target
    meanwhile. It starts from the partial parse file of this worker's previous call, as dbt does from its own target
    path: dbt re-parses only what changed, or everything when the profile, the vars or an env var it read differ.
    """
    target_path = under / "target"
    target_path.mkdir(parents=True, exist_ok=True)
    if LAST_PARSE.exists() and not (target_path / LAST_PARSE.name).exists():
        shutil.copy2(LAST_PARSE, target_path / LAST_PARSE.name)
    command = [str(DBT), *args, "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
               "--target-path", str(target_path), "--log-path", str(under / "logs")]  # fmt: skip
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if (target_path / LAST_PARSE.name).exists():
        LAST_PARSE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target_path / LAST_PARSE.name, LAST_PARSE)
    return result


def dbt_seed(name: str) -> list[dict[str, str]]:
    """The rows of a dbt seed (dbt_project/seeds/<name>.csv): configuration the tests read as the README's rules."""
    with (REPO_ROOT / "dbt_project" / "seeds" / f"{name}.csv").open() as handle:
        return list(csv.DictReader(handle))
