"""Command line of the local cloud: ``python -m dev.localcloud up|down|status``.

``make up``/``make down``/``make status`` call this. ``up`` is idempotent, reports a busy port instead of
ignoring it, and waits for every health check; ``down`` stops every process group it started.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from dev.localcloud.env import write_env_file
from dev.localcloud.services import (
    GROUPS,
    ServiceError,
    catalogue,
    prepare_state,
    service_env,
    start,
    stop,
    trust_local_ca,
)
from dev.localcloud.settings import REPO_ROOT, CloudSettings, load_settings


def _log(message: str) -> None:
    print(f"[localcloud] {message}", flush=True)


def _run_step(description: str, argv: list[str], env: dict[str, str], timeout: float) -> None:
    started = time.monotonic()
    try:
        result = subprocess.run(
            argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ServiceError(f"{description} did not finish within {timeout:.0f}s") from None
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ServiceError(f"{description} failed (exit {result.returncode}):\n{tail}")
    _log(f"{description}: done in {time.monotonic() - started:.1f}s")


def up(settings: CloudSettings, selected: set[str]) -> None:
    """Start the selected groups (or single services, by name), in dependency order."""
    prepare_state(settings)
    env_file = write_env_file(settings)
    env = service_env(settings)
    services = catalogue(settings)
    groups = [g for g in GROUPS if g in selected or any(s.name in selected for s in services[g])]
    for group in groups:
        if group == "airflow":
            _run_step("airflow db migrate", [sys.executable, "-m", "airflow", "db", "migrate"], env, 300)
        for service in services[group]:
            if group in selected or service.name in selected:
                start(service, settings, env, _log)
        if group == "snowflake":
            _run_step(
                "warehouse bootstrap",
                [sys.executable, "-m", "include.warehouse.bootstrap", "--stage-url", settings.stage_url],
                env,
                120,
            )
    _log(f"up: {', '.join(sorted(selected))}; connections in {env_file}")


def down(settings: CloudSettings) -> None:
    services = catalogue(settings)
    for group in reversed(GROUPS):  # Airflow first: it talks to the others while stopping
        stop(services[group], settings, _log)
    _log("down: nothing left running")


def status(settings: CloudSettings) -> int:
    unhealthy = 0
    for group in GROUPS:
        for service in catalogue(settings)[group]:
            pid = service.pidfile(settings).read_live_pid()
            where = f"port {service.port}" if service.port else "no port"
            if pid is None:
                state = "stopped"
                unhealthy += 1
            else:
                problem = service.health()
                state = "healthy" if problem is None else f"UNHEALTHY: {problem}"
                unhealthy += problem is not None
            print(f"{service.name:<24} {where:<11} pid {pid or '-':<8} {state}")
    return 1 if unhealthy else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.localcloud", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start the local cloud (idempotent)")
    up_parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated groups ({', '.join(GROUPS)}) or service names to start",
    )
    sub.add_parser("down", help="stop every service this local cloud started")
    sub.add_parser("status", help="health of each service; exit 1 if any is down")
    args = parser.parse_args(argv)

    settings = load_settings()
    trust_local_ca(settings)
    if args.command == "up":
        selected = {name.strip() for name in args.only.split(",") if name.strip()}
        known = set(GROUPS) | {s.name for group in catalogue(settings).values() for s in group}
        unknown = sorted(selected - known)
        if unknown:
            parser.error(f"unknown service or group: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        try:
            up(settings, selected)
        except ServiceError as exc:
            _log(f"ERROR: {exc}")
            return 1
        return 0
    if args.command == "down":
        down(settings)
        return 0
    return status(settings)


if __name__ == "__main__":
    raise SystemExit(main())
