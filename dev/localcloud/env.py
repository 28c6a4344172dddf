"""The one generated environment file: Airflow settings and ``AIRFLOW_CONN_*`` for the local cloud.

Production sets the same connection ids (``include.connections``) through Astro environment variables
or a secrets backend; only these values differ. The Airflow settings the deployment image itself sets (``ENV
AIRFLOW__...`` lines in the Dockerfile) are read from there, so the local cloud runs Airflow the way production does.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import sys
from pathlib import Path

from dev.chat.sink import WEBHOOK_KEY
from dev.dbt_docs import cosmos_projects, docs_dir
from dev.localcloud.certs import CA_BUNDLE, SALESFORCE_APP_CONSUMER_KEY, SALESFORCE_APP_KEY
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
from include.settings import warehouse_names


def connection_values(settings: CloudSettings) -> dict[str, dict[str, object]]:
    """Connection id -> Airflow JSON connection for each stand-in that is running locally."""
    return {
        connections.LANDING_S3: {
            "conn_type": "aws",
            "login": S3_ACCESS_KEY,
            "password": S3_SECRET_KEY,
            "extra": {
                "endpoint_url": f"http://{settings.s3_host}:{settings.s3_port}",
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
                "database": warehouse_names().raw_database,
                "warehouse": "LOCAL_WH",
                "role": "LOCAL",
                # Real Snowflake is reached by account; the stand-in by host/port over HTTPS.
                "host": settings.snowflake_host,
                "port": settings.snowflake_port,
            },
        },
        connections.CLOUD_APP_API: {
            "conn_type": "http",
            "host": f"http://{settings.cloud_app_host}:{settings.cloud_app_port}",
            "password": CLOUD_APP_TOKEN,
        },
        # The OAuth 2.0 JWT bearer flow, as a production connection signs in (README, Point it at real accounts):
        # the integration user, the connected app's consumer key and the key whose certificate the app holds.
        connections.SALESFORCE: {
            "conn_type": "salesforce",
            "login": SALESFORCE_USER,
            "extra": {
                "consumer_key": SALESFORCE_APP_CONSUMER_KEY,
                "private_key_file_path": str(settings.cert_dir / SALESFORCE_APP_KEY),
                # simple-salesforce builds https://{domain}.salesforce.com/services/oauth2/token; this domain
                # sends that request to the emulator and turns the suffix into an ignored query string.
                "domain": f"{settings.salesforce_host}:{settings.salesforce_port}/services/oauth2/token?",
            },
        },
        # The chat the alerts go to (dev/chat/sink.py, served by the cloud-app emulator): the webhook's URL, as
        # a Slack or Mattermost incoming webhook is configured.
        connections.ALERTS_WEBHOOK: {
            "conn_type": "slackwebhook",
            "password": f"http://{settings.cloud_app_host}:{settings.cloud_app_port}/hooks/{WEBHOOK_KEY}",
        },
        connections.HIGHTOUCH: {
            "conn_type": "http",
            "host": f"http://{settings.hightouch_host}:{settings.hightouch_port}",
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


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _jwt_secret() -> str:
    return secrets.token_urlsafe(64)


LOCAL_DAG_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"

# Airflow option -> (file under <home>/secrets, how a new value is made). Every component must share them.
AIRFLOW_SECRETS = {
    "AIRFLOW__CORE__FERNET_KEY": ("fernet_key", _fernet_key),
    "AIRFLOW__API_AUTH__JWT_SECRET": ("jwt_secret", _jwt_secret),
}


def ensure_airflow_secrets(settings: CloudSettings) -> dict[str, str]:
    """Create the shared Airflow secrets once; option -> value."""
    return {
        option: _persistent_secret(settings.secrets_dir / filename, factory)
        for option, (filename, factory) in AIRFLOW_SECRETS.items()
    }


def _airflow_secret(settings: CloudSettings, option: str) -> dict[str, str]:
    """The variable that gives Airflow ``option``: its value, or (in containers) the command that reads it."""
    filename, factory = AIRFLOW_SECRETS[option]
    if settings.secrets_from_files:
        return {f"{option}_CMD": f"cat {settings.secrets_dir / filename}"}
    return {option: _persistent_secret(settings.secrets_dir / filename, factory)}


def deployment_airflow_settings(dockerfile: Path = REPO_ROOT / "Dockerfile") -> dict[str, str]:
    """The Airflow settings (``AIRFLOW__SECTION__KEY``) the deployment image sets with ``ENV`` in the Dockerfile."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())  # join continued lines
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.upper().startswith("ENV "):
            continue
        words = shlex.split(line, comments=True)[1:]
        if words and "=" not in words[0]:  # the legacy form: ENV KEY value with spaces
            words = [f"{words[0]}={' '.join(words[1:])}"]
        pairs = dict(word.split("=", 1) for word in words)
        found.update({key: value for key, value in pairs.items() if key.startswith("AIRFLOW__")})
    return found


def environment(settings: CloudSettings) -> dict[str, str]:
    env = {
        # The deployment's own Airflow settings first: what follows is what only the local cloud needs.
        **deployment_airflow_settings(),
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.airflow_dags_folder),
        # Two DAG bundles: the pipeline's DAGs folder (Airflow's default bundle) and dev/dags, the local cloud's
        # own platform checks, which never ship in the deployment image.
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
            [
                {"name": "dags-folder", "classpath": LOCAL_DAG_BUNDLE, "kwargs": {}},
                {
                    "name": "local-cloud",
                    "classpath": LOCAL_DAG_BUNDLE,
                    "kwargs": {"path": str(settings.dev_dags_folder)},
                },
            ]
        ),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.repo_root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": settings.airflow_parallelism,
        **_airflow_secret(settings, "AIRFLOW__CORE__FERNET_KEY"),
        # Where task processes reach the API server; the base URL below is the one a browser uses.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{settings.airflow_host}:{settings.airflow_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__HOST": settings.bind_host,
        "AIRFLOW__API__BASE_URL": f"http://localhost:{settings.airflow_port}",
        **_airflow_secret(settings, "AIRFLOW__API_AUTH__JWT_SECRET"),
        # Pick up new DAG files quickly while developing (production keeps Airflow's defaults).
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "15",
        # The log servers follow the API port (settings.py). The scheduler's own health-check server stays off:
        # health comes from the API server (/api/v2/monitor/health), and it would be one more fixed port (8974).
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.worker_log_server_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.trigger_log_server_port),
        "PYTHONPATH": str(settings.repo_root),
        # The stand-ins' certificates are signed by a local CA; clients verify TLS against this bundle.
        "REQUESTS_CA_BUNDLE": str(settings.cert_dir / CA_BUNDLE),
        "LANDING_BUCKET": settings.bucket,
        "LOCALCLOUD_HOME": str(settings.home),
        # For dbt from the command line: profiles.yml's `local` output holds the stand-in's host and port (Airflow
        # builds its profile from the snowflake connection instead).
        "DBT_TARGET": "local",
        # The stand-in warehouse has no roles or grants, and the Hightouch emulator signs in with none: no role is
        # named for Hightouch's source, so the preflight has no grants to check (include/preflight/snowflake.py).
        "SNOWFLAKE_HIGHTOUCH_ROLE": "",
        # The local cloud is offline: no usage reports (they would only time out).
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos keeps dbt's partial-parse state per cache dir, and dbt re-parses the whole project (~5 s a task)
        # when the profile (host, port) differs from the one that wrote it: one cache per cloud, not one per machine.
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings.home / "cosmos"),
        # Cosmos's plugin shows the dbt docs `make demo` generates here inside the UI (Browse > dbt Docs).
        "AIRFLOW__COSMOS__DBT_DOCS_PROJECTS": cosmos_projects(docs_dir(settings)),
        "DO_NOT_TRACK": "1",
        # OpenLineage events to a file the tests read (JSON lines, appended); a deployment points the same setting at
        # its lineage backend (docs/deploy-to-astro.md, "Lineage").
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(settings.home / "openlineage" / "events.jsonl"), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "operational-pipeline",
        # Alerts on a failed sync link to the run's page in the Hightouch app; the emulator serves its runs there.
        "HIGHTOUCH_APP_URL": f"http://{settings.hightouch_host}:{settings.hightouch_port}/app",
    }
    for conn_id, value in connection_values(settings).items():
        env[connections.env_var_name(conn_id)] = json.dumps(value, separators=(",", ":"))
    return env


def write_env_file(settings: CloudSettings) -> Path:
    lines = ["# Generated by `python -m dev.localcloud up`: do not edit, do not commit."]
    lines += [f"{key}={shlex.quote(value)}" for key, value in environment(settings).items()]
    settings.env_file.parent.mkdir(parents=True, exist_ok=True)
    (settings.home / "openlineage").mkdir(exist_ok=True)  # the file transport appends there, it creates no folder
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
