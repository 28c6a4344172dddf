"""Where the dbt project and the manifest it is rendered from live: the one place every reader takes them from.

No imports beyond pathlib: ingestion DAGs, the preflight and lineage read these without importing Cosmos.
"""

from __future__ import annotations

from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# Written by `dbt parse` (make setup, CI and the image build); Cosmos renders the DAGs from it.
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
