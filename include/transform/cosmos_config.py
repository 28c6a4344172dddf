"""Cosmos settings for the dbt project, shared by every DAG that renders it.

The project is rendered from the manifest that ``make setup``, CI and the image build write with
``dbt parse`` (LoadMode.DBT_MANIFEST): parsing a DAG file then reads one JSON file instead of running dbt.
The dbt profile comes from the Airflow Snowflake connection, so credentials live in one place.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, LoadMode, TestBehavior, TestIndirectSelection

from include.connections import SNOWFLAKE
from include.settings import warehouse_names
from include.transform.dbt_build import add_build_task, node_converters
from include.transform.paths import DBT_PROJECT_DIR, MANIFEST_PATH
from include.transform.snowflake_profile import SnowflakeConnectionProfileMapping

# Two names that happen to agree: the dbt project's `name` and its `profile` (dbt_project.yml; the profile is also
# the top-level key of profiles.yml). Rename either there and here together.
PROJECT_NAME = "operational_pipeline"
PROFILE_NAME = "operational_pipeline"
# The target Cosmos names the profile it writes (dbt's `target.name`); no model or macro branches on it.
TARGET_NAME = "prod"
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
    config = ProjectConfig(
        dbt_project_path=DBT_PROJECT_DIR,
        manifest_path=MANIFEST_PATH,
        project_name=PROJECT_NAME,
    )
    # Cosmos wraps every manifest path in Airflow's ObjectStoragePath (for manifests on S3 or GCS): for a local
    # file that imports fsspec in each DAG parse (~0.5 s of a ~1.5 s parse). Its reader needs open() and exists().
    config.manifest_path = MANIFEST_PATH
    return config


def profile_config() -> ProfileConfig:
    """The profile Cosmos writes from the Airflow Snowflake connection, the same target wherever it runs: only the
    connection differs. Password or key pair: whatever the connection holds (include/transform/snowflake_profile.py).
    """
    return ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=TARGET_NAME,
        profile_mapping=SnowflakeConnectionProfileMapping(
            conn_id=SNOWFLAKE,
            # One thread for the node tasks: each runs a single node, so more would only list relations
            # concurrently at start-up, in a freshly forked task process, where the Snowflake connector's threads
            # can wait on each other forever. The one `dbt build` runs with BUILD_THREADS.
            profile_args={"database": warehouse_names().analytics_database, "schema": DEFAULT_SCHEMA, "threads": 1},
        ),
    )


# The dbt selection activate_salesforce renders and builds: everything in the project but dbt unit tests, which dbt
# recommends running in development and CI only (their inputs are fixed:
# https://docs.getdbt.com/docs/build/unit-tests#when-to-run-unit-tests); `make test` runs them with the project.
ACTIVATION_SELECT = ["path:seeds", "path:models"]
ACTIVATION_EXCLUDE = ["resource_type:exposure", "resource_type:unit_test"]
# dbt's own parallelism inside the one `dbt build` (the node tasks wait in the triggerer, not on workers).
BUILD_THREADS = 4


class DbtExecution(StrEnum):
    """How activation runs dbt, chosen by the ``DBT_EXECUTION`` environment variable (docs/cosmos-execution-mode.md
    has the measured trade-off)."""

    #: The default: one `dbt build` task, and one task per node that reports the node's result from the triggerer
    #: (include/transform/dbt_build.py). Fastest; relies on Cosmos internals (include/upstream_internals.py).
    BUILD_AND_REPORT = "build_and_report"
    #: Cosmos's own ExecutionMode.WATCHER (stable since Cosmos 1.15): Cosmos's producer runs one `dbt build`, a
    #: deferrable watcher sensor per node. Upstream code only; slower, and a retry re-runs a node's model alone.
    COSMOS_WATCHER = "cosmos_watcher"


def dbt_execution() -> DbtExecution:
    raw = os.environ.get("DBT_EXECUTION", DbtExecution.BUILD_AND_REPORT.value)
    try:
        return DbtExecution(raw)
    except ValueError:
        choices = ", ".join(mode.value for mode in DbtExecution)
        raise ValueError(f"DBT_EXECUTION={raw!r} is not one of: {choices}") from None


def execution_config(execution: DbtExecution = DbtExecution.BUILD_AND_REPORT) -> ExecutionConfig:
    if execution is DbtExecution.COSMOS_WATCHER:
        return ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            dbt_executable_path=dbt_executable(),
            # As measured (docs/cosmos-execution-mode.md): a test task's retry runs the model's own tests.
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        )
    # BUILD_AND_REPORT renders with Cosmos's LOCAL mode, but no LOCAL task runs: node_converters (render_config)
    # replace every node's task with ours, and LOCAL is only what a node task's retry runs (`dbt build --select`).
    return ExecutionConfig(
        execution_mode=ExecutionMode.LOCAL,
        dbt_executable_path=dbt_executable(),
        # A node task's retry (`dbt build --select <node>`) runs the node's tests, including a relationships test
        # whose other node is upstream of it: the same tests the node's task reports from the build.
        test_indirect_selection=TestIndirectSelection.BUILDABLE,
    )


def render_config(
    select: list[str], exclude: list[str] | None = None, execution: DbtExecution = DbtExecution.BUILD_AND_REPORT
) -> RenderConfig:
    """BUILD_AND_REPORT: one task per model or seed with its tests (TestBehavior.BUILD), relationships tests
    included. COSMOS_WATCHER has no build-per-node task: a task per model, then one per model's tests
    (TestBehavior.AFTER_EACH), a relationships test between two models in its own task."""
    watcher = execution is DbtExecution.COSMOS_WATCHER
    config = RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select,
        exclude=exclude or [],
        test_behavior=TestBehavior.AFTER_EACH if watcher else TestBehavior.BUILD,
        should_detach_multiple_parents_tests=watcher,
        emit_datasets=False,
    )
    if not watcher:
        config.node_converters = node_converters(config)
    return config


def dbt_task_group(
    group_id: str,
    select: list[str],
    exclude: list[str],
    default_args: dict[str, Any],
    execution: DbtExecution | None = None,
    **build_task_args: Any,
) -> DbtTaskGroup:
    """The dbt project as a task group, run as ``execution`` says (default: ``DBT_EXECUTION``): one `dbt build` task
    and one task per dbt node. ``build_task_args`` go to the task that runs `dbt build` (e.g. ``pre_execute``).
    Call it inside a DAG."""
    execution = execution or dbt_execution()
    config = execution_config(execution)
    if execution is DbtExecution.COSMOS_WATCHER:
        # Cosmos's producer runs the build; Cosmos does not re-run a retried producer, so it gets none.
        config.setup_operator_args = {"retries": 0, **build_task_args}
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=project_config(),
        profile_config=profile_config(),
        execution_config=config,
        render_config=render_config(select, exclude, execution),
        operator_args={"install_deps": False},
        default_args=default_args,
    )
    if execution is DbtExecution.BUILD_AND_REPORT:
        add_build_task(
            group,
            select=select,
            exclude=exclude,
            threads=BUILD_THREADS,
            project_dir=str(DBT_PROJECT_DIR),
            profile_config=profile_config(),
            dbt_executable_path=dbt_executable(),
            install_deps=False,
            **{**default_args, **build_task_args},
        )
    return group
