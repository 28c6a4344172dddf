"""Discovery and sObject rows: describe, create, read, update, delete and upsert one record.

Each operation is a plain function of the session, the transaction and the request's parts that
returns a ``Reply``; the HTTP routes below wrap them, and the Composite resource (composite_request.py)
calls the same functions for its subrequests, inside its one transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from dev.salesforce.composite import COLLECTION_LIMIT
from dev.salesforce.dml import MultipleMatches, invalid_field, live_record, matching_records, parse_payload
from dev.salesforce.errors import not_found
from dev.salesforce.schema import SObjectType, objects
from dev.salesforce.soql import attributes
from dev.salesforce.store import Record, Transaction
from dev.salesforce.web import (
    DATA,
    JsonBody,
    Reply,
    Session,
    SessionDep,
    external_id_field,
    object_or_404,
    path_id,
    respond,
    saved,
)

router = APIRouter(prefix="/services/data/{version}")


# --- operations ---------------------------------------------------------------------------------------


def create_row(session: Session, tx: Transaction, object_name: str, body: Any) -> Reply:
    object_type = object_or_404(object_name)
    record = session.writer(tx).create(parse_payload(object_type, body))
    return Reply(201, saved(record), {"Location": f"{DATA}/sobjects/{object_type.name}/{record.id}"})


def get_row(session: Session, object_name: str, record_id: str, fields: str | None) -> Reply:
    object_type = object_or_404(object_name)
    record = live_record(session.store, object_type, path_id(record_id))
    return Reply(200, rendered(object_type, record, fields))


def update_row(session: Session, tx: Transaction, object_name: str, record_id: str, body: Any) -> Reply:
    object_type = object_or_404(object_name)
    payload = parse_payload(object_type, body)
    session.writer(tx).update(object_type, path_id(record_id), payload)
    return Reply(204, None)


def delete_row(session: Session, tx: Transaction, object_name: str, record_id: str) -> Reply:
    object_type = object_or_404(object_name)
    session.writer(tx).delete(object_type, path_id(record_id))
    return Reply(204, None)


def _by_external_id(session: Session, object_type: SObjectType, field_name: str, value: str) -> Record:
    key = external_id_field(object_type, field_name)
    found = matching_records(session.store, object_type, key, value)
    if not found:
        raise not_found()
    if len(found) > 1:
        raise MultipleMatches(key, value, found)
    return found[0]


def get_row_by_external_id(
    session: Session, object_name: str, field_name: str, value: str, fields: str | None
) -> Reply:
    object_type = object_or_404(object_name)
    return Reply(200, rendered(object_type, _by_external_id(session, object_type, field_name, value), fields))


def upsert_row(session: Session, tx: Transaction, object_name: str, field_name: str, value: str, body: Any) -> Reply:
    """201 with created true, or (since API v46.0) 200 with created false when a record was updated."""
    object_type = object_or_404(object_name)
    key = external_id_field(object_type, field_name)
    payload = parse_payload(object_type, body)
    record, created = session.writer(tx).upsert(payload, key, value)
    headers = {"Location": f"{DATA}/sobjects/{object_type.name}/{record.id}"} if created else {}
    return Reply(201 if created else 200, saved(record, created=created), headers)


def delete_row_by_external_id(
    session: Session, tx: Transaction, object_name: str, field_name: str, value: str
) -> Reply:
    object_type = object_or_404(object_name)
    record = _by_external_id(session, object_type, field_name, value)
    session.writer(tx).delete(object_type, record.id)
    return Reply(204, None)


def rendered(object_type: SObjectType, record: Record, fields: str | None) -> dict[str, Any]:
    selected = list(object_type.fields)
    if fields:
        wanted = [(name.strip(), object_type.field(name.strip())) for name in fields.split(",")]
        unknown = [name for name, field in wanted if field is None]
        if unknown:
            raise invalid_field(unknown[0], object_type)
        selected = [field for _, field in wanted if field is not None]
    return {"attributes": attributes(record), **{f.name: record.fields.get(f.key) for f in selected}}


# --- HTTP routes --------------------------------------------------------------------------------------


@router.get("")
def resources(_: SessionDep) -> dict[str, str]:
    return {name: f"{DATA}/{name}" for name in ("sobjects", "query", "queryAll", "composite", "limits")}


@router.get("/limits")
def limits(_: SessionDep) -> dict[str, dict[str, int]]:
    return {"DailyApiRequests": {"Max": 15000, "Remaining": 15000}}


@router.get("/sobjects")
def describe_global(_: SessionDep) -> dict[str, Any]:
    return {"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT, "sobjects": [o.summary() for o in objects()]}


@router.get("/sobjects/{object_name}")
def sobject_basic_info(_: SessionDep, object_name: str) -> dict[str, Any]:
    return {"objectDescribe": object_or_404(object_name).summary(), "recentItems": []}


@router.post("/sobjects/{object_name}")
def create(session: SessionDep, object_name: str, body: JsonBody) -> Response:
    with session.store.transaction() as tx:
        return respond(create_row(session, tx, object_name, body))


@router.get("/sobjects/{object_name}/describe")
def describe(_: SessionDep, object_name: str) -> dict[str, Any]:
    return object_or_404(object_name).describe()


@router.get("/sobjects/{object_name}/{record_id}")
def get_record(session: SessionDep, object_name: str, record_id: str, request: Request) -> Response:
    return respond(get_row(session, object_name, record_id, request.query_params.get("fields")))


@router.patch("/sobjects/{object_name}/{record_id}")
def update(session: SessionDep, object_name: str, record_id: str, body: JsonBody) -> Response:
    with session.store.transaction() as tx:
        return respond(update_row(session, tx, object_name, record_id, body))


@router.delete("/sobjects/{object_name}/{record_id}")
def delete(session: SessionDep, object_name: str, record_id: str) -> Response:
    with session.store.transaction() as tx:
        return respond(delete_row(session, tx, object_name, record_id))


@router.get("/sobjects/{object_name}/{field_name}/{value}")
def get_by_external_id(
    session: SessionDep, object_name: str, field_name: str, value: str, request: Request
) -> Response:
    fields = request.query_params.get("fields")
    try:
        return respond(get_row_by_external_id(session, object_name, field_name, value, fields))
    except MultipleMatches as error:
        return multiple_choices(error)


@router.patch("/sobjects/{object_name}/{field_name}/{value}")
def upsert(session: SessionDep, object_name: str, field_name: str, value: str, body: JsonBody) -> Response:
    try:
        with session.store.transaction() as tx:
            return respond(upsert_row(session, tx, object_name, field_name, value, body))
    except MultipleMatches as error:
        return multiple_choices(error)


@router.delete("/sobjects/{object_name}/{field_name}/{value}")
def delete_by_external_id(session: SessionDep, object_name: str, field_name: str, value: str) -> Response:
    try:
        with session.store.transaction() as tx:
            return respond(delete_row_by_external_id(session, tx, object_name, field_name, value))
    except MultipleMatches as error:
        return multiple_choices(error)


def multiple_choices(error: MultipleMatches) -> JSONResponse:
    """Salesforce's answer when an external id value names several records: 300 and their URLs."""
    return JSONResponse([f"{DATA}/sobjects/{r.sobject}/{r.id}" for r in error.matches], status_code=300)
