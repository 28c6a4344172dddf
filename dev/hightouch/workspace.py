"""The emulated workspace: the catalogue's syncs and their models, as changed through the API and admin endpoints.

The catalogue (a syncs-as-code file, ``include/hightouch/syncs.yaml`` by default) is how the workspace starts:
one sync per entry, with the entry's slug, and one table model per (table, primary key) it reads. Sync ids are the
emulator's own (the catalogue has none: a real workspace assigns them): numbered in catalogue order from
``FIRST_SYNC_ID``, as a workspace numbers syncs in the order they were created.
Changes persist in the store over that start: ``PATCH /syncs/{id}`` (``disabled``, ``schedule``),
``PATCH /models/{id}`` (``name``, ``primaryKey``, ``table.name``) and ``DELETE /_admin/syncs/{id}`` (the sync no
longer exists). ``DELETE /_admin/workspace`` drops them all. Runs read the sync as changed: a model pointed at
another table or primary key is what the next run queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dev.hightouch.store import Store
from include.hightouch.syncs import Sync, SyncCatalogue

WORKSPACE_ID = 42
SOURCE_ID = 1  # the warehouse
DESTINATION_ID = 1  # Salesforce
CREATED_AT = "2026-01-01T00:00:00.000Z"
FIRST_SYNC_ID = 1001


def sync_ids(catalogue: SyncCatalogue) -> dict[str, int]:
    """The emulator's id of each sync, by slug."""
    return {entry.slug: FIRST_SYNC_ID + position for position, entry in enumerate(catalogue.syncs)}


@dataclass(frozen=True)
class Model:
    id: int
    name: str
    slug: str
    primary_key: str
    table: str
    updated_at: str
    sync_ids: tuple[int, ...]


@dataclass(frozen=True)
class WorkspaceSync:
    sync: Sync  # the catalogue entry with its model's current table and primary key
    id: int
    model_id: int
    disabled: bool
    schedule: dict[str, Any] | None
    updated_at: str


class Workspace:
    def __init__(self, catalogue: SyncCatalogue, store: Store) -> None:
        self.catalogue = catalogue
        self.store = store
        self._ids = sync_ids(catalogue)
        # One model per (table, primary key) of the catalogue, numbered by the first sync that reads it.
        self._model_of: dict[str, int] = {}
        self._base_models: dict[int, dict[str, str]] = {}
        seen: dict[tuple[str, str], int] = {}
        for entry in catalogue.syncs:
            key = (entry.model, entry.primary_key)
            if key not in seen:
                seen[key] = self._ids[entry.slug]
                self._base_models[self._ids[entry.slug]] = {"table": entry.model, "primaryKey": entry.primary_key}
            self._model_of[entry.slug] = seen[key]
        names = [table.split(".")[-1] for table, _ in seen]
        for model_id, (table, _) in zip(self._base_models, seen, strict=True):
            name = table.split(".")[-1]
            slug = name.lower().replace("_", "-")
            self._base_models[model_id] |= {
                "name": name,
                "slug": slug if names.count(name) == 1 else f"{slug}-{model_id}",
            }

    # Models

    def models(self) -> list[Model]:
        return [model for model_id in self._base_models if (model := self.model(model_id)) is not None]

    def model(self, model_id: int) -> Model | None:
        base = self._base_models.get(model_id)
        if base is None:
            return None
        changed = self.store.overrides("model").get(str(model_id), {})
        current = {**base, **changed}
        removed = self._removed()
        return Model(
            id=model_id,
            name=current["name"],
            slug=current["slug"],
            primary_key=current["primaryKey"],
            table=current["table"],
            updated_at=changed.get("updatedAt", CREATED_AT),
            sync_ids=tuple(
                self._ids[entry.slug]
                for entry in self.catalogue.syncs
                if self._model_of[entry.slug] == model_id and str(self._ids[entry.slug]) not in removed
            ),
        )

    def patch_model(self, model_id: int, changes: Mapping[str, Any], at: str) -> None:
        current = self.store.overrides("model").get(str(model_id), {})
        self.store.set_override("model", str(model_id), {**current, **changes, "updatedAt": at})

    # Syncs

    def syncs(self) -> list[WorkspaceSync]:
        return [ws for entry in self.catalogue.syncs if (ws := self.sync(self._ids[entry.slug])) is not None]

    def sync(self, sync_id: int) -> WorkspaceSync | None:
        entry = next((s for s in self.catalogue.syncs if self._ids[s.slug] == sync_id), None)
        if entry is None or str(sync_id) in self._removed():
            return None
        changed = self.store.overrides("sync").get(str(sync_id), {})
        model = self.model(self._model_of[entry.slug])
        assert model is not None
        return WorkspaceSync(
            sync=entry.model_copy(update={"model": model.table, "primary_key": model.primary_key}),
            id=sync_id,
            model_id=model.id,
            disabled=bool(changed.get("disabled", False)),
            schedule=changed.get("schedule"),
            updated_at=changed.get("updatedAt", CREATED_AT),
        )

    def by_slug(self, slug: str) -> WorkspaceSync | None:
        return next((ws for ws in self.syncs() if ws.sync.slug == slug), None)

    def patch_sync(self, sync_id: int, changes: Mapping[str, Any], at: str) -> None:
        current = self.store.overrides("sync").get(str(sync_id), {})
        self.store.set_override("sync", str(sync_id), {**current, **changes, "updatedAt": at})

    def remove_sync(self, sync_id: int, at: str) -> None:
        self.patch_sync(sync_id, {"removed": True}, at)

    def reset(self) -> None:
        self.store.clear_overrides()

    def _removed(self) -> set[str]:
        return {key for key, body in self.store.overrides("sync").items() if body.get("removed")}
