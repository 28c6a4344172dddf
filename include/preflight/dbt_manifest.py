"""What the marts promise, read from the dbt manifest: each column's contract type and its accepted values.

The preflight derives the picklist values it checks from the marts' ``accepted_values`` tests, and the field
types it expects from the marts' enforced contracts, so a fork that changes a value or a column is checked
without touching the preflight. The manifest is the one ``make setup`` and the image build write with
``dbt parse`` (``include/transform/cosmos_config.py`` renders the DAG from the same file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from include.transform.paths import MANIFEST_PATH


def table_key(relation: str) -> str:
    """``SCHEMA.TABLE`` of a relation name, upper-cased: how a mart is matched across databases and quoting."""
    parts = [p.strip().strip('"') for p in relation.split(".")]
    return ".".join(parts[-2:]).upper()


@dataclass(frozen=True)
class MartPromises:
    """Per mart (``SCHEMA.TABLE``), per column (upper case): its contract type and accepted values."""

    contract_types: dict[str, dict[str, str]] = field(default_factory=dict)
    accepted_values: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def contract_type(self, model: str, column: str) -> str | None:
        return self.contract_types.get(table_key(model), {}).get(column.upper())

    def values(self, model: str, column: str) -> tuple[str, ...] | None:
        """The values the column may hold (its ``accepted_values`` test), or None when it has no such test."""
        return self.accepted_values.get(table_key(model), {}).get(column.upper())


def mart_promises(manifest: dict[str, Any]) -> MartPromises:
    """Contract types and ``accepted_values`` of every model in the manifest, keyed by ``SCHEMA.TABLE``."""
    models: dict[str, str] = {}  # unique_id -> SCHEMA.TABLE
    types: dict[str, dict[str, str]] = {}
    for unique_id, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") != "model":
            continue
        key = f"{node.get('schema', '')}.{node.get('alias') or node.get('name', '')}".upper()
        models[unique_id] = key
        types[key] = {
            name.upper(): str(column["data_type"])
            for name, column in (node.get("columns") or {}).items()
            if column.get("data_type")
        }
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    for node in manifest.get("nodes", {}).values():
        metadata = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or metadata.get("name") != "accepted_values":
            continue
        if not (node.get("config") or {}).get("enabled", True):
            continue
        model = models.get(node.get("attached_node") or "")
        kwargs = metadata.get("kwargs") or {}
        column = kwargs.get("column_name") or node.get("column_name")
        if model and column:
            values.setdefault(model, {})[str(column).upper()] = tuple(str(v) for v in kwargs.get("values") or ())
    return MartPromises(types, values)


def load_mart_promises(path: Path = MANIFEST_PATH) -> MartPromises:
    """The manifest's promises; FileNotFoundError naming how to build it when it is missing."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make setup` (or `dbt parse --project-dir dbt_project`)")
    return mart_promises(json.loads(path.read_text()))
