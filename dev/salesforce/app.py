"""The Salesforce emulator's ASGI application: routers, error shapes, and the store behind them.

Endpoints are plain functions run in the server's thread pool; the store's lock serialises them. Every
error leaves as Salesforce's JSON list (see errors.py), including routing 404s and 405s.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from dev.salesforce import composite, composite_request, oauth, org, query, rows, schema, soap
from dev.salesforce.errors import ApiError, not_found
from dev.salesforce.faults import WriteFault, WriteFaults
from dev.salesforce.seed import Seed, default_seed, integration_seed, load_seed, upgrade
from dev.salesforce.store import Store
from dev.salesforce.web import session_user

log = logging.getLogger("localcloud.salesforce")


class _StripTrailingSlash:
    """Salesforce serves ``/query/`` and ``/query`` alike, and simple-salesforce uses both spellings."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope = {**scope, "path": scope["path"].rstrip("/"), "raw_path": scope["raw_path"].rstrip(b"/")}
        await self.app(scope, receive, send)


def _faults_of(request: Request) -> WriteFaults:
    faults: WriteFaults = request.app.state.faults
    return faults


# The fault switches (faults.py), an emulator extra: any API session token may set them, like the data API.
faults_router = APIRouter(prefix="/_admin/faults", dependencies=[Depends(session_user)])
FaultsDep = Annotated[WriteFaults, Depends(_faults_of)]


@faults_router.get("")
def list_faults(faults: FaultsDep) -> list[WriteFault]:
    return faults.list()


@faults_router.post("", status_code=201)
def add_fault(faults: FaultsDep, fault: WriteFault) -> list[WriteFault]:
    return faults.add(fault)


@faults_router.delete("", status_code=204)
def clear_faults(faults: FaultsDep) -> Response:
    faults.clear()
    return Response(status_code=204)


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return _error_response(error)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        # Starlette names the methods of the first route with this path only; Salesforce lists them all.
        allowed = {
            method
            for route in request.app.router.routes
            if isinstance(route, APIRoute) and route.matches(request.scope)[0] is not Match.NONE
            for method in route.methods
        }
        message = f"HTTP Method '{request.method}' not allowed. Allowed are {','.join(sorted(allowed))}"
        return _error_response(ApiError(405, "METHOD_NOT_ALLOWED", message))
    if error.status_code == 404:
        return _error_response(not_found())
    return _error_response(ApiError(error.status_code, "UNKNOWN_EXCEPTION", str(error.detail)))


async def _unexpected_error(_: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=error)
    return _error_response(ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))


def create_app(
    state_dir: Path,
    *,
    seed: bool = True,
    extra_seed: Seed | None = None,
    org_config: dict[str, Any] | None = None,
    rejected_secret: str = "wrong",  # noqa: S107 - the credential the emulator refuses, not a secret
    connected_app_certificates: Mapping[str, bytes] | None = None,
) -> FastAPI:
    """The emulator over ``state_dir``. An empty store first gets the demo org plus ``extra_seed``
    (see seed.py), or with ``seed=False`` only the API user.

    ``org_config`` customises the org (org.py: fields removed or renamed, picklists changed, the
    integration user's permission); without it, the customisation the store last had stays.

    ``rejected_secret`` is the one password or client secret the token endpoint refuses, so clients'
    authentication failures can be exercised; every other non-empty credential is accepted.

    ``connected_app_certificates`` (consumer key -> PEM certificate) are the connected apps the JWT bearer flow
    signs in through: an assertion is accepted only with a registered consumer key and that certificate's key.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(state_dir / "salesforce.sqlite3")
    # The seed is written in the default org's terms; the customisation comes after it.
    schema.install(schema.base_objects())
    if store.is_empty():
        load_seed(store, default_seed(extra_seed) if seed else integration_seed())
    elif upgrade(store):
        log.info("state from an older emulator: added the profiles and permission sets of the integration user")
    org.apply(store, org.parse_config(org_config) if org_config is not None else org.stored_config(store))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    # No OpenAPI or docs routes: the emulator answers only what Salesforce answers.
    app = FastAPI(title="Salesforce emulator", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.rejected_secret = rejected_secret
    app.state.connected_apps = oauth.connected_apps(connected_app_certificates or {})
    app.state.faults = WriteFaults()
    app.add_middleware(_StripTrailingSlash)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    endpoint_modules = (oauth, rows, composite, composite_request, query, soap, org)
    for router in (*(module.router for module in endpoint_modules), faults_router):
        app.include_router(router)
    return app
