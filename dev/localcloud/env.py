"""The one generated environment file: Airflow settings and ``AIRFLOW_CONN_*`` for the local cloud.

Production sets the same connection ids (``include.connections``) through Astro environment variables
or a secrets backend; only these values differ.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import sys
from pathlib import Path

from dev.localcloud.certs import CA_BUNDLE
from dev.localcloud.settings import (
    CLOUD_APP_TOKEN,
    HIGHTOUCH_TOKEN,
    REPO_ROOT,
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    SALESFORCE_USER,
    CloudSettings,
)
from include import connections


def connection_values(settings: CloudSettings) -> dict[str, dict[str, object]]:
    """Connection id -> Airflow JSON connection for each stand-in that is running locally."""
    return {
        connections.LANDING_S3: {
            "conn_type": "aws",
            "login": S3_ACCESS_KEY,
            "password": S3_SECRET_KEY,
            "extra": {
                "endpoint_url": f"http://127.0.0.1:{settings.s3_port}",
                "region_name": "us-east-1",
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            },
        },
        connections.SNOWFLAKE: {
            "conn_type": "snowflake",
            "login": "localcloud",
            "password": "localcloud",
            "schema": "PUBLIC",
            "extra": {
                "account": "localcloud",
                "database": "RAW",
                "warehouse": "LOCAL_WH",
                "role": "LOCAL",
                # Real Snowflake is reached by account; the stand-in by host/port over HTTPS.
                "host": "localhost",
                "port": settings.snowflake_port,
            },
        },
        connections.CLOUD_APP_API: {
            "conn_type": "http",
            "host": f"http://127.0.0.1:{settings.cloud_app_port}",
            "password": CLOUD_APP_TOKEN,
        },
        connections.SALESFORCE: {
            "conn_type": "salesforce",
            "login": SALESFORCE_USER,
            "password": "localcloud",
            "extra": {
                "consumer_key": "localcloud",
                "consumer_secret": "localcloud",
                # simple-salesforce builds https://{domain}.salesforce.com/services/oauth2/token; this domain
                # sends that request to the emulator and turns the suffix into an ignored query string.
                "domain": f"localhost:{settings.salesforce_port}/services/oauth2/token?",
            },
        },
        connections.HIGHTOUCH: {
            "conn_type": "http",
            "host": f"http://127.0.0.1:{settings.hightouch_port}",
            "password": HIGHTOUCH_TOKEN,  # the provider sends it as the Bearer token; login stays empty
        },
    }


def _persistent_secret(path: Path, factory: object) -> str:
    """Generate once, then reuse: Airflow components must share the JWT secret and the Fernet key."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = factory() if callable(factory) else str(factory)
    path.write_text(value)
    path.chmod(0o600)
    return value


def environment(settings: CloudSettings) -> dict[str, str]:
    from cryptography.fernet import Fernet

    secrets_dir = settings.home / "secrets"
    env = {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Each Cosmos task is a Python process running dbt: more of them at once than about twice the cores
        # only thrash (measured: 11 parallel staging models took ~100 s each on 2 cores, one at a time ~5 s).
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", str(2 * (os.cpu_count() or 2))),
        "AIRFLOW__CORE__FERNET_KEY": _persistent_secret(
            secrets_dir / "fernet_key", lambda: Fernet.generate_key().decode()
        ),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{settings.airflow_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://localhost:{settings.airflow_port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": _persistent_secret(
            secrets_dir / "jwt_secret", lambda: secrets.token_urlsafe(64)
        ),
        # Pick up new DAG files quickly while developing (production keeps Airflow's defaults).
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "15",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        # Log servers follow the API port (8080 -> 8793/8794, Airflow's defaults), so two clouds never collide.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.airflow_port + 713),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.airflow_port + 714),
        "PYTHONPATH": str(REPO_ROOT),
        # The stand-ins' certificates are signed by a local CA; clients verify TLS against this bundle.
        "REQUESTS_CA_BUNDLE": str(settings.cert_dir / CA_BUNDLE),
        "LANDING_BUCKET": settings.bucket,
        "LOCALCLOUD_HOME": str(settings.home),
        "LOCALCLOUD_STAGE_URL": settings.stage_url,
        # dbt's `local` target turns on the stand-in's compatibility macros (dbt_project/macros/fakesnow/).
        "DBT_TARGET": "local",
        # The local cloud is offline: no usage reports (they would only time out).
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos keeps dbt's partial-parse state per cache dir, and dbt re-parses the whole project (~5 s a task)
        # when the profile (host, port) differs from the one that wrote it: one cache per cloud, not one per machine.
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings.home / "cosmos"),
        "DO_NOT_TRACK": "1",
    }
    for conn_id, value in connection_values(settings).items():
        env[connections.env_var_name(conn_id)] = json.dumps(value, separators=(",", ":"))
    return env


def write_env_file(settings: CloudSettings) -> Path:
    lines = ["# Generated by `python -m dev.localcloud up`: do not edit, do not commit."]
    lines += [f"{key}={shlex.quote(value)}" for key, value in environment(settings).items()]
    settings.env_file.parent.mkdir(parents=True, exist_ok=True)
    settings.env_file.write_text("\n".join(lines) + "\n")
    settings.env_file.chmod(0o600)
    return settings.env_file


def read_env_file(path: Path) -> dict[str, str]:
    """Parse the file written above (``KEY=shell-quoted value`` lines)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, raw = line.partition("=")
        parts = shlex.split(raw)
        values[key] = parts[0] if parts else ""
    return values


if __name__ == "__main__":  # print the file's path for shells: `set -a; . "$(python -m dev.localcloud.env)"`
    from dev.localcloud.settings import load_settings

    sys.stdout.write(str(load_settings().env_file) + "\n")
