"""Where the local cloud keeps its state, which ports it listens on and how its services reach each other.

Everything lives under ``LOCALCLOUD_HOME`` (default ``<repo>/.local``); every port can be overridden
with an environment variable, so tests run an isolated cloud beside a developer's running one. ``up`` remembers
the overrides it was given in ``<home>/ports.env``, and every later command reads them from there, so they
need not be repeated; the environment wins over the file, and deleting the file restores the defaults. The bind
address and the host name of each service default to the loopback of one machine (``make up``); docker
compose sets them to ``0.0.0.0`` and its service names (``dev/localcloud/compose.py``), so both launchers
run the same catalogue of commands.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Local-only credentials for the stand-ins. Not secrets: nothing real sits behind them.
S3_ACCESS_KEY = "localcloud"
S3_SECRET_KEY = "localcloud-secret"  # noqa: S105 - a local stand-in's key
CLOUD_APP_TOKEN = "local-cloud-app-token"  # noqa: S105
HIGHTOUCH_TOKEN = "local-hightouch-token"  # noqa: S105
SALESFORCE_USER = "integration@example.com"


# Every port variable and its default. Airflow's log servers follow LOCALCLOUD_AIRFLOW_PORT (CloudSettings).
PORT_DEFAULTS = {
    "LOCALCLOUD_S3_PORT": 9000,
    "LOCALCLOUD_SNOWFLAKE_PORT": 8443,
    "LOCALCLOUD_AIRFLOW_PORT": 8080,
    "LOCALCLOUD_CLOUD_APP_PORT": 8001,
    "LOCALCLOUD_SALESFORCE_PORT": 8444,
    "LOCALCLOUD_HIGHTOUCH_PORT": 8002,
}
PORTS_FILE = "ports.env"


def _port(environ: Mapping[str, str], name: str, default: int, source: str = "") -> int:
    raw = environ.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}{source} is not a port number") from None
    if not 1 <= port <= 65535:
        raise SystemExit(f"{name}={port}{source} is outside 1-65535")
    return port


def remembered_ports(home: Path) -> dict[str, str]:
    """The port overrides ``up`` recorded under ``home`` (``NAME=port`` lines); empty when there are none."""
    path = home / PORTS_FILE
    if not path.is_file():
        return {}
    ports: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = (part.strip() for part in line.partition("="))
        if not equals or name not in PORT_DEFAULTS:
            raise SystemExit(
                f"{path}: {line!r} is not one of {', '.join(PORT_DEFAULTS)}=<port>; fix the line or delete the file"
            )
        _port({name: value}, name, PORT_DEFAULTS[name], f" (in {path})")
        ports[name] = value
    return ports


def remember_ports(home: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Record the port overrides set in ``environ`` beside those already remembered; returns the ones it added
    or changed (empty when the file already said so)."""
    env = os.environ if environ is None else environ
    known = remembered_ports(home)
    given = {name: str(_port(env, name, default)) for name, default in PORT_DEFAULTS.items() if name in env}
    changed = {name: value for name, value in given.items() if known.get(name) != value}
    if changed:
        ports = {**known, **changed}
        lines = [
            "# Port overrides remembered by `python -m dev.localcloud up` (make up); every local-cloud command reads",
            "# them. A variable set in the environment wins; delete this file to go back to the default ports.",
            *(f"{name}={ports[name]}" for name in PORT_DEFAULTS if name in ports),
        ]
        home.mkdir(parents=True, exist_ok=True)
        (home / PORTS_FILE).write_text("\n".join(lines) + "\n")
    return changed


# The storage integration the landing stage reads through: the name production's set-up gives it
# (include/sql/production_setup.sql, step 3), created on the stand-in by the administrator's step.
STORAGE_INTEGRATION = "S3_LANDING"
# The stand-in's integration names an IAM role as a real one must; nothing assumes it.
STORAGE_AWS_ROLE_ARN = "arn:aws:iam::000000000000:role/localcloud-snowflake-reader"


@dataclass(frozen=True)
class CloudSettings:
    home: Path
    s3_port: int
    snowflake_port: int
    airflow_port: int
    cloud_app_port: int
    salesforce_port: int
    hightouch_port: int
    bucket: str
    signups_per_hour: int  # how busy the emulated cloud app is
    # Each Cosmos task is a Python process running dbt: more of them at once than about twice the cores
    # only thrash (on 2 cores, 11 staging models at once take ~100 s each; one at a time, ~5 s).
    airflow_parallelism: str = str(2 * (os.cpu_count() or 2))
    bind_host: str = "127.0.0.1"  # where every service listens
    # How clients (Airflow, the emulators, health checks) reach each service. The HTTPS stand-ins are reached
    # by a name their certificate holds (dev/localcloud/certs.py), so they default to localhost.
    s3_host: str = "127.0.0.1"
    snowflake_host: str = "localhost"
    cloud_app_host: str = "127.0.0.1"
    salesforce_host: str = "localhost"
    hightouch_host: str = "127.0.0.1"
    airflow_host: str = "localhost"
    # False: Airflow's Fernet key and JWT secret are written into the environment (one machine, one env file).
    # True: Airflow reads them from files under <home>/secrets (``*_CMD`` options), so containers that share
    # that volume share the secrets without a compose file holding them.
    secrets_from_files: bool = False
    repo_root: Path = REPO_ROOT  # where the code is: the DAGs folder and PYTHONPATH
    # Another DAGs folder for Airflow (benchmarks compare DAG variants in one); None: the repository's `dags/`.
    dags_folder: Path | None = None

    # Airflow's log servers (the scheduler's for the LocalExecutor's task logs, the triggerer's), which the API
    # server reads task logs from. They follow the API port (8080 -> 8793 and 8794, Airflow's own defaults), so
    # moving LOCALCLOUD_AIRFLOW_PORT moves them too and two clouds never collide.
    @property
    def worker_log_server_port(self) -> int:
        return self.airflow_port + 713

    @property
    def trigger_log_server_port(self) -> int:
        return self.airflow_port + 714

    @property
    def ports_file(self) -> Path:
        return self.home / PORTS_FILE

    @property
    def airflow_dags_folder(self) -> Path:
        return self.dags_folder or self.repo_root / "dags"

    @property
    def dev_dags_folder(self) -> Path:
        """The local cloud's own DAGs (platform checks): a second DAG bundle, never in the deployment image."""
        return self.repo_root / "dev" / "dags"

    @property
    def s3_dir(self) -> Path:
        return self.home / "s3"

    @property
    def bucket_dir(self) -> Path:
        return self.s3_dir / self.bucket

    @property
    def snowflake_dir(self) -> Path:
        return self.home / "snowflake"

    @property
    def cert_dir(self) -> Path:
        return self.home / "certs"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def cloud_app_dir(self) -> Path:
        return self.home / "cloud_app"

    @property
    def salesforce_dir(self) -> Path:
        return self.home / "salesforce"

    @property
    def hightouch_dir(self) -> Path:
        return self.home / "hightouch"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def env_file(self) -> Path:
        return self.home / "localcloud.env"

    @property
    def stage_url(self) -> str:
        # The landing stage as in production: the bucket, read through a storage integration. The Snowflake
        # stand-in reads s3:// from the very directory rclone serves (localcloud/snowflake_storage.py).
        return f"s3://{self.bucket}/"


def load_settings(environ: Mapping[str, str] | None = None) -> CloudSettings:
    """Settings from ``environ`` (default: this process's environment); a port not set there is the one ``up``
    remembered under the home, else the default; other unset variables keep the defaults."""
    env = os.environ if environ is None else environ
    home = Path(env.get("LOCALCLOUD_HOME", REPO_ROOT / ".local"))
    default = {field.name: field.default for field in fields(CloudSettings)}
    ports = {**remembered_ports(home), **{name: env[name] for name in PORT_DEFAULTS if name in env}}
    if _port(ports, "LOCALCLOUD_AIRFLOW_PORT", PORT_DEFAULTS["LOCALCLOUD_AIRFLOW_PORT"]) + 714 > 65535:
        raise SystemExit(
            "LOCALCLOUD_AIRFLOW_PORT must be at most 64821: Airflow's log servers listen 713 and 714 above it"
        )

    def host(service: str) -> str:
        return env.get(f"LOCALCLOUD_{service.upper()}_HOST", default[f"{service}_host"])

    return CloudSettings(
        home=home.resolve(),
        s3_port=_port(ports, "LOCALCLOUD_S3_PORT", PORT_DEFAULTS["LOCALCLOUD_S3_PORT"]),
        snowflake_port=_port(ports, "LOCALCLOUD_SNOWFLAKE_PORT", PORT_DEFAULTS["LOCALCLOUD_SNOWFLAKE_PORT"]),
        airflow_port=_port(ports, "LOCALCLOUD_AIRFLOW_PORT", PORT_DEFAULTS["LOCALCLOUD_AIRFLOW_PORT"]),
        cloud_app_port=_port(ports, "LOCALCLOUD_CLOUD_APP_PORT", PORT_DEFAULTS["LOCALCLOUD_CLOUD_APP_PORT"]),
        salesforce_port=_port(ports, "LOCALCLOUD_SALESFORCE_PORT", PORT_DEFAULTS["LOCALCLOUD_SALESFORCE_PORT"]),
        hightouch_port=_port(ports, "LOCALCLOUD_HIGHTOUCH_PORT", PORT_DEFAULTS["LOCALCLOUD_HIGHTOUCH_PORT"]),
        bucket=env.get("LANDING_BUCKET", "landing"),
        signups_per_hour=int(env.get("LOCALCLOUD_SIGNUPS_PER_HOUR", "120")),
        airflow_parallelism=env.get("AIRFLOW__CORE__PARALLELISM", default["airflow_parallelism"]),
        bind_host=env.get("LOCALCLOUD_BIND_HOST", default["bind_host"]),
        s3_host=host("s3"),
        snowflake_host=host("snowflake"),
        cloud_app_host=host("cloud_app"),
        salesforce_host=host("salesforce"),
        hightouch_host=host("hightouch"),
        airflow_host=host("airflow"),
        secrets_from_files=env.get("LOCALCLOUD_SECRETS_FROM_FILES", "false").lower() == "true",
        dags_folder=Path(env["LOCALCLOUD_DAGS_FOLDER"]).resolve() if env.get("LOCALCLOUD_DAGS_FOLDER") else None,
    )
