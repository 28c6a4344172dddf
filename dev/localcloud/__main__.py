"""Command line of the local cloud: ``python -m dev.localcloud up|down|status|logs|prepare|init|health``.

``make up``/``make down``/``make status``/``make logs`` call this. ``up`` is idempotent, reports a busy port
instead of ignoring it, remembers the port overrides it was given (settings.py), and waits for every health
check, showing the end of a service's log when one fails; ``down`` stops every process group it started.
``prepare``, ``init`` and ``health`` are the steps of ``up`` on their own, for launchers that start the
services themselves (docker-compose.yaml): the same code, so both launchers stay one code path.
"""

from __future__ import annotations

import argparse
import subprocess
import time

from dev.localcloud.env import write_env_file
from dev.localcloud.logs import follow
from dev.localcloud.services import (
    GROUPS,
    ServiceError,
    SetupStep,
    catalogue,
    prepare_state,
    service_env,
    setup_steps,
    start,
    stop,
    trust_local_ca,
)
from dev.localcloud.settings import REPO_ROOT, CloudSettings, load_settings, remember_ports


def _log(message: str) -> None:
    print(f"[localcloud] {message}", flush=True)


def _run_step(step: SetupStep, env: dict[str, str]) -> None:
    started = time.monotonic()
    try:
        result = subprocess.run(
            step.argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=step.timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ServiceError(f"{step.description} did not finish within {step.timeout:.0f}s") from None
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ServiceError(f"{step.description} failed (exit {result.returncode}):\n{tail}")
    _log(f"{step.description}: done in {time.monotonic() - started:.1f}s")


def up(settings: CloudSettings, selected: set[str]) -> None:
    """Start the selected groups (or single services, by name), in dependency order."""
    remembered = remember_ports(settings.home)
    if remembered:
        given = " ".join(f"{name}={port}" for name, port in remembered.items())
        _log(f"remembered {given} in {settings.ports_file}: later commands read it there, no need to repeat it")
    prepare_state(settings)
    env_file = write_env_file(settings)
    env = service_env(settings)
    services = catalogue(settings)
    steps = setup_steps(settings)
    groups = [g for g in GROUPS if g in selected or any(s.name in selected for s in services[g])]
    for group in groups:
        for step in steps:
            if (step.when, step.group) == ("before", group):
                _run_step(step, env)
        for service in services[group]:
            if group in selected or service.name in selected:
                start(service, settings, env, _log)
        for step in steps:
            if (step.when, step.group) == ("after", group):
                _run_step(step, env)
    _log(f"up: {', '.join(sorted(selected))}; connections in {env_file}")


def down(settings: CloudSettings) -> None:
    services = catalogue(settings)
    for group in reversed(GROUPS):  # Airflow first: it talks to the others while stopping
        stop(services[group], settings, _log)
    _log("down: nothing left running")


def prepare(settings: CloudSettings) -> None:
    """Directories, certificates and Airflow's secrets, before any service starts (``up`` does it first)."""
    prepare_state(settings)
    _log(f"prepare: state under {settings.home}")


def init(settings: CloudSettings) -> None:
    """Every setup step, in order, once the services they need are healthy (compose's init service)."""
    env = service_env(settings)
    for step in setup_steps(settings):
        _run_step(step, env)
    _log("init: done")


def health(settings: CloudSettings, name: str) -> int:
    """One service's health check, as ``up`` waits for it: exit 0 if healthy (compose's healthcheck)."""
    service = next(s for group in catalogue(settings).values() for s in group if s.name == name)
    problem = service.health()
    print(f"{name}: {problem or 'healthy'}")
    return 1 if problem else 0


def status(settings: CloudSettings) -> int:
    unhealthy = 0
    for group in GROUPS:
        for service in catalogue(settings)[group]:
            pid = service.pidfile(settings).read_live_pid()
            where = "port " + ",".join(map(str, service.ports)) if service.ports else "no port"
            if pid is None:
                state = "stopped"
                unhealthy += 1
            else:
                problem = service.health()
                state = "healthy" if problem is None else f"UNHEALTHY: {problem}"
                unhealthy += problem is not None
            print(f"{service.name:<24} {where:<11} pid {pid or '-':<8} {state}")
    return 1 if unhealthy else 0


def logs(settings: CloudSettings, selected: list[str], lines: int, keep_following: bool) -> int:
    """Print the end of each selected service's log (all by default), then follow them until interrupted."""
    files = {
        service.name: service.log_file(settings)
        for group, members in catalogue(settings).items()
        for service in members
        if not selected or service.name in selected or group in selected
    }
    if not any(path.exists() for path in files.values()):
        print(f"no logs under {settings.log_dir} yet: make up starts the services that write them")
        return 1
    try:
        for line in follow(files, lines=lines, keep_following=lambda: keep_following):
            print(line, flush=True)
    except KeyboardInterrupt:
        pass
    return 0


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
    logs_parser = sub.add_parser("logs", help="show the end of the services' logs and follow them")
    logs_parser.add_argument("services", nargs="*", help="service or group names (default: every service)")
    logs_parser.add_argument("-n", "--lines", type=int, default=20, help="lines of each log to show first")
    logs_parser.add_argument("--no-follow", action="store_true", help="print the last lines and stop")
    sub.add_parser("prepare", help="create state directories, certificates and Airflow's secrets")
    sub.add_parser("init", help="run the setup steps (airflow db migrate, warehouse bootstrap)")
    settings = load_settings()
    names = sorted(s.name for group in catalogue(settings).values() for s in group)
    health_parser = sub.add_parser("health", help="check one service once; exit 1 if it is not healthy")
    health_parser.add_argument("service", choices=names)
    args = parser.parse_args(argv)

    known = set(GROUPS) | set(names)
    if args.command == "logs":
        unknown = sorted(set(args.services) - known)
        if unknown:
            parser.error(f"unknown service or group: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return logs(settings, args.services, args.lines, keep_following=not args.no_follow)
    trust_local_ca(settings)
    if args.command == "up":
        selected = {name.strip() for name in args.only.split(",") if name.strip()}
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
    if args.command == "prepare":
        prepare(settings)
        return 0
    if args.command == "init":
        try:
            init(settings)
        except ServiceError as exc:
            _log(f"ERROR: {exc}")
            return 1
        return 0
    if args.command == "health":
        return health(settings, args.service)
    return status(settings)


if __name__ == "__main__":
    raise SystemExit(main())
