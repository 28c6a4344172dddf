"""The services of the local cloud: how each starts and how we know it is healthy."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dev.localcloud.certs import CA_BUNDLE, ensure_certificates
from dev.localcloud.env import ensure_airflow_secrets, environment
from dev.localcloud.process import PidFile, airflow_task_groups, port_in_use, spawn, stop_group, stop_groups
from dev.localcloud.settings import REPO_ROOT, S3_ACCESS_KEY, S3_SECRET_KEY, STORAGE_INTEGRATION, CloudSettings

VENV_BIN = Path(sys.executable).parent


class ServiceError(RuntimeError):
    """A service could not be started or did not become healthy; the message says what to do."""


@dataclass(frozen=True)
class Service:
    name: str
    port: int | None  # the port it must own (None: no listening socket of its own)
    port_env: str | None
    argv: list[str]
    health: Callable[[], str | None]  # None when healthy, else what is wrong
    start_timeout: float = 60.0
    # Other ports it binds (Airflow's log servers), each with what it is: checked before start like ``port``.
    other_ports: tuple[tuple[int, str], ...] = ()

    def pidfile(self, settings: CloudSettings) -> PidFile:
        return PidFile(settings.run_dir / f"{self.name}.pid")

    def log_file(self, settings: CloudSettings) -> Path:
        return settings.log_dir / f"{self.name}.log"

    @property
    def ports(self) -> list[int]:
        """Every port it listens on."""
        return [*([self.port] if self.port is not None else []), *(port for port, _ in self.other_ports)]


# --- health checks ----------------------------------------------------------------------------------


def _s3_health(settings: CloudSettings) -> Callable[[], str | None]:
    def check() -> str | None:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client(
            "s3",
            endpoint_url=f"http://{settings.s3_host}:{settings.s3_port}",
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name="us-east-1",
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
        )
        try:
            client.head_bucket(Bucket=settings.bucket)
        except (BotoCoreError, ClientError) as exc:
            return f"S3 API on port {settings.s3_port} not answering for bucket {settings.bucket!r}: {exc}"
        return None

    return check


def _snowflake_health(settings: CloudSettings) -> Callable[[], str | None]:
    def check() -> str | None:
        from dev.localcloud.warehouse import connect

        host, port = settings.snowflake_host, settings.snowflake_port
        try:
            with connect(port, "healthcheck", host=host, login_timeout=5, network_timeout=5) as conn:
                conn.cursor().execute("SELECT 1").fetchone()
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", reported verbatim
            return f"Snowflake stand-in on https://{host}:{port} not answering: {exc}"
        return None

    return check


def _airflow_health(settings: CloudSettings, component: str) -> Callable[[], str | None]:
    def check() -> str | None:
        import requests

        url = f"http://{settings.airflow_host}:{settings.airflow_port}/api/v2/monitor/health"
        try:
            body = requests.get(url, timeout=5).json()
        except (requests.RequestException, ValueError) as exc:
            return f"Airflow API at {url} not answering: {exc}"
        if component == "api-server":
            status = body.get("metadatabase", {}).get("status")
        else:
            status = body.get(component.replace("-", "_"), {}).get("status")
        return None if status == "healthy" else f"Airflow {component} reports {status!r}"

    return check


def _http_health(url: str, name: str) -> Callable[[], str | None]:
    def check() -> str | None:
        import requests

        try:
            response = requests.get(url, timeout=5)
        except requests.RequestException as exc:
            return f"{name} at {url} not answering: {exc}"
        return None if response.status_code == 200 else f"{name} at {url} answered {response.status_code}"

    return check


# --- the catalogue ----------------------------------------------------------------------------------


def catalogue(settings: CloudSettings) -> dict[str, list[Service]]:
    """Service groups in start order. Every command is a plain entry point that compose can run too."""
    python = sys.executable
    airflow = str(VENV_BIN / "airflow")
    groups: dict[str, list[Service]] = {
        "s3": [
            Service(
                name="s3",
                port=settings.s3_port,
                port_env="LOCALCLOUD_S3_PORT",
                argv=[
                    str(VENV_BIN / "rclone"),
                    "serve",
                    "s3",
                    str(settings.s3_dir),
                    "--addr",
                    f"{settings.bind_host}:{settings.s3_port}",
                    "--auth-key",
                    f"{S3_ACCESS_KEY},{S3_SECRET_KEY}",
                    "--config",
                    "/dev/null",
                    "--vfs-cache-mode",
                    "off",
                ],
                health=_s3_health(settings),
            )
        ],
        "snowflake": [
            Service(
                name="snowflake",
                port=settings.snowflake_port,
                port_env="LOCALCLOUD_SNOWFLAKE_PORT",
                argv=[
                    python,
                    "-m",
                    "dev.localcloud.snowflake_server",
                    "--host",
                    settings.bind_host,
                    "--port",
                    str(settings.snowflake_port),
                    "--data-dir",
                    str(settings.snowflake_dir),
                    "--cert-dir",
                    str(settings.cert_dir),
                    "--s3-dir",
                    str(settings.s3_dir),
                ],
                health=_snowflake_health(settings),
            )
        ],
        "emulators": [
            Service(
                name="cloud-app",
                port=settings.cloud_app_port,
                port_env="LOCALCLOUD_CLOUD_APP_PORT",
                argv=[
                    python,
                    "-m",
                    "dev.cloud_app",
                    "--host",
                    settings.bind_host,
                    "--port",
                    str(settings.cloud_app_port),
                    "--state-dir",
                    str(settings.cloud_app_dir),
                    "--signups-per-hour",
                    str(settings.signups_per_hour),
                ],
                health=_http_health(
                    f"http://{settings.cloud_app_host}:{settings.cloud_app_port}/v1/health", "cloud app API"
                ),
            ),
            Service(
                name="salesforce",
                port=settings.salesforce_port,
                port_env="LOCALCLOUD_SALESFORCE_PORT",
                argv=[
                    python,
                    "-m",
                    "dev.salesforce",
                    "--host",
                    settings.bind_host,
                    "--port",
                    str(settings.salesforce_port),
                    "--state-dir",
                    str(settings.salesforce_dir),
                    "--cert-dir",
                    str(settings.cert_dir),
                    "--world-seed",
                    "42",  # the cloud app's default seed: the CRM knows some of its signups
                ],
                health=_http_health(
                    f"https://{settings.salesforce_host}:{settings.salesforce_port}/services/data/", "Salesforce"
                ),
            ),
            Service(
                name="hightouch",
                port=settings.hightouch_port,
                port_env="LOCALCLOUD_HIGHTOUCH_PORT",
                argv=[
                    python,
                    "-m",
                    "dev.hightouch",
                    "--host",
                    settings.bind_host,
                    "--port",
                    str(settings.hightouch_port),
                    "--state-dir",
                    str(settings.hightouch_dir),
                    "--snowflake-host",
                    settings.snowflake_host,
                    "--snowflake-port",
                    str(settings.snowflake_port),
                    "--salesforce-url",
                    f"https://{settings.salesforce_host}:{settings.salesforce_port}",
                ],
                health=_http_health(
                    f"http://{settings.hightouch_host}:{settings.hightouch_port}/api/v1/health", "Hightouch"
                ),
            ),
        ],
        "airflow": [
            Service(
                name="airflow-api-server",
                port=settings.airflow_port,
                port_env="LOCALCLOUD_AIRFLOW_PORT",
                argv=[airflow, "api-server", "--port", str(settings.airflow_port)],
                health=_airflow_health(settings, "api-server"),
                start_timeout=120,
            ),
            *(
                Service(
                    name=f"airflow-{component}",
                    port=None,
                    port_env="LOCALCLOUD_AIRFLOW_PORT" if log_port else None,
                    # The scheduler preloads the tasks' heavy imports for its forked workers (see the module).
                    argv=[python, "-m", "dev.localcloud.scheduler"]
                    if component == "scheduler"
                    else [airflow, component],
                    health=_airflow_health(settings, component),
                    start_timeout=120,
                    other_ports=((log_port, f"log server (Airflow port + {log_port - settings.airflow_port})"),)
                    if log_port
                    else (),
                )
                for component, log_port in (
                    ("scheduler", settings.worker_log_server_port),  # the LocalExecutor's task logs
                    ("dag-processor", None),
                    ("triggerer", settings.trigger_log_server_port),
                )
            ),
        ],
    }
    return groups


GROUPS = ("s3", "snowflake", "emulators", "airflow")


@dataclass(frozen=True)
class SetupStep:
    """A one-off command the services need: run by ``up`` beside their groups, and by compose's init service."""

    description: str
    argv: list[str]
    timeout: float
    # ``up`` runs it before this group starts (it must be ready for it) or after it is healthy (it needs it).
    when: Literal["before", "after"]
    group: str


def setup_steps(settings: CloudSettings) -> list[SetupStep]:
    """In the order ``python -m dev.localcloud init`` runs them."""
    return [
        SetupStep(
            "airflow db migrate",
            [sys.executable, "-m", "airflow", "db", "migrate"],
            timeout=300,
            when="before",
            group="airflow",
        ),
        SetupStep(
            # What an administrator does once in production (include/sql/production_setup.sql, step 4), with the
            # stand-in's only part of it: the databases. The pipeline's bootstrap creates everything inside them.
            "warehouse administrator set-up",
            [sys.executable, "-m", "dev.localcloud.warehouse", "--administrator-set-up"],
            timeout=60,
            when="after",
            group="snowflake",
        ),
        SetupStep(
            "warehouse bootstrap",
            [
                sys.executable,
                "-m",
                "include.warehouse.bootstrap",
                "--stage-url",
                settings.stage_url,
                "--storage-integration",
                STORAGE_INTEGRATION,
            ],
            timeout=120,
            when="after",
            group="snowflake",
        ),
    ]


# --- lifecycle --------------------------------------------------------------------------------------


def service_env(settings: CloudSettings) -> dict[str, str]:
    env = {**os.environ, **environment(settings)}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def log_tail(path: Path, lines: int = 20) -> list[str]:
    """The last ``lines`` lines of a log (reading only its end: a service's log can be large)."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 200 * lines))
            text = log.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:]


def _with_log(message: str, service: Service, settings: CloudSettings) -> str:
    """``message`` and the end of the service's log, so a failed start says why without another command."""
    path = service.log_file(settings)
    tail = log_tail(path)
    if not tail:
        return f"{message}\n  (its log, {path}, is empty)"
    return "\n".join([message, f"  last lines of {path}:", *(f"  | {line}" for line in tail)])


def wait_healthy(service: Service, settings: CloudSettings, timeout: float) -> None:
    pidfile = service.pidfile(settings)
    deadline = time.monotonic() + timeout
    problem: str | None = "not checked yet"
    while time.monotonic() < deadline:
        if pidfile.read_live_pid() is None:
            raise ServiceError(_with_log(f"{service.name} exited during start-up", service, settings))
        problem = service.health()
        if problem is None:
            return
        time.sleep(1.0)
    raise ServiceError(_with_log(f"{service.name} not healthy after {timeout:.0f}s: {problem}", service, settings))


def start(service: Service, settings: CloudSettings, env: dict[str, str], log: Callable[[str], None]) -> None:
    pidfile = service.pidfile(settings)
    if pidfile.read_live_pid() is not None:
        wait_healthy(service, settings, service.start_timeout)
        log(f"{service.name}: already running")
        return
    wanted = [(service.port, ""), *((port, f"'s {what}") for port, what in service.other_ports)]
    for port, what in wanted:
        if port is not None and port_in_use(port):
            raise ServiceError(
                f"port {port} for {service.name}{what} is busy with a process this local cloud did not start: "
                f"stop it, or choose another port with {service.port_env}=<port>"
            )
    started = time.monotonic()
    pid = spawn(service.argv, env=env, log_path=service.log_file(settings), cwd=REPO_ROOT)
    pidfile.write(pid)
    try:
        wait_healthy(service, settings, service.start_timeout)
    except ServiceError:
        stop_group(pid)
        pidfile.remove()
        raise
    log(f"{service.name}: started (pid {pid}) and healthy in {time.monotonic() - started:.1f}s")


def stop(services: list[Service], settings: CloudSettings, log: Callable[[str], None]) -> None:
    """Stop these services together (they shut down in parallel) by process group."""
    running = [(s, pid) for s in services if (pid := s.pidfile(settings).read_live_pid()) is not None]
    killed = stop_groups([pid for _, pid in running])
    for service, pid in running:
        service.pidfile(settings).remove()
        log(f"{service.name}: stopped (process group {pid}{', had to SIGKILL' if pid in killed else ''})")
    if any(s.name.startswith("airflow-") for s in services):
        ours = {
            pid for group in catalogue(settings).values() for s in group if (pid := s.pidfile(settings).read_live_pid())
        }
        leftovers = airflow_task_groups(settings.airflow_home, exclude=ours)
        if leftovers:
            stop_groups(leftovers)
            log(f"airflow: stopped {len(leftovers)} task process group(s) the scheduler left behind")


def prepare_state(settings: CloudSettings) -> None:
    """State every service expects before it starts: directories, certificates, Airflow's shared secrets."""
    for directory in (settings.bucket_dir, settings.snowflake_dir, settings.airflow_home, settings.run_dir):
        directory.mkdir(parents=True, exist_ok=True)
    ensure_certificates(settings.cert_dir)
    ensure_airflow_secrets(settings)
    trust_local_ca(settings)


def trust_local_ca(settings: CloudSettings) -> None:
    """Clients in this process (health checks) must verify the stand-ins' certificates too."""
    os.environ["REQUESTS_CA_BUNDLE"] = str(settings.cert_dir / CA_BUNDLE)
