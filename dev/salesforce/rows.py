"""Discovery and sObject rows: describe, create, read, update, delete and upsert one record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from dev.salesforce.composite import COLLECTION_LIMIT
from dev.salesforce.dml import invalid_field, live_record, parse_payload
from dev.salesforce.errors import not_found
from dev.salesforce.schema import OBJECTS, SObjectType
from dev.salesforce.soql import attributes
from dev.salesforce.store import Record
from dev.salesforce.web import (
    DATA,
    JsonBody,
    SessionDep,
    external_id_field,
    object_or_404,
    path_id,
    saved,
)

router = APIRouter(prefix="/services/data/{version}")


@router.get("")
def resources(_: SessionDep) -> dict[str, str]:
    return {name: f"{DATA}/{name}" for name in ("sobjects", "query", "queryAll", "composite", "limits")}


@router.get("/limits")
def limits(_: SessionDep) -> dict[str, dict[str, int]]:
    return {"DailyApiRequests": {"Max": 15000, "Remaining": 15000}}


@router.get("/sobjects")
def describe_global(_: SessionDep) -> dict[str, Any]:
    return {"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT, "sobjects": [o.summary() for o in OBJECTS.values()]}


@router.get("/sobjects/{object_name}")
def sobject_basic_info(_: SessionDep, object_name: str) -> dict[str, Any]:
    return {"objectDescribe": object_or_404(object_name).summary(), "recentItems": []}


@router.post("/sobjects/{object_name}", status_code=201)
def create(session: SessionDep, object_name: str, body: JsonBody) -> dict[str, Any]:
    payload = parse_payload(object_or_404(object_name), body)
    with session.store.transaction() as tx:
        return saved(session.writer(tx).create(payload))


@router.get("/sobjects/{object_name}/describe")
def describe(_: SessionDep, object_name: str) -> dict[str, Any]:
    return object_or_404(object_name).describe()


@router.get("/sobjects/{object_name}/{record_id}")
def get_record(session: SessionDep, object_name: str, record_id: str, request: Request) -> dict[str, Any]:
    object_type = object_or_404(object_name)
    record = live_record(session.store, object_type, path_id(record_id))
    return _rendered(object_type, record, request.query_params.get("fields"))


@router.patch("/sobjects/{object_name}/{record_id}", status_code=204)
def update(session: SessionDep, object_name: str, record_id: str, body: JsonBody) -> Response:
    object_type = object_or_404(object_name)
    payload = parse_payload(object_type, body)
    with session.store.transaction() as tx:
        session.writer(tx).update(object_type, path_id(record_id), payload)
    return Response(status_code=204)


@router.delete("/sobjects/{object_name}/{record_id}", status_code=204)
def delete(session: SessionDep, object_name: str, record_id: str) -> Response:
    object_type = object_or_404(object_name)
    with session.store.transaction() as tx:
        session.writer(tx).delete(object_type, path_id(record_id))
    return Response(status_code=204)


@router.get("/sobjects/{object_name}/{field_name}/{value}")
def get_by_external_id(
    session: SessionDep, object_name: str, field_name: str, value: str, request: Request
) -> dict[str, Any]:
    object_type = object_or_404(object_name)
    record = session.store.find_unique(object_type.name, external_id_field(object_type, field_name).name, value)
    if record is None:
        raise not_found()
    return _rendered(object_type, record, request.query_params.get("fields"))


@router.patch("/sobjects/{object_name}/{field_name}/{value}")
def upsert(session: SessionDep, object_name: str, field_name: str, value: str, body: JsonBody) -> JSONResponse:
    """201 with created true, or (since API v46.0) 200 with created false when a record was updated."""
    object_type = object_or_404(object_name)
    key = external_id_field(object_type, field_name)
    payload = parse_payload(object_type, body)
    with session.store.transaction() as tx:
        record, created = session.writer(tx).upsert(payload, key, value)
    return JSONResponse(saved(record, created=created), status_code=201 if created else 200)


@router.delete("/sobjects/{object_name}/{field_name}/{value}", status_code=204)
def delete_by_external_id(session: SessionDep, object_name: str, field_name: str, value: str) -> Response:
    object_type = object_or_404(object_name)
    record = session.store.find_unique(object_type.name, external_id_field(object_type, field_name).name, value)
    if record is None:
        raise not_found()
    with session.store.transaction() as tx:
        session.writer(tx).delete(object_type, record.id)
    return Response(status_code=204)


def _rendered(object_type: SObjectType, record: Record, fields: str | None) -> dict[str, Any]:
    names = [f.name for f in object_type.fields]
    if fields:
        wanted = [(name.strip(), object_type.field(name.strip())) for name in fields.split(",")]
        unknown = [name for name, field in wanted if field is None]
        if unknown:
            raise invalid_field(unknown[0], object_type)
        names = [field.name for _, field in wanted if field is not None]
    return {"attributes": attributes(record), **{name: record.fields.get(name) for name in names}}
