"""What the endpoint modules share: the session, request bodies, and lookups that answer 404."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from dev.salesforce import ids
from dev.salesforce.dml import Writer
from dev.salesforce.errors import ApiError, json_parser_error, not_found
from dev.salesforce.schema import API_VERSION, Field, SObjectType, sobject
from dev.salesforce.store import Record, Store, Transaction

if TYPE_CHECKING:
    from dev.salesforce.faults import WriteFaults

DATA = f"/services/data/v{API_VERSION}"


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise json_parser_error("No content to map due to end-of-input")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise json_parser_error(f"Unexpected character: {exc}") from None


async def form_body(request: Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs((await request.body()).decode(errors="replace")).items()}


@dataclass(frozen=True)
class Session:
    store: Store
    user_id: str
    faults: WriteFaults | None = None  # the test switches that make chosen writes fail (faults.py)

    def writer(self, tx: Transaction) -> Writer:
        return Writer(self.store, tx, self.user_id, faults=self.faults)


def session_user(request: Request) -> str:
    """The user of the caller's API session: a Bearer token from /services/oauth2/token. The one token check:
    the data API, the identity endpoints and the emulator's extras (/_admin/...) all take it."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user_id = store_of(request).token_user(token.strip()) if scheme.lower() in {"bearer", "oauth"} else None
    if user_id is None:
        raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    return user_id


def session_of(request: Request, version: str) -> Session:
    """The caller's session, on the one API version served."""
    user_id = session_user(request)
    if version != f"v{API_VERSION}":
        raise not_found()
    return Session(store_of(request), user_id, getattr(request.app.state, "faults", None))


SessionDep = Annotated[Session, Depends(session_of)]
JsonBody = Annotated[Any, Depends(json_body)]


def object_or_404(name: str) -> SObjectType:
    object_type = sobject(name)
    if object_type is None:
        raise not_found()
    return object_type


def external_id_field(object_type: SObjectType, name: str) -> Field:
    found = object_type.field(name)
    if found is None or not found.external_id:
        raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
    return found


def path_id(raw: str) -> str:
    """An Id from the URL; Salesforce reads any other segment there as an external ID field name."""
    if ids.normalize(raw) is None:
        raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {raw}")
    return raw


@dataclass(frozen=True)
class Reply:
    """An operation's answer, before it becomes an HTTP response or a composite subrequest result."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def respond(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=reply.headers)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def saved(record: Record, created: bool | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"id": record.id, "success": True, "errors": []}
    if created is not None:
        result["created"] = created
    return result
