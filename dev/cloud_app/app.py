"""The cloud app's HTTP API (the source of signups): list workspace events by created-at window.

- ``GET /v1/workspaces?created_after=&created_before=&limit=&cursor=``: cursor pagination, newest-last.
- ``POST /v1/workspaces``: create a workspace now (the demo and latency benchmarks use it).
- ``/_admin/faults``: switches that make the next list requests fail like real APIs do.
- ``/_admin/raw_events``: records injected verbatim (any JSON value) among a window's events, for tests of
  what the ingestion does with input that breaks the contract.
Token auth (``Authorization: Bearer``); OpenAPI at ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import sqlite3
import threading
import uuid
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Query, Response
from pydantic import BaseModel, Field

from dev.chat.sink import webhook_router
from dev.cloud_app.generator import GeneratorConfig, WorkspaceGenerator, iso

MAX_LIMIT = 1000


class Owner(BaseModel):
    user_id: str
    email: str | None
    first_name: str
    last_name: str
    company_name: str | None = None


class WorkspaceEvent(BaseModel):
    event_id: str
    event_type: Literal["workspace_created", "workspace_updated"]
    created_at: str
    workspace_id: str
    workspace_name: str
    plan: str
    seats: int
    region: str
    owner: Owner


class WorkspacePage(BaseModel):
    data: list[WorkspaceEvent]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")
    has_more: bool


class NewOwner(BaseModel):
    email: str | None = None
    first_name: str = "Demo"
    last_name: str = "User"
    company_name: str | None = None


class NewWorkspace(BaseModel):
    workspace_name: str | None = None
    plan: Literal["free", "starter", "professional", "enterprise_trial"] = "starter"
    seats: int = Field(default=5, ge=1, le=100_000)
    region: str = "us-east-1"
    owner: NewOwner = Field(default_factory=NewOwner)


class Fault(BaseModel):
    kind: Literal["rate_limit", "server_error", "slow", "truncate"]
    count: int = Field(default=1, ge=1, le=1000, description="how many upcoming list requests it hits")
    status: Literal[500, 502, 503] = 503
    retry_after: int = Field(default=1, ge=0, le=3600, description="seconds, for rate_limit")
    delay: float = Field(default=2.0, ge=0, le=120, description="seconds, for slow")


class RawEvent(BaseModel):
    created_at: str = Field(description="the sort key used for windowing and paging, ISO 8601 with zone")
    body: Any = Field(description="served verbatim in `data`: any JSON value (a string stands for non-JSON text)")


def _open_store(path: Path, ddl: str) -> sqlite3.Connection:
    """A SQLite file shared by the API's threads (callers hold their own lock), with its table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(ddl)
    db.commit()
    return db


class CreatedStore:
    """Workspaces created through the API, persisted in SQLite so they survive restarts."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = _open_store(
            path, "CREATE TABLE IF NOT EXISTS events (created_at TEXT, event_id TEXT PRIMARY KEY, body TEXT NOT NULL)"
        )

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO events VALUES (?, ?, ?)", (event["created_at"], event["event_id"], json.dumps(event))
            )
            self._db.commit()

    def window(self, start: str, end: str, after: tuple[str, str] | None, limit: int) -> list[dict[str, Any]]:
        sql = "SELECT body FROM events WHERE created_at >= ? AND created_at < ?"
        params: list[Any] = [start, end]
        if after:
            sql += " AND (created_at > ? OR (created_at = ? AND event_id > ?))"
            params += [after[0], after[0], after[1]]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created_at, event_id LIMIT ?", [*params, limit]).fetchall()
        return [json.loads(body) for (body,) in rows]


class RawStore:
    """Records injected through ``/_admin/raw_events``, persisted in SQLite and served exactly as given.

    Their bodies need not be events (nor objects), so each carries its own sort key: ``created_at`` and a
    ``key`` (``raw_<n>``, in insertion order) stand in for the ``(created_at, event_id)`` of real events.
    """

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = _open_store(
            path,
            "CREATE TABLE IF NOT EXISTS raw_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,"
            " key TEXT UNIQUE, body TEXT NOT NULL)",
        )

    def add(self, events: list[tuple[str, Any]]) -> list[str]:
        keys = []
        with self._lock:
            for created_at, body in events:
                # ensure_ascii keeps any string (even a lone surrogate) storable and servable as it came.
                cursor = self._db.execute(
                    "INSERT INTO raw_events (created_at, body) VALUES (?, ?)", (created_at, json.dumps(body))
                )
                key = f"raw_{cursor.lastrowid:010d}"
                self._db.execute("UPDATE raw_events SET key = ? WHERE seq = ?", (key, cursor.lastrowid))
                keys.append(key)
            self._db.commit()
        return keys

    def clear(self, keys: list[str] | None = None) -> int:
        """Delete the given records (all when ``keys`` is None); returns how many went."""
        with self._lock:
            if keys is None:
                deleted = self._db.execute("DELETE FROM raw_events").rowcount
            else:
                deleted = sum(self._db.execute("DELETE FROM raw_events WHERE key = ?", (k,)).rowcount for k in keys)
            self._db.commit()
        return deleted

    def window(
        self, start: str, end: str, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[tuple[str, str], Any]]:
        """``((created_at, key), body)`` of the window's records after the cursor position, in order."""
        sql = "SELECT created_at, key, body FROM raw_events WHERE created_at >= ? AND created_at < ?"
        params: list[Any] = [start, end]
        if after:
            sql += " AND (created_at > ? OR (created_at = ? AND key > ?))"
            params += [after[0], after[0], after[1]]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created_at, key LIMIT ?", [*params, limit]).fetchall()
        return [((created_at, key), json.loads(body)) for created_at, key, body in rows]


def _parse_instant(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(
            400, {"error": "invalid_parameter", "message": f"{name} is not ISO 8601: {value!r}"}
        ) from None
    if moment.tzinfo is None:
        raise HTTPException(400, {"error": "invalid_parameter", "message": f"{name} needs a time zone: {value!r}"})
    return moment.astimezone(UTC)


def _encode_cursor(window: tuple[str, str], last: tuple[str, str]) -> str:
    raw = json.dumps({"w": window, "t": last[0], "id": last[1]}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str, window: tuple[str, str]) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        position = (str(data["t"]), str(data["id"]))
        same_window = tuple(data["w"]) == window
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise HTTPException(400, {"error": "invalid_cursor", "message": "cursor is not one this API issued"}) from None
    if not same_window:
        raise HTTPException(400, {"error": "invalid_cursor", "message": "cursor belongs to another window"})
    return position


def create_app(config: GeneratorConfig, state_dir: Path, token: str) -> FastAPI:
    app = FastAPI(
        title="Cloud app API (local emulator)",
        version="1.0.0",
        description="Workspace events of the product, as the ingestion DAG reads them.",
    )
    generator = WorkspaceGenerator(config)
    created = CreatedStore(state_dir / "created.sqlite")
    raw = RawStore(state_dir / "raw_events.sqlite")
    faults: deque[Fault] = deque()
    faults_lock = threading.Lock()

    def authorize(authorization: Annotated[str | None, Header()] = None) -> None:
        if authorization != f"Bearer {token}":
            raise HTTPException(401, {"error": "unauthorized", "message": "missing or invalid API token"})

    def next_fault() -> Fault | None:
        with faults_lock:
            if not faults:
                return None
            fault = faults[0]
            if fault.count <= 1:
                faults.popleft()
            else:
                faults[0] = fault.model_copy(update={"count": fault.count - 1})
            return fault

    # The company's chat, for the pipeline's alerts (dev/chat/sink.py): one process less to run locally.
    app.include_router(webhook_router(state_dir, authorize))

    @app.get("/v1/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/workspaces", response_model=WorkspacePage, dependencies=[Depends(authorize)])
    async def list_workspaces(
        created_after: Annotated[str, Query(description="inclusive, ISO 8601 with zone")],
        created_before: Annotated[str, Query(description="exclusive, ISO 8601 with zone")],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        cursor: str | None = None,
    ) -> Any:
        fault = next_fault()
        if fault is not None and fault.kind == "rate_limit":
            return Response(
                json.dumps({"error": "rate_limited", "message": "too many requests"}),
                status_code=429,
                headers={"Retry-After": str(fault.retry_after)},
                media_type="application/json",
            )
        if fault is not None and fault.kind == "server_error":
            body = json.dumps({"error": "unavailable", "message": "upstream error"})
            return Response(body, status_code=fault.status, media_type="application/json")
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)

        start, end = _parse_instant(created_after, "created_after"), _parse_instant(created_before, "created_before")
        if end <= start:
            raise HTTPException(
                400, {"error": "invalid_parameter", "message": "created_before must be after created_after"}
            )
        window = (iso(start), iso(end))
        after = _decode_cursor(cursor, window) if cursor else None
        page = _page(generator, created, raw, start, end, after, limit)
        more = len(page) > limit
        page = page[:limit]
        body = {
            "data": [item for _, item, _ in page],
            "next_cursor": _encode_cursor(window, page[-1][0]) if more else None,
            "has_more": more,
        }
        if fault is not None and fault.kind == "truncate":
            text = json.dumps(body)
            # The body ends mid-document, as when a proxy cuts a response: clients must not trust it.
            return Response(text[: max(len(text) // 2, 1)], media_type="application/json")
        if any(injected for _, _, injected in page):
            # Injected records must reach the client exactly as given, not as the response model would
            # validate or coerce them (ensure_ascii: even a lone surrogate is sent as its JSON escape).
            return Response(json.dumps(body), media_type="application/json")
        return body

    @app.post("/v1/workspaces", status_code=201, response_model=WorkspaceEvent, dependencies=[Depends(authorize)])
    def create_workspace(new: NewWorkspace) -> Any:
        workspace_id = f"ws_{uuid.uuid4().hex[:16]}"
        owner = new.owner
        event = {
            "event_id": f"evt_{workspace_id[3:]}_0",
            "event_type": "workspace_created",
            "created_at": iso(datetime.now(UTC)),
            "workspace_id": workspace_id,
            "workspace_name": new.workspace_name or f"{owner.company_name or owner.first_name} workspace",
            "plan": new.plan,
            "seats": new.seats,
            "region": new.region,
            "owner": {"user_id": f"usr_{workspace_id[3:]}", **owner.model_dump()},
        }
        created.add(event)
        return event

    @app.post("/_admin/raw_events", status_code=201, dependencies=[Depends(authorize)], include_in_schema=False)
    def add_raw_events(events: Annotated[list[RawEvent], Body(max_length=10_000)]) -> list[dict[str, str]]:
        """Inject records served verbatim among the list's ``data`` in their window; answers their sort keys."""
        keyed = [(iso(_parse_instant(event.created_at, "created_at")), event.body) for event in events]
        return [
            {"key": key, "created_at": created_at} for key, (created_at, _) in zip(raw.add(keyed), keyed, strict=True)
        ]

    @app.delete("/_admin/raw_events", dependencies=[Depends(authorize)], include_in_schema=False)
    def clear_raw_events(key: Annotated[list[str] | None, Query()] = None) -> dict[str, int]:
        """Delete the injected records with these ``key``s, or every one without ``key``."""
        return {"deleted": raw.clear(key)}

    @app.get("/_admin/faults", dependencies=[Depends(authorize)], include_in_schema=False)
    def list_faults() -> list[Fault]:
        with faults_lock:
            return list(faults)

    @app.post("/_admin/faults", status_code=201, dependencies=[Depends(authorize)], include_in_schema=False)
    def add_fault(fault: Fault) -> list[Fault]:
        with faults_lock:
            faults.append(fault)
            return list(faults)

    @app.delete("/_admin/faults", status_code=204, dependencies=[Depends(authorize)], include_in_schema=False)
    def clear_faults() -> None:
        with faults_lock:
            faults.clear()

    return app


def _page(
    generator: WorkspaceGenerator,
    created: CreatedStore,
    raw: RawStore,
    start: datetime,
    end: datetime,
    after: tuple[str, str] | None,
    limit: int,
) -> list[tuple[tuple[str, str], Any, bool]]:
    """The next ``limit + 1`` records after the cursor, as ``(sort key, record, injected)``: generated,
    created and injected ones merged in order."""
    now = datetime.now(UTC)
    resume = max(start, _parse_instant(after[0], "cursor")) if after else start
    generated: list[tuple[tuple[str, str], Any, bool]] = []
    # Nothing is visible after now: never generate the future (a window may end in 2100).
    for event in generator.events(resume, min(end, now), as_of=now):
        item = event.to_api()
        key = (iso(event.created_at), event.event_id)  # the UTC instant orders and pages, whatever offset is sent
        if after and key <= after:
            continue
        generated.append((key, item, False))
        if len(generated) > limit:
            break
    window = (iso(start), iso(end))
    stored = [((e["created_at"], e["event_id"]), e, False) for e in created.window(*window, after, limit + 1)]
    injected = [(key, body, True) for key, body in raw.window(*window, after, limit + 1)]
    merged = sorted(generated + stored + injected, key=lambda entry: entry[0])
    return merged[: limit + 1]


def visible_events(
    config: GeneratorConfig, state_dir: Path, start: datetime, end: datetime, as_of: datetime
) -> list[Any]:
    """Ground truth for a window: what the API returns across all its pages (for tests and benchmarks),
    injected raw records included, in the API's order."""
    window = (iso(start), iso(end))
    generated = WorkspaceGenerator(config).events(start, end, as_of=as_of)
    keyed: list[tuple[tuple[str, str], Any]] = [((iso(e.created_at), e.event_id), e.to_api()) for e in generated]
    created = CreatedStore(state_dir / "created.sqlite").window(*window, None, 10**9)
    keyed += [((e["created_at"], e["event_id"]), e) for e in created]
    if (state_dir / "raw_events.sqlite").exists():
        keyed += RawStore(state_dir / "raw_events.sqlite").window(*window, None, 10**9)
    return [record for _, record in sorted(keyed, key=lambda entry: entry[0])]
