"""Cosmos settings for the dbt project, shared by every DAG that renders it.

The project is rendered from the manifest that ``make setup``, CI and the image build write with
``dbt parse`` (LoadMode.DBT_MANIFEST): parsing a DAG file then reads one JSON file instead of running dbt.
The dbt profile comes from the Airflow Snowflake connection, so credentials live in one place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TypeVar

from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

from include.connections import SNOWFLAKE
from include.settings import warehouse_names
from include.transform.snowflake_profile import SnowflakeConnectionProfileMapping

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
PROFILE_NAME = "operational_pipeline"
# The schema dbt would use for a model without one; every model here names its own (see generate_schema_name).
DEFAULT_SCHEMA = "DBT"


class ManifestMissingError(FileNotFoundError):
    pass


def dbt_executable() -> str:
    """dbt in its own virtualenv in the image (DBT_EXECUTABLE_PATH), else next to this Python."""
    return os.environ.get("DBT_EXECUTABLE_PATH") or str(Path(sys.executable).with_name("dbt"))


def project_config() -> ProjectConfig:
    if not MANIFEST_PATH.exists():
        raise ManifestMissingError(
            f"{MANIFEST_PATH} is missing: run `make setup` (or `dbt parse --project-dir dbt_project`) to build it"
        )
    return ProjectConfig(
        dbt_project_path=DBT_PROJECT_DIR,
        manifest_path=MANIFEST_PATH,
        project_name=PROFILE_NAME,
    )


def profile_config() -> ProfileConfig:
    """The `local` target turns on the stand-in's compatibility macros; anything else is real Snowflake.
    Password or key pair: whatever the connection holds (include/transform/snowflake_profile.py)."""
    return ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=os.environ.get("DBT_TARGET", "prod"),
        profile_mapping=SnowflakeConnectionProfileMapping(
            conn_id=SNOWFLAKE,
            # One dbt node per Airflow task, so dbt's own thread pool only ran the start-up relation listing
            # concurrently, in a freshly forked process; twice that hung forever on the local cloud (threads idle in
            # the Snowflake connector), so one thread.
            profile_args={"database": warehouse_names().analytics_database, "schema": DEFAULT_SCHEMA, "threads": 1},
        ),
    )


# Measured in docs/cosmos-execution-mode.md. The env vars exist to re-run that comparison, not to tune production.
EXECUTION_MODES = {"local": ExecutionMode.LOCAL, "watcher": ExecutionMode.WATCHER}
DEFAULT_EXECUTION_MODE = "local"
# Unset: Cosmos picks dbtRunner when dbt imports in Airflow's Python (local venv), else a subprocess (the image).
INVOCATION_MODES = {"dbt_runner": InvocationMode.DBT_RUNNER, "subprocess": InvocationMode.SUBPROCESS}
T = TypeVar("T")


def _choice(name: str, choices: dict[str, T], default: str | None) -> T | None:
    raw = os.environ.get(name, "").strip().lower() or default
    if raw is None:
        return None
    if raw not in choices:
        raise ValueError(f"{name}={raw!r}: expected one of {', '.join(sorted(choices))}")
    return choices[raw]


def execution_config(mode: ExecutionMode | None = None) -> ExecutionConfig:
    """LOCAL (one dbt call per model and per model's tests) unless COSMOS_EXECUTION_MODE says otherwise."""
    mode = mode or _choice("COSMOS_EXECUTION_MODE", EXECUTION_MODES, DEFAULT_EXECUTION_MODE)
    return ExecutionConfig(
        execution_mode=mode,
        invocation_mode=_choice("COSMOS_INVOCATION_MODE", INVOCATION_MODES, None),
        dbt_executable_path=dbt_executable(),
        # WATCHER: the producer (one `dbt build`) skips itself when retried, ending "skipped" and racing the
        # test tasks' retries; without a retry it ends "failed" and each watcher task's retry re-runs dbt for
        # its own node, so only the real culprit stays failed (docs/cosmos-execution-mode.md).
        setup_operator_args={"retries": 0} if mode == ExecutionMode.WATCHER else None,
        # A model's test task runs only the tests whose every parent is built by then; a test between
        # two models (relationships) runs in its own task after both (see render_config).
        test_indirect_selection=TestIndirectSelection.CAUTIOUS,
    )


def render_config(select: list[str], exclude: list[str] | None = None) -> RenderConfig:
    # Tests run right after the model they check: a failing test stops everything downstream of it.
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select,
        exclude=exclude or [],
        test_behavior=TestBehavior.AFTER_EACH,
        should_detach_multiple_parents_tests=True,
    )
