"""Where the local cloud keeps its state and which ports it listens on.

Everything lives under ``LOCALCLOUD_HOME`` (default ``<repo>/.local``); every port can be overridden
with an environment variable, so tests run an isolated cloud beside a developer's running one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Local-only credentials for the stand-ins. Not secrets: nothing real sits behind them.
S3_ACCESS_KEY = "localcloud"
S3_SECRET_KEY = "localcloud-secret"  # noqa: S105 - a local stand-in's key
CLOUD_APP_TOKEN = "local-cloud-app-token"  # noqa: S105
HIGHTOUCH_TOKEN = "local-hightouch-token"  # noqa: S105
SALESFORCE_USER = "integration@example.com"


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise SystemExit(f"{name}={port} is outside 1-65535")
    return port


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
    def env_file(self) -> Path:
        return self.home / "localcloud.env"

    @property
    def stage_url(self) -> str:
        # Snowflake's local stage reads the very files rclone serves as S3 objects.
        return self.bucket_dir.resolve().as_uri() + "/"


def load_settings() -> CloudSettings:
    home = Path(os.environ.get("LOCALCLOUD_HOME", REPO_ROOT / ".local"))
    return CloudSettings(
        home=home.resolve(),
        s3_port=_port("LOCALCLOUD_S3_PORT", 9000),
        snowflake_port=_port("LOCALCLOUD_SNOWFLAKE_PORT", 8443),
        airflow_port=_port("LOCALCLOUD_AIRFLOW_PORT", 8080),
        cloud_app_port=_port("LOCALCLOUD_CLOUD_APP_PORT", 8001),
        salesforce_port=_port("LOCALCLOUD_SALESFORCE_PORT", 8444),
        hightouch_port=_port("LOCALCLOUD_HIGHTOUCH_PORT", 8002),
        bucket=os.environ.get("LANDING_BUCKET", "landing"),
        signups_per_hour=int(os.environ.get("LOCALCLOUD_SIGNUPS_PER_HOUR", "120")),
    )
