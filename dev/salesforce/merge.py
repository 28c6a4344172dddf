"""Merging records, as the SOAP API's ``merge()`` does it (soap.py carries it over the wire).

A merge keeps the master record and deletes the others (the "victims", at most two): they go to the
recycle bin with ``MasterRecordId`` = the master's Id, so ``queryAll`` still returns them. Their children
are re-parented to the master first. Field values set on ``masterRecord`` are written to the master, as
an update would; every other master value stays. Each merge request is its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dev.salesforce import ids
from dev.salesforce.dml import CONVERTED_LEAD_MESSAGE, Writer, parse_payload
from dev.salesforce.errors import ApiError, record_error
from dev.salesforce.schema import sobject
from dev.salesforce.store import Record

MAX_MERGE_REQUESTS = 200
MAX_RECORDS_TO_MERGE = 2  # three records a request, the master included
# The children a merge moves to the master: (object, reference field) per merged object.
CHILDREN = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Task", "WhatId")),
    "Contact": (("Task", "WhoId"),),
    "Lead": (("Task", "WhoId"),),
}


@dataclass(frozen=True)
class MergeRequest:
    """``masterRecord`` (its type, its Id, the values to set, fieldsToNull) and ``recordToMergeIds``."""

    object_name: str | None
    master_id: str | None
    values: dict[str, str | None]
    fields_to_null: tuple[str, ...]
    record_ids: tuple[str, ...]


@dataclass
class MergeResult:
    master_id: str | None
    merged_ids: list[str] = field(default_factory=list)
    updated_related_ids: list[str] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.errors


def merge_records(writer: Writer, requests: list[MergeRequest]) -> list[MergeResult]:
    results = []
    for request in requests:
        savepoint = writer.tx.savepoint()
        try:
            results.append(_merge(writer, request))
        except ApiError as error:
            writer.tx.rollback(savepoint)
            results.append(MergeResult(ids.normalize(request.master_id or ""), errors=[error]))
    return results


def _merge(writer: Writer, request: MergeRequest) -> MergeResult:
    object_type = sobject(request.object_name or "")
    if object_type is None or not object_type.mergeable:
        raise record_error(
            "INVALID_TYPE_FOR_OPERATION", f"merge is supported for Lead, Contact and Account, not {request.object_name}"
        )
    if not request.master_id:
        raise record_error("MISSING_ARGUMENT", "masterRecord: the Id of the master record is required", "Id")
    if not 1 <= len(request.record_ids) <= MAX_RECORDS_TO_MERGE:
        raise record_error(
            "LIMIT_EXCEEDED",
            f"a merge request takes 1 to {MAX_RECORDS_TO_MERGE} records to merge into the master record",
        )
    master = _mergeable(writer, object_type.name, request.master_id)
    victims: list[Record] = []
    for raw_id in request.record_ids:
        victim = _mergeable(writer, object_type.name, raw_id)
        if victim.id == master.id or victim.id in {v.id for v in victims}:
            raise record_error("INVALID_ID_FIELD", f"the record {victim.id} appears twice in the merge request")
        victims.append(victim)
    # Parse the master's new values before anything changes: a bad field fails the request cleanly.
    body = dict(request.values) | dict.fromkeys(request.fields_to_null)
    payload = parse_payload(object_type, body)
    moved = []
    for victim in victims:
        for child_object, field_key in CHILDREN.get(object_type.name, ()):
            for child in writer.children(child_object, field_key, victim.id):
                writer.system_update(child, {field_key: master.id})
                moved.append(child.id)
        writer.soft_delete(victim, master_id=master.id)
    if payload.values:
        writer.update(object_type, master.id, payload)
    else:
        writer.system_update(master, {})  # a merge modifies the master even when no value changes
    return MergeResult(master.id, [v.id for v in victims], moved)


def _mergeable(writer: Writer, object_name: str, raw_id: str) -> Record:
    record_id = ids.normalize(raw_id)
    if record_id is None:
        raise record_error("MALFORMED_ID", f"malformed id {raw_id}")
    record = writer.store.get(record_id)
    if record is None or record.sobject != object_name:
        raise record_error("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {raw_id}")
    if record.deleted:
        raise record_error("ENTITY_IS_DELETED", "entity is deleted")
    if record.fields.get("IsConverted"):
        raise record_error("CANNOT_UPDATE_CONVERTED_LEAD", CONVERTED_LEAD_MESSAGE)
    return record
