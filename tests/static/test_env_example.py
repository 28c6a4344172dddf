""".env.example lists every connection and setting the pipeline reads, with placeholders, never secrets.

Copied to .env and filled in, it is what `astro dev start` needs to come up with its connections in place; the
same names are the Deployment's environment variables (docs/deploy-to-astro.md).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from include import connections
from tests.conftest import REPO_ROOT
from tests.static.test_deployment_files import excluded_by_dockerignore

ENV_EXAMPLE = REPO_ROOT / ".env.example"
# Read by the code but deliberately not in .env.example, each with its reason.
NOT_IN_ENV_EXAMPLE = {
    "DBT_EXECUTABLE_PATH": "the Dockerfile sets it to the image's dbt virtualenv",
}
PLACEHOLDER = re.compile(r"<[^<>]+>")


def env_example() -> dict[str, tuple[str, bool]]:
    """name -> (value, active); a commented-out ``# NAME=value`` line is listed but inactive (optional)."""
    entries = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            entries[match.group(2)] = (match.group(3), match.group(1) is None)
    return entries


def env_reads(path: Path) -> set[str]:
    """Environment variables a module reads: os.environ.get / os.getenv / os.environ[...] with a literal name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {"os.environ.get", "os.getenv"} and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def pipeline_env_reads() -> dict[str, set[str]]:
    """name -> files reading it, over dags/ and include/ (what runs in the image)."""
    reads: dict[str, set[str]] = {}
    for path in [*(REPO_ROOT / "dags").rglob("*.py"), *(REPO_ROOT / "include").rglob("*.py")]:
        for name in env_reads(path):
            if not name.startswith("AIRFLOW__"):  # Airflow's own options: the Runtime and Astro set those
                reads.setdefault(name, set()).add(str(path.relative_to(REPO_ROOT)))
    return reads


def connection_ids() -> set[str]:
    return {
        value
        for name, value in vars(connections).items()
        if name.isupper() and isinstance(value, str)
    }  # fmt: skip


def test_every_setting_include_settings_reads_is_listed_and_active() -> None:
    settings = env_reads(REPO_ROOT / "include" / "settings.py")
    assert settings, "include/settings.py reads no environment variable: the scan is broken"
    entries = env_example()
    missing = {name for name in settings if not entries.get(name, ("", False))[1]}
    assert missing == set(), f"add to .env.example: {sorted(missing)}"


def test_every_environment_variable_the_pipeline_reads_is_listed() -> None:
    reads = pipeline_env_reads()
    listed = set(env_example())
    missing = {name: sorted(files) for name, files in reads.items() if name not in listed | set(NOT_IN_ENV_EXAMPLE)}
    assert missing == {}, "add to .env.example (or NOT_IN_ENV_EXAMPLE, with the reason)"


def test_the_exceptions_are_still_read() -> None:
    assert set(NOT_IN_ENV_EXAMPLE) <= set(pipeline_env_reads()), "drop exceptions the code no longer reads"


def test_every_connection_id_has_its_variable_and_the_required_ones_are_active() -> None:
    entries = env_example()
    ids = connection_ids()
    assert set(connections.ALL) <= ids
    missing = {conn_id for conn_id in ids if connections.env_var_name(conn_id) not in entries}
    assert missing == set(), f"add AIRFLOW_CONN_<ID> lines to .env.example for {sorted(missing)}"
    inactive = {conn_id for conn_id in connections.ALL if not entries[connections.env_var_name(conn_id)][1]}
    assert inactive == set(), f"required connections commented out: {sorted(inactive)}"


def test_dags_name_connections_only_through_include_connections() -> None:
    """A literal connection id in a DAG would be one .env.example (and this test) never sees."""
    literals = {}
    for path in [*(REPO_ROOT / "dags").rglob("*.py"), *(REPO_ROOT / "include").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            literal = isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant)
            if literal and (node.arg or "").endswith("conn_id") and node.value.value not in connection_ids():
                literals[f"{path.relative_to(REPO_ROOT)}:{node.value.lineno}"] = node.value.value
    assert literals == {}


def test_every_listed_name_is_read_by_the_pipeline() -> None:
    known = set(pipeline_env_reads()) | {connections.env_var_name(conn_id) for conn_id in connection_ids()}
    stale = set(env_example()) - known
    assert stale == set(), f"nothing reads these any more: {sorted(stale)}"


def test_connections_are_airflow_json_with_placeholders_for_every_credential() -> None:
    problems = []
    for name, (value, _) in env_example().items():
        if not name.startswith("AIRFLOW_CONN_"):
            continue
        assert not value.startswith(("'", '"')), f"{name}: no quotes (docker --env-file keeps them in the value)"
        connection = json.loads(value)
        assert connection.get("conn_type"), name
        secrets = {key: v for key, v in connection.items() if key in {"password", "login"}}
        secrets |= {
            key: v for key, v in (connection.get("extra") or {}).items()
            if re.search(r"key|token|secret|password", key, re.I)
        }  # fmt: skip
        for key, secret in secrets.items():
            if key == "login" and not PLACEHOLDER.search(secret):
                continue  # a service user's name (AIRFLOW) is not a secret
            if not PLACEHOLDER.fullmatch(secret):
                problems.append(f"{name}: {key} must be a <placeholder>")
    assert problems == []


def test_nothing_in_it_looks_like_a_credential() -> None:
    looks_secret = re.compile(r"AKIA[0-9A-Z]{16}|-----BEGIN|xox[bp]-|[A-Za-z0-9+/=_-]{32,}")
    hits = {name: value for name, (value, _) in env_example().items() if looks_secret.search(value)}
    assert hits == {}


def test_it_stays_out_of_the_image_but_in_git() -> None:
    assert excluded_by_dockerignore(".env.example")
    assert excluded_by_dockerignore(".env")


@pytest.mark.parametrize(
    "path", [".env.example", "plugins/README.md", ".astro/test_dag_integrity_default.py", ".astro/config.yaml"]
)
def test_astro_project_files_exist_and_are_not_git_ignored(path: str) -> None:
    assert (REPO_ROOT / path).is_file(), path
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO_ROOT, check=False)
    assert ignored.returncode == 1, f"{path} is git-ignored: a clone would not have it"
