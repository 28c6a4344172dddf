"""sObject collections: create, update, upsert and delete up to 200 records in one transaction.

The operations take the transaction they write in, so the Composite resource (composite_request.py)
can run them as subrequests; the HTTP routes open one transaction per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, NoReturn

from fastapi import APIRouter, Request

from dev.salesforce.dml import Payload, Writer, parse_payload
from dev.salesforce.errors import ROLLED_BACK_MESSAGE, ApiError, json_parser_error, record_error
from dev.salesforce.schema import Field, sobject
from dev.salesforce.store import Record, Transaction
from dev.salesforce.web import JsonBody, Reply, Session, SessionDep, external_id_field, object_or_404, saved

COLLECTION_LIMIT = 200

router = APIRouter(prefix="/services/data/{version}")

Operation = tuple[Callable[[Writer], dict[str, Any]], str | None]  # the write, and the Id its result shows


def _collection(body: Any) -> tuple[list[Any], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise json_parser_error("Cannot deserialize the request: expected an object with a records list")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise json_parser_error(f"Cannot deserialize instance of boolean from value {all_or_none}")
    _check_count(len(body["records"]))
    return body["records"], all_or_none


def _check_count(count: int) -> None:
    if count > COLLECTION_LIMIT:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call",
        )


def _typed_payload(raw: Any) -> Payload:
    """A collection record, whose object comes from its ``attributes.type``."""
    attributes_ = raw.get("attributes") if isinstance(raw, dict) else None
    type_name = attributes_.get("type") if isinstance(attributes_, dict) else None
    if not isinstance(type_name, str):
        raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    object_type = sobject(type_name)
    if object_type is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
    return parse_payload(object_type, raw)


def _apply(session: Session, tx: Transaction, operations: list[Operation], all_or_none: bool) -> Reply:
    """Run each write in order; with ``all_or_none``, any failure undoes the request's writes."""
    start = tx.savepoint()
    writer = session.writer(tx)
    results = []
    for write, record_id in operations:
        before_record = tx.savepoint()
        try:
            results.append(write(writer))
        except ApiError as error:
            tx.rollback(before_record)  # a failed record leaves nothing behind
            results.append(_failed(record_id, error.as_result_error()))
    if all_or_none and not all(result["success"] for result in results):
        tx.rollback(start)
        rolled_back = {
            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": ROLLED_BACK_MESSAGE,
            "fields": [],
        }
        results = [
            _failed(record_id, rolled_back) if result["success"] else result
            for result, (_, record_id) in zip(results, operations, strict=True)
        ]
    return Reply(200, results)


def _failed(record_id: str | None, error: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "errors": [error]}
    return result if record_id is None else {"id": record_id, **result}


def create_records(session: Session, tx: Transaction, body: Any) -> Reply:
    records, all_or_none = _collection(body)
    payloads = [_typed_payload(raw) for raw in records]
    operations: list[Operation] = [(lambda w, p=p: saved(w.create(p)), None) for p in payloads]
    return _apply(session, tx, operations, all_or_none)


def update_records(session: Session, tx: Transaction, body: Any) -> Reply:
    records, all_or_none = _collection(body)
    operations: list[Operation] = []
    for raw in records:
        payload = _typed_payload(raw)
        values = dict(payload.values)
        record_id = values.pop("Id", None)
        payload = replace(payload, values=values)
        operations.append((lambda w, p=payload, i=record_id: saved(_update_by_id(w, p, i)), record_id))
    return _apply(session, tx, operations, all_or_none)


def _update_by_id(writer: Writer, payload: Payload, record_id: str | None) -> Record:
    if record_id is None:
        raise record_error("MISSING_ARGUMENT", "Id not specified in an update call")
    return writer.update(payload.sobject, record_id, payload)


def upsert_records(session: Session, tx: Transaction, object_name: str, field_name: str, body: Any) -> Reply:
    object_type = object_or_404(object_name)
    key = external_id_field(object_type, field_name)
    records, all_or_none = _collection(body)
    payloads = [_typed_payload(raw) for raw in records]
    if any(p.sobject is not object_type for p in payloads):
        raise ApiError(400, "INVALID_TYPE", f"Records must all be of type {object_type.name}, the type in the URL")
    values = [p.values.get(key.key) for p in payloads]
    counts: dict[str, int] = {}
    for value in values:
        if value is not None:
            counts[value.casefold()] = counts.get(value.casefold(), 0) + 1
    operations: list[Operation] = []
    for payload, value in zip(payloads, values, strict=True):
        if value is not None and counts[value.casefold()] > 1:
            operations.append((lambda _, v=value: _duplicate_external_id(key, v), None))
        else:
            operations.append((lambda w, p=payload, v=value: saved(*w.upsert(p, key, v)), None))
    return _apply(session, tx, operations, all_or_none)


def _duplicate_external_id(key: Field, value: str) -> NoReturn:
    # Salesforce refuses every record of a request that repeats an external id, not just the second one.
    raise record_error("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", key.name)


def delete_records(session: Session, tx: Transaction, ids_param: str, all_or_none_param: str) -> Reply:
    record_ids = [i for i in ids_param.split(",") if i]
    if not record_ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    _check_count(len(record_ids))
    all_or_none = all_or_none_param.lower() == "true"
    operations: list[Operation] = [(lambda w, i=i: saved(w.delete(None, i)), i) for i in record_ids]
    return _apply(session, tx, operations, all_or_none)


@router.post("/composite/sobjects")
def create_collection(session: SessionDep, body: JsonBody) -> Any:
    with session.store.transaction() as tx:
        return create_records(session, tx, body).body


@router.patch("/composite/sobjects")
def update_collection(session: SessionDep, body: JsonBody) -> Any:
    with session.store.transaction() as tx:
        return update_records(session, tx, body).body


@router.patch("/composite/sobjects/{object_name}/{field_name}")
def upsert_collection(session: SessionDep, object_name: str, field_name: str, body: JsonBody) -> Any:
    with session.store.transaction() as tx:
        return upsert_records(session, tx, object_name, field_name, body).body


@router.delete("/composite/sobjects")
def delete_collection(session: SessionDep, request: Request) -> Any:
    params = request.query_params
    with session.store.transaction() as tx:
        return delete_records(session, tx, params.get("ids", ""), params.get("allOrNone", "false")).body
