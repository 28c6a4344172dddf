"""Cosmos settings for the dbt project, shared by every DAG that renders it.

The project is rendered from the manifest that ``make setup``, CI and the image build write with
``dbt parse`` (LoadMode.DBT_MANIFEST): parsing a DAG file then reads one JSON file instead of running dbt.
The dbt profile comes from the Airflow Snowflake connection, so credentials live in one place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, LoadMode, TestBehavior
from cosmos.profiles import SnowflakeUserPasswordProfileMapping

from include.connections import SNOWFLAKE
from include.settings import warehouse_names

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
    """The `local` target turns on the stand-in's compatibility macros; anything else is real Snowflake."""
    return ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=os.environ.get("DBT_TARGET", "prod"),
        profile_mapping=SnowflakeUserPasswordProfileMapping(
            conn_id=SNOWFLAKE,
            profile_args={"database": warehouse_names().analytics_database, "schema": DEFAULT_SCHEMA},
        ),
    )


def execution_config(mode: ExecutionMode = ExecutionMode.LOCAL) -> ExecutionConfig:
    return ExecutionConfig(execution_mode=mode, dbt_executable_path=dbt_executable())


def render_config(select: list[str], exclude: list[str] | None = None) -> RenderConfig:
    # Tests run right after the model they check: a failing test stops everything downstream of it.
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select,
        exclude=exclude or [],
        test_behavior=TestBehavior.AFTER_EACH,
    )
