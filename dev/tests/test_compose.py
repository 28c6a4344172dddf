"""docker-compose.yaml, checked without a Docker engine: it is a valid Compose file, everything it names exists,
the Airflow services get every setting and connection the DAGs read, and every service runs the same entry point,
healthcheck and environment as ``python -m dev.localcloud up`` (one code path, two launchers)."""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator

from dev.localcloud import compose as compose_module
from dev.localcloud.certs import SERVER_NAMES
from dev.localcloud.services import catalogue
from include import connections

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())
AIRFLOW_SERVICES = ("init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
CELERY_SERVICES = ("redis", "airflow-worker")
AIRFLOW_AND_WORKER = (*AIRFLOW_SERVICES, "airflow-worker")


@pytest.fixture(autouse=True)
def _defaults_a_user_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker-compose.yaml is checked against the catalogue with the settings' defaults, whatever the test session
    exported for its own cloud (the integration tests use another raw database)."""
    monkeypatch.delenv("SNOWFLAKE_RAW_DATABASE", raising=False)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return compose_module.load_compose()


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def settings():
    return compose_module.compose_settings()


def schema_errors(document: dict[str, Any]) -> list[str]:
    errors = Draft201909Validator(SCHEMA).iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


# --- a valid Compose file ------------------------------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification(compose) -> None:
    assert schema_errors(compose) == []


@pytest.mark.parametrize(
    ("break_it", "why"),
    [
        (lambda doc: doc["services"]["s3"].update(comand=["rclone"]), "unknown service key"),
        (lambda doc: doc["services"]["init"]["depends_on"]["postgres"].update(condition="up"), "unknown condition"),
        (lambda doc: doc["services"]["s3"].update(ports="9000:9000"), "ports must be a list"),
        (lambda doc: doc.update(service=doc["services"]), "unknown top-level key"),
    ],
)
def test_the_schema_rejects_an_invalid_file(compose, break_it, why) -> None:
    broken = copy.deepcopy(compose)
    break_it(broken)
    assert schema_errors(broken), f"the vendored schema accepted a file with an {why}"


def test_the_services_the_issue_asks_for_are_there(services) -> None:
    local_cloud = {s.name for group in catalogue(compose_module.compose_settings()).values() for s in group}
    assert local_cloud <= set(services)
    assert {"postgres", "prepare", "init", *CELERY_SERVICES} <= set(services)
    for name in CELERY_SERVICES:
        assert services[name].get("profiles") == ["celery"], f"{name} belongs to the celery profile only"
    assert not any(services[name].get("profiles") for name in services if name not in CELERY_SERVICES)


# --- everything it names exists ------------------------------------------------------------------------------------


def test_every_build_uses_the_local_cloud_image_whose_files_exist(services) -> None:
    built = {name: service for name, service in services.items() if "build" in service}
    assert set(built) == set(services) - {"postgres", "redis"}
    for name, service in built.items():
        context = REPO_ROOT / service["build"]["context"]
        dockerfile = context / service["build"]["dockerfile"]
        assert context.is_dir(), f"{name}: build context {context} is missing"
        assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
        assert service["build"]["dockerfile"] == compose_module.DOCKERFILE
        assert service["image"] == built["prepare"]["image"], f"{name}: one image for every service"


def test_the_image_keeps_the_local_cloud_in_its_build_context() -> None:
    """BuildKit reads <Dockerfile>.dockerignore instead of the root one, which excludes dev/."""
    ignore = REPO_ROOT / f"{compose_module.DOCKERFILE}.dockerignore"
    patterns = {line.strip().rstrip("/") for line in ignore.read_text().splitlines() if line.strip()}
    patterns = {p for p in patterns if not p.startswith("#")}
    for needed in ("dev", "include", "dags", "plugins", "dbt_project", "requirements-dev.txt", "constraints.txt"):
        assert not any(needed == p or needed.startswith(f"{p}/") for p in patterns), f"{needed} is excluded"
    assert {".git", ".venv", ".local", "dbt_project/target"} <= patterns


def test_the_image_installs_what_make_setup_installs() -> None:
    dockerfile = (REPO_ROOT / compose_module.DOCKERFILE).read_text()
    instructions = re.sub(r"\\\n\s*", " ", dockerfile)
    (workdir,) = re.findall(r"^WORKDIR\s+(\S+)", instructions, re.MULTILINE)
    assert Path(workdir) == compose_module.CONTAINER_REPO_ROOT
    install = next(line for line in instructions.splitlines() if "uv pip install" in line)
    assert "requirements-dev.txt" in install
    assert "local-cloud/requirements.txt" in install, "the local cloud's own packages (dev/requirements.txt)"
    assert "COPY dev/requirements.txt /tmp/requirements/local-cloud/" in instructions
    assert re.search(r"-c \S*/constraints\.txt", install), "the image must install under constraints.txt"
    assert re.search(r"-c \S*/constraints-compose\.txt", install)
    assert "dbt parse" in instructions, "the image builds the dbt manifest Cosmos renders from"
    (venv,) = re.findall(r"VIRTUAL_ENV=(\S+)", instructions)
    airflow_env = compose_module.service_environment(compose_module.load_compose()["services"]["airflow-scheduler"])
    assert Path(airflow_env["DBT_EXECUTABLE_PATH"]).parent == Path(venv) / "bin"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if re.match(r"^[A-Za-z0-9]", line):
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_what_compose_adds_is_pinned_without_touching_constraints() -> None:
    constraints = _pins(REPO_ROOT / "constraints.txt")
    added = _pins(REPO_ROOT / "dev" / "docker" / "constraints-compose.txt")
    wanted = _pins(REPO_ROOT / "dev" / "docker" / "requirements-compose.txt")
    assert added, "constraints-compose.txt pins nothing"
    assert not set(added) & set(constraints), "constraints.txt already pins these: they could disagree"
    for name, version in wanted.items():
        assert version, f"{name} must be pinned exactly in requirements-compose.txt"
        assert added.get(name) == version, f"{name}: requirements-compose.txt and constraints-compose.txt differ"


def _commands(service: dict[str, Any]) -> list[list[str]]:
    found = [service.get("command") or []]
    test = service.get("healthcheck", {}).get("test") or []
    found.append([part for part in test if part not in ("CMD", "CMD-SHELL")])
    return found


def test_every_python_module_a_service_runs_is_a_file_in_the_repo(services) -> None:
    modules = []
    for name, service in services.items():
        for argv in _commands(service):
            modules += [(name, argv[i + 1]) for i, part in enumerate(argv[:-1]) if part == "-m"]
    assert modules
    for name, module in modules:
        if module == "airflow":
            continue  # installed, not ours
        base = REPO_ROOT.joinpath(*module.split("."))
        assert base.with_suffix(".py").is_file() or (base / "__main__.py").is_file(), f"{name}: no module {module}"


def test_every_dependency_exists_and_waits_for_the_right_state(services) -> None:
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            expected = "service_healthy" if "healthcheck" in services[dependency] else "service_completed_successfully"
            assert rule["condition"] == expected, f"{name} -> {dependency}"
            if not services[dependency].get("profiles"):
                continue
            assert set(services[dependency]["profiles"]) <= set(service.get("profiles", [])), (
                f"{name} needs {dependency}, which only runs in its profile"
            )


def test_every_named_volume_is_declared(compose, services) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], f"{name}: volume {source} is not declared"


# --- the same entry points as `make up` -----------------------------------------------------------------------------


def test_commands_healthchecks_and_environment_are_the_catalogues(compose) -> None:
    assert compose_module.differences(compose) == []


def test_the_check_notices_a_drift(compose) -> None:
    drifted = copy.deepcopy(compose)
    drifted["services"]["hightouch"]["command"] = [
        part.replace("snowflake", "localhost") for part in drifted["services"]["hightouch"]["command"]
    ]
    drifted["services"]["airflow-scheduler"]["environment"]["AIRFLOW_CONN_AWS_LANDING"] = "{}"
    problems = compose_module.differences(drifted)
    assert any(p.startswith("hightouch: command") for p in problems)
    assert any("AIRFLOW_CONN_AWS_LANDING" in p for p in problems)


def test_the_compose_settings_are_what_the_containers_load(services, settings) -> None:
    """Inside a container, ``load_settings()`` reads compose's environment: it must give the compose settings."""
    from dev.localcloud.settings import load_settings

    for name in ("prepare", "snowflake", "airflow-scheduler"):
        loaded = load_settings(compose_module.service_environment(services[name]))
        # Only the code's location is not an environment setting: it is where the Dockerfile copies the repo.
        assert loaded.home == settings.home
        assert {**loaded.__dict__, "repo_root": settings.repo_root} == settings.__dict__, name


def test_every_peer_host_is_a_compose_service_with_a_port(settings) -> None:
    listening = {s.name for group in catalogue(settings).values() for s in group if s.port is not None}
    hosts = {field: getattr(settings, field) for field in settings.__dict__ if field.endswith("_host")}
    hosts.pop("bind_host")
    assert len(hosts) == len(listening)
    for field, host in hosts.items():
        assert host in listening, f"{field}={host!r} is not a compose service that listens"


def test_tls_certificates_hold_the_compose_host_names(settings) -> None:
    assert settings.snowflake_host in SERVER_NAMES
    assert settings.salesforce_host in SERVER_NAMES


def test_ports_are_published_on_loopback_only(services, settings) -> None:
    by_name = {s.name: s for group in catalogue(settings).values() for s in group}
    published = {}
    for name, service in services.items():
        for mapping in service.get("ports", []):
            host_ip, host_port, container_port = compose_module.interpolate(mapping).split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {mapping} beyond this machine"
            assert int(container_port) == by_name[name].port, f"{name}: container port {container_port}"
            published[name] = int(host_port)
    assert set(published) == {name for name, s in by_name.items() if s.port is not None}


def test_the_s3_files_are_the_snowflake_stage(services, settings) -> None:
    def mounts(name: str) -> dict[str, str]:
        return {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}

    s3_dir = str(settings.s3_dir)
    assert mounts("s3")[s3_dir] == mounts("snowflake")[s3_dir] == mounts("prepare")[s3_dir]
    # The stand-in reads the s3:// stage from the directory the S3 stand-in serves: the one it is given.
    command = services["snowflake"]["command"]
    assert command[command.index("--s3-dir") + 1] == s3_dir
    assert settings.stage_url == f"s3://{settings.bucket}/"
    assert mounts("prepare")[str(settings.cert_dir)] == mounts("snowflake")[str(settings.cert_dir)]
    for name in AIRFLOW_SERVICES:
        assert mounts(name)[str(settings.secrets_dir)] == mounts("prepare")[str(settings.secrets_dir)]


def test_the_executor_is_local_unless_the_shell_says_celery(services) -> None:
    raw = services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"]
    assert raw == "${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
    assert "AIRFLOW__CELERY__BROKER_URL" in services["airflow-worker"]["environment"]


def test_interpolation_needs_a_default() -> None:
    assert compose_module.interpolate("${X:-a b}/$$HOME") == "a b/$HOME"
    with pytest.raises(ValueError, match="no default"):
        compose_module.interpolate("${X}")


# --- every setting and connection the DAGs read ---------------------------------------------------------------------


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", None) == "os"


def _env_reads(path: Path, root: Path = REPO_ROOT) -> tuple[dict[str, str | None], list[str]]:
    """Variable -> its default (None: none or not a literal) read in ``path``, and reads it cannot name.

    A read through a helper's parameter (``def f(name): os.environ.get(name, "")``) is resolved at the helper's
    calls in the same module, so a variable cannot hide behind one.
    """
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    reads: dict[str, str | None] = {}
    unresolved: list[str] = []
    through_helpers: dict[str, tuple[int, str | None]] = {}

    def default_of(call: ast.Call) -> str | None:
        if len(call.args) > 1 and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str):
            return call.args[1].value
        return None

    for node in ast.walk(tree):
        key: ast.AST | None = None
        default: str | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            is_get = node.func.attr == "get" and _is_environ(node.func.value)
            is_getenv = node.func.attr == "getenv" and getattr(node.func.value, "id", None) == "os"
            if (is_get or is_getenv) and node.args:
                key, default = node.args[0], default_of(node)
        elif isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(node.ctx, ast.Load):
            key = node.slice
        if key is None:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            reads[key.value] = default
            continue
        function = node
        while function in parents and not isinstance(function, ast.FunctionDef):
            function = parents[function]
        params = [a.arg for a in function.args.args] if isinstance(function, ast.FunctionDef) else []
        if isinstance(key, ast.Name) and key.id in params:
            through_helpers[function.name] = (params.index(key.id), default)
        else:
            unresolved.append(f"{path.relative_to(root)}:{node.lineno}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in through_helpers:
            position, default = through_helpers[node.func.id]
            argument = node.args[position] if len(node.args) > position else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                reads[argument.value] = default
            else:
                unresolved.append(f"{path.relative_to(root)}:{node.lineno}")
    return reads, unresolved


def _pipeline_env_reads() -> dict[str, str | None]:
    reads: dict[str, str | None] = {}
    unresolved: list[str] = []
    for path in sorted([*(REPO_ROOT / "dags").rglob("*.py"), *(REPO_ROOT / "include").rglob("*.py")]):
        found, missed = _env_reads(path)
        reads.update(found)
        unresolved += missed
    assert unresolved == [], f"environment reads whose variable name is not a literal: {unresolved}"
    return reads


def test_the_env_scan_finds_reads_direct_and_through_helpers(tmp_path) -> None:
    module = tmp_path / "knobs.py"
    module.write_text(
        "import os\n"
        "A = os.environ.get('DIRECT', 'd')\n"
        "B = os.environ['REQUIRED']\n"
        "def choice(name):\n    return os.environ.get(name, '')\n"
        "C = choice('THROUGH_HELPER')\n"
    )
    reads, unresolved = _env_reads(module, root=tmp_path)
    assert reads == {"DIRECT": "d", "REQUIRED": None, "THROUGH_HELPER": ""}
    assert unresolved == []


@pytest.mark.parametrize("name", AIRFLOW_AND_WORKER)
def test_every_setting_the_dags_read_is_set_with_the_dags_default(services, name) -> None:
    reads = _pipeline_env_reads()
    assert {"LANDING_BUCKET", "SNOWFLAKE_RAW_DATABASE"} <= set(reads)
    raw = services[name]["environment"]
    for variable, default in reads.items():
        assert variable in raw, f"{name}: the DAGs read {variable}, compose does not set it"
        match = re.fullmatch(rf"\$\{{{variable}:-(?P<default>[^}}]*)\}}", str(raw[variable]))
        if match and default is not None:
            assert match.group("default") == default, f"{name}: {variable} defaults differently from the code"


@pytest.mark.parametrize("name", AIRFLOW_AND_WORKER)
def test_every_connection_the_dags_use_is_set(services, name) -> None:
    env = compose_module.service_environment(services[name])
    for conn_id in connections.ALL:
        value = json.loads(env[connections.env_var_name(conn_id)])
        assert value["conn_type"], f"{name}: {conn_id} has no type"
