"""The Hightouch REST API (``/api/v1``) as the product, airflow-provider-hightouch and the preflight call it.

Every behaviour, with the page of Hightouch's documentation it follows and what knowingly differs, is in
``dev/hightouch/README.md``. In short:

- ``POST /syncs/trigger`` (form or JSON: ``syncId`` | ``syncSlug``, ``fullResync``) -> ``{"id"}``
- ``GET /syncs`` (``slug``, ``modelId``, ``after``, ``before``, ``limit``, ``offset``, ``orderBy``),
  ``GET|PATCH /syncs/{syncId}``, ``GET /syncs/{syncId}/runs`` (``runId``, ``after``, ``before``, ``within``,
  ``limit``, ``offset``, ``orderBy``)
- ``GET /models`` (``name``, ``slug``, ``limit``, ``offset``, ``orderBy``), ``GET|PATCH /models/{modelId}``
- errors: ``{"error": ...}`` (400, 401, 404, 429), ``{"message": "Validation failed", "details": {...}}`` (422);
  200 requests per 10 seconds per workspace, then 429
- emulator extras for tests (not in the OpenAPI schema): ``GET /syncs/{id}/runs/{runId}/errors``,
  ``/_admin/pacing``, ``/_admin/rate-limit``, ``DELETE /_admin/syncs/{id}``, ``DELETE /_admin/workspace``
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from dev.hightouch.destination import BATCH
from dev.hightouch.runner import Pacing, SyncRunner, now_iso
from dev.hightouch.store import Store
from dev.hightouch.workspace import (
    CREATED_AT,
    DESTINATION_ID,
    SOURCE_ID,
    WORKSPACE_ID,
    Model,
    Workspace,
    WorkspaceSync,
)

API = "/api/v1"
#: Fields of a run as ``SyncRun`` of the reference lists them (the store keeps nothing else, but be explicit).
RUN_FIELDS = (
    "id", "createdAt", "startedAt", "finishedAt", "querySize", "status", "completionRatio",
    "plannedRows", "successfulRows", "failedRows", "error",
)  # fmt: skip
#: Hightouch's API rate limit: https://hightouch.com/docs/developer-tools/api-guide#hightouch-api-rate-limits
RATE_LIMIT_REQUESTS = 200
RATE_LIMIT_SECONDS = 10.0


class ValidationFailed(Exception):
    """A 422 with the reference's ``ValidateErrorJSON`` body: ``{"message": "Validation failed", "details"}``."""

    def __init__(self, details: Mapping[str, str]) -> None:
        super().__init__(details)
        self.details = dict(details)


class PacingBody(BaseModel):
    batchSize: int = Field(default=BATCH, ge=1, le=BATCH)
    pauseSeconds: float = Field(default=0.0, ge=0, le=60)


class RateLimitBody(BaseModel):
    requests: int = Field(default=RATE_LIMIT_REQUESTS, ge=1)
    seconds: float = Field(default=RATE_LIMIT_SECONDS, gt=0, le=600)


class RateLimiter:
    """At most ``requests`` authorized API calls in any window of ``seconds`` (the emulator is one workspace)."""

    def __init__(self, limit: RateLimitBody) -> None:
        self.limit = limit
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._calls and self._calls[0] <= now - self.limit.seconds:
                self._calls.popleft()
            if len(self._calls) >= self.limit.requests:
                return False
            self._calls.append(now)
            return True

    def reset(self, limit: RateLimitBody) -> None:
        with self._lock:
            self.limit = limit
            self._calls.clear()


def _timestamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def run_body(run: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run as the API shows it: the ``SyncRun`` fields, ``id`` a number."""
    return {key: int(run["id"]) if key == "id" else run.get(key) for key in RUN_FIELDS}


def sync_body(ws: WorkspaceSync, store: Store) -> dict[str, Any]:
    """A sync as ``Sync`` of the reference shows it (``GET /syncs``, ``GET /syncs/{syncId}``)."""
    sync = ws.sync
    last = store.latest_run(str(ws.id))
    external_id_column = next((c for c, f in sync.field_mapping.items() if f == sync.external_id_field), None)
    configuration: dict[str, Any] = {
        "object": sync.destination_object,
        "mode": sync.mode,
        "mappings": [{"from": c, "to": f, "type": "standard"} for c, f in sync.field_mapping.items()],
        "referenceMappings": [ref.model_dump() for ref in sync.parent_references],
    }
    if sync.external_id_field:
        configuration["externalIdMapping"] = {"from": external_id_column, "to": sync.external_id_field}
    return {
        "id": ws.id,
        "slug": sync.slug,
        "workspaceId": WORKSPACE_ID,
        "createdAt": CREATED_AT,
        "updatedAt": ws.updated_at,
        "destinationId": DESTINATION_ID,
        "modelId": ws.model_id,
        "configuration": configuration,
        "schedule": ws.schedule,
        "status": last["status"] if last else "pending",
        "disabled": ws.disabled,
        "lastRunAt": last["createdAt"] if last else None,
        "referencedColumns": sorted(sync.columns),
        "primaryKey": sync.primary_key,
        "externalSegment": {},
        "tags": {},
    }


def model_body(model: Model, store: Store) -> dict[str, Any]:
    """A model as ``Model`` of the reference shows it, for a table model (``queryType`` ``table``)."""
    successes = [
        run for sync_id in model.sync_ids for run in store.runs(str(sync_id)) if run.get("status") == "success"
    ]
    last_success = max(successes, key=lambda run: int(run["id"]), default=None)
    return {
        "id": model.id,
        "name": model.name,
        "slug": model.slug,
        "description": "",
        "workspaceId": WORKSPACE_ID,
        "primaryKey": model.primary_key,
        "createdAt": CREATED_AT,
        "updatedAt": model.updated_at,
        "sourceId": SOURCE_ID,
        "queryType": "table",
        "tags": {},
        "isSchema": False,
        "syncs": list(model.sync_ids),
        "table": {"name": model.table},
        "lastRunSize": None if last_success is None else last_success.get("querySize"),
    }


def _page(items: list[Any], offset: int, limit: int) -> dict[str, Any]:
    return {"data": items[offset : offset + limit], "hasMore": offset + limit < len(items)}


def _order(items: list[dict[str, Any]], key: str, newest_first: bool = False) -> list[dict[str, Any]]:
    def sort_key(item: dict[str, Any]) -> tuple[bool, Any]:
        value = item.get(key)
        return value is not None, "" if value is None else value

    return sorted(items, key=sort_key, reverse=newest_first)


def _reject_unknown(body: Mapping[str, Any], accepted: set[str], documented: set[str]) -> None:
    details = {key: "not emulated (dev/hightouch/README.md)" for key in body if key in documented - accepted}
    details |= {key: "unknown field" for key in body if key not in documented}
    if details:
        raise ValidationFailed(details)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads((await request.body()) or b"{}")
    except json.JSONDecodeError:
        raise ValidationFailed({"body": "not valid JSON"}) from None
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "must be a JSON object"})
    return body


def create_app(
    workspace: Workspace,
    store: Store,
    runner: SyncRunner,
    token: str,
    *,
    runs_newest_first: bool = True,
    rate_limit: RateLimitBody | None = None,
) -> FastAPI:
    """The API over ``workspace``; ``runs_newest_first`` is the listing direction of runs (undocumented)."""
    limiter = RateLimiter(rate_limit or RateLimitBody())
    app = FastAPI(title="Hightouch API (local emulator)", version="1.0.0")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = {".".join(str(part) for part in error["loc"][1:]) or "body": error["msg"] for error in exc.errors()}
        return JSONResponse({"message": "Validation failed", "details": details}, status_code=422)

    @app.exception_handler(ValidationFailed)
    async def validation_failed(request: Request, exc: ValidationFailed) -> JSONResponse:
        return JSONResponse({"message": "Validation failed", "details": exc.details}, status_code=422)

    @app.middleware("http")
    async def rate_limited(request: Request, call_next: Callable) -> Response:
        path = request.url.path
        counted = (
            path.startswith(f"{API}/")
            and not path.startswith((f"{API}/_admin", f"{API}/health"))
            and request.headers.get("authorization") == f"Bearer {token}"
        )
        if counted and not limiter.allow():
            limit = limiter.limit
            return JSONResponse(
                {"error": f"Rate limit exceeded: {limit.requests} requests per {limit.seconds:g} seconds"},
                status_code=429,
            )
        return await call_next(request)

    def authorize(authorization: Annotated[str | None, Header()] = None) -> None:
        if authorization != f"Bearer {token}":
            raise HTTPException(401, "Unauthorized: invalid or missing API key")

    def find(sync_id: int) -> WorkspaceSync:
        ws = workspace.sync(sync_id)
        if ws is None:
            raise HTTPException(404, f"Sync {sync_id} not found")
        return ws

    def find_model(model_id: int) -> Model:
        model = workspace.model(model_id)
        if model is None:
            raise HTTPException(404, f"Model {model_id} not found")
        return model

    @app.get(f"{API}/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"{API}/syncs/trigger", dependencies=[Depends(authorize)])
    async def trigger(request: Request) -> dict[str, str]:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await _json_object(request)
            fields = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in body.items()}
        else:  # form-encoded, as airflow-provider-hightouch sends it
            fields = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if "syncId" in fields:
            if not fields["syncId"].isdigit():
                raise ValidationFailed({"syncId": "must match ^[0-9]+$"})
            ws = find(int(fields["syncId"]))
        elif "syncSlug" in fields:
            found = workspace.by_slug(fields["syncSlug"])
            if found is None:
                raise HTTPException(404, f"Sync with slug {fields['syncSlug']} not found")
            ws = found
        else:
            raise HTTPException(400, "Either syncId or syncSlug is required")
        if ws.disabled:
            raise HTTPException(400, f"Sync {ws.id} is disabled")
        run = runner.trigger(ws.id, ws.sync, full_resync=fields.get("fullResync", "false").lower() == "true")
        return {"id": str(run["id"])}

    @app.get(f"{API}/syncs", dependencies=[Depends(authorize)])
    def list_syncs(
        slug: str | None = None,
        modelId: int | None = None,
        after: dt.datetime | None = None,
        before: dt.datetime | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=0)] = 100,
        orderBy: Literal["id", "name", "slug", "createdAt", "updatedAt"] = "id",
    ) -> dict[str, Any]:
        syncs = [sync_body(ws, store) for ws in workspace.syncs()]
        syncs = [s for s in syncs if slug is None or s["slug"] == slug]
        syncs = [s for s in syncs if modelId is None or s["modelId"] == modelId]
        if after is not None:
            syncs = [s for s in syncs if s["lastRunAt"] and _timestamp(s["lastRunAt"]) >= _utc(after)]
        if before is not None:
            syncs = [s for s in syncs if s["lastRunAt"] and _timestamp(s["lastRunAt"]) <= _utc(before)]
        return _page(_order(syncs, "slug" if orderBy == "name" else orderBy), offset, limit)

    @app.get(f"{API}/syncs/{{syncId}}", dependencies=[Depends(authorize)])
    def get_sync(syncId: int) -> dict[str, Any]:
        return sync_body(find(syncId), store)

    @app.patch(f"{API}/syncs/{{syncId}}", dependencies=[Depends(authorize)])
    async def update_sync(syncId: int, request: Request) -> dict[str, Any]:
        find(syncId)
        body = await _json_object(request)
        _reject_unknown(body, {"schedule", "disabled"}, {"schedule", "disabled", "configuration"})
        if "disabled" in body and not isinstance(body["disabled"], bool):
            raise ValidationFailed({"disabled": "must be a boolean"})
        schedule = body.get("schedule")
        if schedule is not None and not (
            isinstance(schedule, dict) and isinstance(schedule.get("type"), str) and "schedule" in schedule
        ):
            raise ValidationFailed({"schedule": "must be null or an object with 'type' and 'schedule'"})
        workspace.patch_sync(syncId, body, now_iso())
        return sync_body(find(syncId), store)

    # The run's page in the app, where an alert links (HIGHTOUCH_APP_URL): here the run as the API returns it.
    @app.get("/app/syncs/{syncId}/runs/{runId}", include_in_schema=False)
    def run_page(syncId: int, runId: int) -> dict[str, Any]:
        runs = [run_body(run) for run in store.runs(str(find(syncId).id)) if run_body(run)["id"] == runId]
        if not runs:
            raise HTTPException(404, {"message": f"run {runId} of sync {syncId} not found"})
        return runs[0]

    @app.get(f"{API}/syncs/{{syncId}}/runs", dependencies=[Depends(authorize)])
    def list_runs(
        syncId: int,
        runId: int | None = None,
        after: dt.datetime | None = None,
        before: dt.datetime | None = None,
        within: Annotated[float | None, Query(ge=0)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=0)] = 5,  # ListSyncRuns: "limit" defaults to 5 in Hightouch's OpenAPI document
        orderBy: Literal["id", "createdAt", "startedAt", "finishedAt"] = "id",
    ) -> dict[str, Any]:
        sync_id = str(find(syncId).id)
        runs = [run_body(run) for run in store.runs(sync_id)]
        if runId is not None:
            runs = [run for run in runs if run["id"] == runId]
        if within is not None:
            after = max(filter(None, [after, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=within)]), key=_utc)
        started = {run["id"]: _timestamp(run["startedAt"] or run["createdAt"]) for run in runs}
        if after is not None:
            runs = [run for run in runs if started[run["id"]] >= _utc(after)]
        if before is not None:
            runs = [run for run in runs if started[run["id"]] <= _utc(before)]
        return _page(_order(runs, orderBy, newest_first=runs_newest_first), offset, limit)

    @app.get(f"{API}/models", dependencies=[Depends(authorize)])
    def list_models(
        name: str | None = None,
        slug: str | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=0)] = 100,
        orderBy: Literal["id", "name", "slug", "createdAt", "updatedAt"] = "id",
        tags: Annotated[list[str] | None, Query()] = None,  # accepted; the emulator's models have no tags
    ) -> dict[str, Any]:
        models = [model_body(model, store) for model in workspace.models()]
        models = [m for m in models if (name is None or m["name"] == name) and (slug is None or m["slug"] == slug)]
        if tags:
            models = []
        return _page(_order(models, orderBy), offset, limit)

    @app.get(f"{API}/models/{{modelId}}", dependencies=[Depends(authorize)])
    def get_model(modelId: int) -> dict[str, Any]:
        return model_body(find_model(modelId), store)

    @app.patch(f"{API}/models/{{modelId}}", dependencies=[Depends(authorize)])
    async def update_model(modelId: int, request: Request) -> dict[str, Any]:
        find_model(modelId)
        body = await _json_object(request)
        documented = {"name", "isSchema", "primaryKey", "visual", "custom", "table", "raw", "folderId", "dbt"}
        _reject_unknown(body, {"name", "primaryKey", "table"}, documented)
        for key in ("name", "primaryKey"):
            if key in body and not (isinstance(body[key], str) and body[key]):
                raise ValidationFailed({key: "must be a non-empty string"})
        changes = {key: body[key] for key in ("name", "primaryKey") if key in body}
        if "table" in body:
            table = body["table"]
            if not (isinstance(table, dict) and isinstance(table.get("name"), str) and table["name"]):
                raise ValidationFailed({"table": "must be an object with a non-empty 'name'"})
            changes["table"] = table["name"]
        workspace.patch_model(modelId, changes, now_iso())
        return model_body(find_model(modelId), store)

    @app.get(f"{API}/syncs/{{syncId}}/runs/{{runId}}/errors", dependencies=[Depends(authorize)])
    def run_errors(syncId: int, runId: int) -> dict[str, Any]:
        sync_id = str(find(syncId).id)
        if store.run(sync_id, runId) is None:
            raise HTTPException(404, f"Run {runId} not found")
        return {"data": store.row_errors(str(runId))}

    @app.delete(f"{API}/_admin/syncs/{{syncId}}", status_code=204, dependencies=[Depends(authorize)],
                include_in_schema=False)  # fmt: skip
    def remove_sync(syncId: int) -> Response:
        find(syncId)
        workspace.remove_sync(syncId, now_iso())
        return Response(status_code=204)

    @app.delete(f"{API}/_admin/workspace", status_code=204, dependencies=[Depends(authorize)],
                include_in_schema=False)  # fmt: skip
    def reset_workspace() -> Response:
        workspace.reset()
        return Response(status_code=204)

    @app.get(f"{API}/_admin/pacing", dependencies=[Depends(authorize)], include_in_schema=False)
    def get_pacing() -> PacingBody:
        return PacingBody(batchSize=runner.pacing.batch_size, pauseSeconds=runner.pacing.pause_seconds)

    @app.put(f"{API}/_admin/pacing", dependencies=[Depends(authorize)], include_in_schema=False)
    def set_pacing(body: PacingBody) -> PacingBody:
        runner.pacing = Pacing(batch_size=body.batchSize, pause_seconds=body.pauseSeconds)
        return body

    @app.delete(f"{API}/_admin/pacing", status_code=204, dependencies=[Depends(authorize)], include_in_schema=False)
    def reset_pacing() -> Response:
        runner.pacing = Pacing()
        return Response(status_code=204)

    @app.get(f"{API}/_admin/rate-limit", dependencies=[Depends(authorize)], include_in_schema=False)
    def get_rate_limit() -> RateLimitBody:
        return limiter.limit

    @app.put(f"{API}/_admin/rate-limit", dependencies=[Depends(authorize)], include_in_schema=False)
    def set_rate_limit(body: RateLimitBody) -> RateLimitBody:
        limiter.reset(body)
        return body

    @app.delete(f"{API}/_admin/rate-limit", status_code=204, dependencies=[Depends(authorize)],
                include_in_schema=False)  # fmt: skip
    def reset_rate_limit() -> Response:
        limiter.reset(rate_limit or RateLimitBody())
        return Response(status_code=204)

    return app
