"""dbt docs for the local cloud, shown inside the Airflow UI by Cosmos's Airflow 3 plugin (docs/dbt-docs.md).

Cosmos's plugin (Airflow >= 3.1) serves generated dbt docs sites under ``/cosmos/<slug>/`` and adds each to the
UI's *Browse* menu; it reads ``[cosmos] dbt_docs_projects`` (``AIRFLOW__COSMOS__DBT_DOCS_PROJECTS``), a JSON object
``{slug: {"dir", "conn_id", "index", "name"}}``, when the API server starts. ``make demo`` generates the site after
its run (``dbt docs generate`` needs the warehouse for the catalog) into ``<LOCALCLOUD_HOME>/dbt_docs``, the
directory the local cloud's Airflow is configured with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dev.localcloud.settings import REPO_ROOT, CloudSettings
from include.transform.paths import DBT_PROJECT_DIR

# The page's path under /cosmos/; env.py imports this module, so nothing here imports Cosmos or Airflow.
SLUG = "operational_pipeline"
VIEW_NAME = "dbt Docs"  # the menu entry; the UI routes the embedded page by it (/plugin/dbt-docs)
# The files Cosmos serves: the page, and the two artifacts the page fetches next to itself.
SITE_FILES = ("index.html", "manifest.json", "catalog.json")
DBT = Path(sys.executable).with_name("dbt")  # the dbt of the local virtualenv (`make setup`)
GENERATE_TIMEOUT = 600.0  # a warehouse error makes the Snowflake connector retry for minutes: bound it


class DbtDocsError(RuntimeError):
    pass


def docs_dir(settings: CloudSettings) -> Path:
    return settings.home / "dbt_docs"


def cosmos_projects(directory: Path | str, conn_id: str | None = None) -> str:
    """The value of ``AIRFLOW__COSMOS__DBT_DOCS_PROJECTS`` for one site in ``directory`` (a path the API server
    reads, or an object storage URL such as ``s3://bucket/dbt_docs`` read through ``conn_id``)."""
    project: dict[str, str] = {"dir": str(directory), "name": VIEW_NAME}
    if conn_id:
        project["conn_id"] = conn_id
    return json.dumps({SLUG: project}, separators=(",", ":"))


def site_url(airflow_base: str) -> str:
    """The docs page itself, as the plugin serves it (what the embedded view frames)."""
    return f"{airflow_base.rstrip('/')}/cosmos/{SLUG}/dbt_docs_index.html"


@dataclass(frozen=True)
class GeneratedDocs:
    directory: Path
    seconds: float


def generate(settings: CloudSettings, cloud_env: Mapping[str, str]) -> GeneratedDocs:
    """``dbt docs generate`` against the local warehouse, written where the local Airflow serves it from.

    ``cloud_env`` is the local cloud's generated environment (its CA bundle, ``DBT_TARGET=local``); the project's
    own target directory (the manifest Cosmos renders the DAG from) is left alone.
    """
    target = docs_dir(settings)
    env = {
        **os.environ,
        **cloud_env,
        "LOCALCLOUD_SNOWFLAKE_PORT": str(settings.snowflake_port),  # profiles.yml's `local` target reads it
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }
    command = [
        str(DBT),
        "docs",
        "generate",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        env.get("DBT_TARGET", "local"),
        "--target-path",
        str(target),
        "--quiet",
    ]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=GENERATE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise DbtDocsError(f"dbt docs generate did not finish within {GENERATE_TIMEOUT:.0f}s") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise DbtDocsError("dbt docs generate failed: " + " | ".join(output[-5:]))
    missing = [name for name in SITE_FILES if not (target / name).is_file()]
    if missing:
        raise DbtDocsError(f"dbt docs generate wrote no {', '.join(missing)} in {target}")
    return GeneratedDocs(target, time.monotonic() - started)


def check_served(airflow_base: str, settings: CloudSettings) -> None:
    """The running API server serves the site: it was started with this setting (it reads it only at start)."""
    import requests

    response = requests.get(site_url(airflow_base), timeout=30)
    if response.status_code != 200:
        raise DbtDocsError(
            f"generated in {docs_dir(settings)}, but the running Airflow answers {response.status_code} for them: "
            "it was started without AIRFLOW__COSMOS__DBT_DOCS_PROJECTS (an older checkout?); `make down && make up`"
        )
