"""Hightouch REST API v1 subset, exactly as airflow-provider-hightouch 5.0.0 calls it, plus listing syncs.

- ``POST /api/v1/syncs/trigger`` (form or JSON: ``syncId`` | ``syncSlug``, optional ``fullResync``) -> ``{"id"}``
- ``GET /api/v1/syncs[?slug=&limit=&offset=]``, ``GET /api/v1/syncs/{id}``,
  ``GET /api/v1/syncs/{id}/runs[?runId=&limit=]``
- ``GET /api/v1/syncs/{id}/runs/{runId}/errors``: per-row errors kept for a run (emulator extra)
- ``GET|PUT|DELETE /api/v1/_admin/pacing``: records per Salesforce call and a pause between calls, so a test can
  stop Salesforce between two batches of one run (emulator extra; in memory, DELETE restores the defaults)
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from dev.hightouch.destination import BATCH
from dev.hightouch.runner import Pacing, SyncRunner
from dev.hightouch.store import Store
from include.hightouch.syncs import Sync, SyncCatalogue

WORKSPACE_ID = "42"


class PacingBody(BaseModel):
    batchSize: int = Field(default=BATCH, ge=1, le=BATCH)
    pauseSeconds: float = Field(default=0.0, ge=0, le=60)


def _sync_body(sync: Sync, store: Store) -> dict[str, Any]:
    last = store.runs(sync.id, 1)
    return {
        "id": sync.id,
        "slug": sync.slug,
        "workspaceId": WORKSPACE_ID,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "destinationId": "salesforce",
        "modelId": sync.model,
        "configuration": {
            "object": sync.destination_object,
            "mode": sync.mode,
            "externalIdMapping": sync.external_id_field,
            "mappings": [{"from": c, "to": f} for c, f in sync.field_mapping.items()],
            "referenceMappings": [ref.model_dump() for ref in sync.parent_references],
        },
        "schedule": None,
        "disabled": False,
        "status": last[0]["status"] if last else "pending",
        "lastRunAt": last[0]["createdAt"] if last else None,
        "primaryKey": sync.primary_key,
        "referencedColumns": sorted(sync.columns),
    }


def create_app(catalogue: SyncCatalogue, store: Store, runner: SyncRunner, token: str) -> FastAPI:
    app = FastAPI(title="Hightouch API (local emulator)", version="1.0.0")

    def authorize(authorization: Annotated[str | None, Header()] = None) -> None:
        if authorization != f"Bearer {token}":
            raise HTTPException(401, {"message": "Unauthorized: invalid or missing API key"})

    def find(sync_id: str) -> Sync:
        for sync in catalogue.syncs:
            if sync.id == sync_id:
                return sync
        raise HTTPException(404, {"message": f"Sync {sync_id} not found"})

    @app.get("/api/v1/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/syncs/trigger", dependencies=[Depends(authorize)])
    async def trigger(request: Request) -> dict[str, str]:
        raw = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                fields = {k: str(v) for k, v in json.loads(raw or "{}").items()}
            except (json.JSONDecodeError, AttributeError):
                raise HTTPException(400, {"message": "Body is not a JSON object"}) from None
        else:
            fields = {k: v[0] for k, v in parse_qs(raw).items()}
        if "syncId" in fields:
            sync = find(fields["syncId"])
        elif "syncSlug" in fields:
            matches = [s for s in catalogue.syncs if s.slug == fields["syncSlug"]]
            if not matches:
                raise HTTPException(404, {"message": f"Sync with slug {fields['syncSlug']} not found"})
            sync = matches[0]
        else:
            raise HTTPException(400, {"message": "Either syncId or syncSlug is required"})
        run = runner.trigger(sync, full_resync=fields.get("fullResync", "false").lower() == "true")
        return {"id": run["id"], "message": "Sync triggered"}

    @app.get("/api/v1/syncs", dependencies=[Depends(authorize)])
    def list_syncs(
        slug: str | None = None,
        limit: Annotated[int, Query(ge=1)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        syncs = [s for s in catalogue.syncs if slug is None or s.slug == slug]
        page = syncs[offset : offset + limit]
        return {"data": [_sync_body(s, store) for s in page], "hasMore": offset + limit < len(syncs)}

    @app.get("/api/v1/syncs/{sync_id}", dependencies=[Depends(authorize)])
    def get_sync(sync_id: str) -> dict[str, Any]:
        return _sync_body(find(sync_id), store)

    @app.get("/api/v1/syncs/{sync_id}/runs", dependencies=[Depends(authorize)])
    def list_runs(
        sync_id: str, runId: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 5
    ) -> dict[str, Any]:
        find(sync_id)
        if runId is not None:
            run = store.run(sync_id, runId)
            return {"data": [run] if run else [], "hasMore": False}
        return {"data": store.runs(sync_id, limit), "hasMore": False}

    @app.get("/api/v1/syncs/{sync_id}/runs/{run_id}/errors", dependencies=[Depends(authorize)])
    def run_errors(sync_id: str, run_id: str) -> dict[str, Any]:
        find(sync_id)
        if store.run(sync_id, run_id) is None:
            raise HTTPException(404, {"message": f"Run {run_id} not found"})
        return {"data": store.row_errors(run_id)}

    @app.get("/api/v1/_admin/pacing", dependencies=[Depends(authorize)], include_in_schema=False)
    def get_pacing() -> PacingBody:
        return PacingBody(batchSize=runner.pacing.batch_size, pauseSeconds=runner.pacing.pause_seconds)

    @app.put("/api/v1/_admin/pacing", dependencies=[Depends(authorize)], include_in_schema=False)
    def set_pacing(body: PacingBody) -> PacingBody:
        runner.pacing = Pacing(batch_size=body.batchSize, pause_seconds=body.pauseSeconds)
        return body

    @app.delete("/api/v1/_admin/pacing", status_code=204, dependencies=[Depends(authorize)], include_in_schema=False)
    def reset_pacing() -> Response:
        runner.pacing = Pacing()
        return Response(status_code=204)

    return app
