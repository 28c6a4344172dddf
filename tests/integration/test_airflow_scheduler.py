"""The smoke DAG run by the real Airflow 3 components (api-server, scheduler, dag-processor, triggerer),
exactly as `make demo` does it, and dbt connected to the same warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.conftest import CLOUD_HOME, TEST_PORTS, cloud_env, localcloud


@pytest.fixture(scope="module")
def airflow_running(data_platform, report):
    result = localcloud("up")
    assert result.returncode == 0, result.stdout + result.stderr
    report.extend(f"local cloud start: {line}" for line in result.stdout.splitlines() if "healthy in" in line)
    return result


def _demo() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dev.demo"], cwd=REPO_ROOT, env=cloud_env(), capture_output=True, text=True, timeout=300
    )


def test_status_reports_every_service_healthy(airflow_running) -> None:
    status = localcloud("status")
    assert status.returncode == 0, status.stdout
    names = [line.split()[0] for line in status.stdout.splitlines() if line.endswith("healthy")]
    assert names == ["s3", "snowflake", "cloud-app", "salesforce", "hightouch", "airflow-api-server",
                     "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]  # fmt: skip


def test_demo_runs_the_smoke_dag_through_the_scheduler(airflow_running) -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    before = hook.get_first("SELECT COUNT(*) FROM RAW.SMOKE.EVENTS")[0]

    first = _demo()
    assert first.returncode == 0, first.stdout + first.stderr
    assert "run success" in first.stdout
    assert "1 file(s) loaded, 0 skipped, 5 rows into RAW.SMOKE.EVENTS" in first.stdout
    assert f"RAW.SMOKE.EVENTS now holds {before + 5} rows" in first.stdout

    second = _demo()
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"RAW.SMOKE.EVENTS now holds {before + 10} rows" in second.stdout
    runs = hook.get_records("SELECT RECORD:run_id::VARCHAR, COUNT(*) FROM RAW.SMOKE.EVENTS GROUP BY 1")
    assert sorted(count for _, count in runs)[-2:] == [5, 5]


def test_dbt_builds_against_the_same_warehouse(airflow_running) -> None:
    env = {**cloud_env(), "DBT_PROFILES_DIR": str(REPO_ROOT / "dbt_project"), **TEST_PORTS}
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dbt"), "build", "--project-dir", "dbt_project"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    # 4 seeds, 8 staging, 4 intermediate and 6 mart models (contracts enforced) and 132 data tests.
    assert "PASS=154 WARN=0 ERROR=0 SKIP=0" in result.stdout
    docs = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dbt"), "docs", "generate", "--project-dir", "dbt_project",
         "--target-path", str(CLOUD_HOME / "dbt-docs")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert docs.returncode == 0, docs.stdout[-3000:]
    catalog = json.loads((CLOUD_HOME / "dbt-docs" / "catalog.json").read_text())
    assert "model.operational_pipeline.sync_salesforce_accounts" in catalog["nodes"]
