"""The local cloud under docker compose: its settings, and the check that docker-compose.yaml runs the catalogue.

``docker-compose.yaml`` is written by hand (anchors, comments, healthchecks), but every command, healthcheck and
environment value it gives the local cloud's services must be what ``python -m dev.localcloud up`` runs for the
settings below: one code path, two launchers. ``dev/tests/test_compose.py`` runs this check;

    python -m dev.localcloud.compose --check      # exit 1 and list what differs
    python -m dev.localcloud.compose --print-env  # the environment block compose must carry, as YAML
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dev.localcloud.env import environment
from dev.localcloud.services import VENV_BIN, catalogue
from dev.localcloud.settings import REPO_ROOT, CloudSettings, load_settings

COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
DOCKERFILE = "dev/docker/localcloud.Dockerfile"
# Where dev/docker/localcloud.Dockerfile copies the repository (its WORKDIR).
CONTAINER_REPO_ROOT = Path("/opt/pipeline")

# The settings that differ in containers, as compose's x-cloud-env sets them in every container it builds.
# Each service listens on all interfaces of its own container and is reached by its compose service name.
LOCALCLOUD_ENV: dict[str, str] = {
    "LOCALCLOUD_HOME": "/data",
    "LOCALCLOUD_BIND_HOST": "0.0.0.0",  # noqa: S104 - inside a container, published on 127.0.0.1 only
    "LOCALCLOUD_S3_HOST": "s3",
    "LOCALCLOUD_SNOWFLAKE_HOST": "snowflake",
    "LOCALCLOUD_CLOUD_APP_HOST": "cloud-app",
    "LOCALCLOUD_SALESFORCE_HOST": "salesforce",
    "LOCALCLOUD_HIGHTOUCH_HOST": "hightouch",
    "LOCALCLOUD_AIRFLOW_HOST": "airflow-api-server",
    "LOCALCLOUD_SECRETS_FROM_FILES": "true",
}
# Compose cannot count the host's cores as ``make up`` does (twice the cores); this is a 2-core laptop's figure,
# and ``AIRFLOW__CORE__PARALLELISM`` overrides it (docs/docker-compose.md).
AIRFLOW_PARALLELISM = "4"

# Services the Python path has no counterpart for, and why.
COMPOSE_ONLY_SERVICES = {
    "postgres": "Airflow's metadata database (make up uses SQLite)",
    "redis": "the Celery broker of the `celery` profile",
    "airflow-worker": "Celery workers of the `celery` profile (make up runs the LocalExecutor)",
}


def compose_settings() -> CloudSettings:
    """What ``load_settings()`` returns inside the containers of docker-compose.yaml."""
    settings = load_settings({**LOCALCLOUD_ENV, "AIRFLOW__CORE__PARALLELISM": AIRFLOW_PARALLELISM})
    return dataclasses.replace(settings, repo_root=CONTAINER_REPO_ROOT)


def container_argv(argv: list[str]) -> list[str]:
    """The catalogue's argv as the image runs it: its interpreter and tools are on PATH."""
    program = argv[0]
    if program == sys.executable:
        program = "python"
    elif Path(program).parent == VENV_BIN:
        program = Path(program).name
    return [program, *argv[1:]]


def expected_commands(settings: CloudSettings) -> dict[str, list[str]]:
    """Compose service -> its command: the catalogue's services, and the two set-up steps of ``up``."""
    commands = {s.name: container_argv(s.argv) for group in catalogue(settings).values() for s in group}
    commands["prepare"] = ["python", "-m", "dev.localcloud", "prepare"]
    commands["init"] = ["python", "-m", "dev.localcloud", "init"]
    return commands


def expected_healthchecks(settings: CloudSettings) -> dict[str, list[str]]:
    """The catalogue's own health check of each service, as ``up`` waits for it."""
    return {
        s.name: ["CMD", "python", "-m", "dev.localcloud", "health", s.name]
        for group in catalogue(settings).values()
        for s in group
    }


def expected_environment(settings: CloudSettings) -> dict[str, str]:
    """What ``make up`` gives every process it starts (``service_env``), with the compose settings."""
    return {**LOCALCLOUD_ENV, **environment(settings)}


_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")


def interpolate(value: Any) -> str:
    """A compose value as ``docker compose`` resolves it when the shell sets none of the variables it names.

    ``${NAME:-default}`` becomes its default, ``$$`` a literal ``$``. A bare ``${NAME}`` raises: every
    variable compose reads from the shell must have a default, so ``docker compose up`` needs no set-up.
    """
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)

    def resolve(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("op") is None:
            raise ValueError(f"{text!r}: ${{{match.group('name')}}} has no default")
        return match.group("default")

    return _VARIABLE.sub(resolve, text)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """docker-compose.yaml with its YAML anchors and merge keys resolved, as compose reads it."""
    import yaml

    return yaml.safe_load(path.read_text())


def service_environment(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):  # the KEY=value list form
        raw = dict(item.split("=", 1) for item in raw)
    return {key: interpolate(value) for key, value in raw.items()}


def differences(compose: Mapping[str, Any], settings: CloudSettings | None = None) -> list[str]:
    """Every way ``compose`` runs the local cloud differently from the catalogue; empty when it does not."""
    settings = settings or compose_settings()
    services = compose.get("services", {})
    problems: list[str] = []
    for name, argv in expected_commands(settings).items():
        if name not in services:
            problems.append(f"{name}: missing (the Python path runs {argv})")
            continue
        command = services[name].get("command")
        if command != argv:
            problems.append(f"{name}: command {command} is not the catalogue's {argv}")
    for name, test in expected_healthchecks(settings).items():
        actual = services.get(name, {}).get("healthcheck", {}).get("test")
        if actual != test:
            problems.append(f"{name}: healthcheck {actual} is not the catalogue's check {test}")
    wanted = expected_environment(settings)
    for name, service in services.items():
        if "build" not in service:  # third-party images (postgres, redis) run nothing of ours
            continue
        env = service_environment(service)
        for key, value in wanted.items():
            if key not in env:
                problems.append(f"{name}: environment lacks {key}")
            elif env[key] != value:
                problems.append(f"{name}: {key}={env[key]!r}, the Python path sets {value!r}")
    return problems


def _environment_yaml(settings: CloudSettings) -> str:
    import yaml

    return yaml.safe_dump(expected_environment(settings), sort_keys=False, width=1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.localcloud.compose", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="compare docker-compose.yaml with the catalogue")
    action.add_argument("--print-env", action="store_true", help="the environment compose must set, as YAML")
    args = parser.parse_args(argv)
    if args.print_env:
        print(_environment_yaml(compose_settings()), end="")
        return 0
    problems = differences(load_compose())
    for problem in problems:
        print(problem)
    print(f"{COMPOSE_FILE.name}: {'differs from' if problems else 'runs'} the local cloud's catalogue")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
