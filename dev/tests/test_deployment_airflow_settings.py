"""The local cloud runs Airflow with the settings the deployment image sets (ENV AIRFLOW__ lines of the Dockerfile)."""

from __future__ import annotations

from pathlib import Path

from dev.localcloud.env import deployment_airflow_settings, environment
from dev.localcloud.settings import load_settings


def test_every_airflow_setting_of_the_dockerfile_is_read_and_nothing_else(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM astrocrpublic.azurecr.io/runtime:3.3-2-python-3.11\n"
        "# ENV AIRFLOW__CORE__COMMENTED=out\n"
        "ENV DBT_VENV=/usr/local/airflow/dbt_venv\n"
        "ENV AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD=True AIRFLOW__CORE__PARALLELISM=8\n"
        "ENV AIRFLOW__SCHEDULER__DAG_STALE_NOT_SEEN_DURATION=600 \\\n"
        '    AIRFLOW__API__BASE_URL="https://example.com/airflow path"\n'
        "ENV AIRFLOW__LOGGING__LOGGING_LEVEL WARNING\n"  # the legacy form
        "RUN echo 'ENV AIRFLOW__NOT__THIS=1'\n"
    )
    assert deployment_airflow_settings(dockerfile) == {
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__SCHEDULER__DAG_STALE_NOT_SEEN_DURATION": "600",
        "AIRFLOW__API__BASE_URL": "https://example.com/airflow path",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }


def test_the_local_cloud_runs_airflow_with_the_deployments_own_settings(tmp_path: Path) -> None:
    """Where the local cloud sets a key of its own (its executor, ports, paths), that key is not the deployment's:
    the Dockerfile must not set it, or the two would run differently without anyone seeing it."""
    deployment = deployment_airflow_settings()
    assert deployment, "the Dockerfile sets no Airflow setting: nothing is checked here"
    env = environment(load_settings({"LOCALCLOUD_HOME": str(tmp_path / "cloud")}))
    differing = {key: (value, env.get(key)) for key, value in deployment.items() if env.get(key) != value}
    assert not differing, f"the local cloud runs these Airflow settings differently from the Dockerfile: {differing}"
