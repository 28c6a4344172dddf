"""Typed view of ``syncs.yaml``: the Hightouch syncs, their models and Salesforce mappings.

The same file drives the activation DAG (which syncs to trigger, in which order), the syncs-as-code
contract tests (every mapped column exists in its dbt model's contract) and the local Hightouch emulator.
For a real workspace it is the checklist of what to configure in Hightouch's UI or Terraform.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

SYNCS_FILE = Path(__file__).with_name("syncs.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParentReference(_Strict):
    """A column holding a parent's external id, sent as ``{relationship: {external_id_field: value}}``."""

    column: str
    relationship: str  # e.g. Account, Who, What
    object: str  # the parent's sObject type (needed for polymorphic Who/What)
    external_id_field: str = "Dwh_External_Id__c"


class Sync(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    model: str = Field(description="fully qualified warehouse table the sync reads")
    primary_key: str
    destination_object: Literal["Lead", "Contact", "Account", "Opportunity", "Task"]
    mode: Literal["upsert", "update", "insert"]
    external_id_field: str | None = None
    field_mapping: dict[str, str] = Field(description="model column -> Salesforce field")
    parent_references: tuple[ParentReference, ...] = ()
    depends_on: tuple[str, ...] = Field(default=(), description="slugs that must sync first")

    @model_validator(mode="after")
    def _consistent(self) -> Sync:
        if self.mode == "upsert" and not self.external_id_field:
            raise ValueError(f"{self.slug}: upsert needs external_id_field")
        if self.mode == "update" and "Id" not in self.field_mapping.values():
            raise ValueError(f"{self.slug}: update mode needs a column mapped to Id")
        if self.primary_key not in self.field_mapping:
            raise ValueError(f"{self.slug}: primary key {self.primary_key} must be mapped")
        return self

    @property
    def columns(self) -> set[str]:
        """Every model column the sync reads."""
        return set(self.field_mapping) | {ref.column for ref in self.parent_references}


class SyncCatalogue(_Strict):
    syncs: tuple[Sync, ...]

    @model_validator(mode="after")
    def _unique_and_ordered(self) -> SyncCatalogue:
        slugs = [s.slug for s in self.syncs]
        if len(set(slugs)) != len(slugs):
            raise ValueError("sync slugs must be unique")
        seen: set[str] = set()
        for sync in self.syncs:
            missing = [d for d in sync.depends_on if d not in seen]
            if missing:
                raise ValueError(f"{sync.slug} depends on {missing}, which must be listed before it")
            seen.add(sync.slug)
        return self

    def by_slug(self, slug: str) -> Sync:
        for sync in self.syncs:
            if sync.slug == slug:
                return sync
        raise KeyError(slug)


def load_syncs(path: Path | str = SYNCS_FILE) -> SyncCatalogue:
    """Parse and validate a syncs file; raises ValueError naming the problem."""
    raw = yaml.safe_load(Path(path).read_text())
    return SyncCatalogue.model_validate(raw)


@cache
def default_syncs() -> SyncCatalogue:
    return load_syncs(SYNCS_FILE)
