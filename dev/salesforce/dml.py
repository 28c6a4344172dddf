"""Writes with Salesforce's rules: defaults, required and read-only fields, references, uniqueness.

A request body is first parsed as a whole (``parse_payload``): unknown fields and values of the wrong
type fail the entire request, as they do in Salesforce, whose JSON deserializer sees them first. The
``Writer`` then applies one record at a time; its failures are per record (``record_error``), which
the collection endpoints report in that record's result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dev.salesforce import ids
from dev.salesforce.errors import ApiError, not_found, record_error
from dev.salesforce.schema import STRING_TYPES, Field, SObjectType, object_of_id, sobject
from dev.salesforce.store import Record, Store, Transaction
from dev.salesforce.values import cannot_deserialize, coerce, valid_email

if TYPE_CHECKING:
    from dev.salesforce.faults import WriteFaults


@dataclass(frozen=True)
class ForeignKey:
    """A parent named by external id inside a payload: ``"Account": {"Dwh_External_Id__c": "acct-1"}``."""

    field: Field  # the reference field it sets, e.g. AccountId
    target: SObjectType
    key: Field  # the parent's external id field
    value: str


@dataclass(frozen=True)
class Payload:
    sobject: SObjectType
    values: dict[str, Any]  # canonical field name -> stored form
    foreign_keys: tuple[ForeignKey, ...] = ()


def invalid_field(name: str, object_type: SObjectType) -> ApiError:
    return ApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {object_type.name}", [])


def parse_payload(object_type: SObjectType, body: Any) -> Payload:
    if not isinstance(body, dict):
        raise cannot_deserialize(object_type.name, body)
    values: dict[str, Any] = {}
    foreign_keys = []
    for key, raw in body.items():
        if key == "attributes":
            continue
        field = object_type.field(key)
        reference = object_type.relationship(key)
        if field is not None:
            values[field.name] = coerce(field, raw)
        elif reference is not None and isinstance(raw, dict):
            foreign_keys.append(_foreign_key(reference, raw))
        else:
            raise invalid_field(key, object_type)
    return Payload(object_type, values, tuple(foreign_keys))


def _foreign_key(reference: Field, body: dict[str, Any]) -> ForeignKey:
    relationship = reference.relationship_name
    attributes = body.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if type_name is None and len(reference.reference_to) > 1:
        # Salesforce cannot guess which object a polymorphic key (Who, What) names.
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"The polymorphic foreign key {relationship} needs attributes with a type "
            f"(one of {', '.join(reference.reference_to)})",
            [],
        )
    target = sobject(type_name or reference.reference_to[0])
    if target is None or target.name not in reference.reference_to:
        raise ApiError(400, "INVALID_FIELD", f"Invalid type {type_name} for foreign key {relationship}", [])
    keys = [k for k in body if k != "attributes"]
    if len(keys) != 1:
        raise ApiError(400, "INVALID_FIELD", f"Foreign key {relationship} must name exactly one external ID field", [])
    key = target.field(keys[0])
    if key is None:
        raise invalid_field(keys[0], target)
    if not key.external_id:
        raise ApiError(400, "INVALID_FIELD", f"Field {key.name} on {target.name} is not an external ID field", [])
    value = body[keys[0]]
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise cannot_deserialize("string", value)
    return ForeignKey(reference, target, key, str(value))


def live_record(store: Store, object_type: SObjectType | None, raw_id: str) -> Record:
    """The record an Id names, or the error Salesforce gives for a bad, unknown or deleted Id."""
    record_id = ids.normalize(raw_id)
    if record_id is None:
        raise record_error("MALFORMED_ID", f"malformed id {raw_id}")
    record = store.get(record_id)
    if record is None or (object_type is not None and record.sobject != object_type.name):
        raise not_found()
    if record.deleted:
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
    return record


class Writer:
    """Applies payloads inside one transaction, as the user ``user_id`` (CreatedById, default OwnerId).

    ``trusted`` lets the seed set read-only fields (e.g. a converted lead's ConvertedContactId), which
    Salesforce itself only sets through processes like lead conversion. ``faults`` are the test switches that
    reject chosen records (faults.py).
    """

    def __init__(
        self, store: Store, tx: Transaction, user_id: str, *, trusted: bool = False, faults: WriteFaults | None = None
    ) -> None:
        self._store = store
        self._tx = tx
        self._user_id = user_id
        self._trusted = trusted
        self._faults = faults

    def create(self, payload: Payload) -> Record:
        object_type = payload.sobject
        if "Id" in payload.values:
            raise record_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE", "Record ID: cannot specify Id in an insert call", "Id"
            )
        self._check_writable(payload, creating=True)
        fields: dict[str, Any] = {f.name: f.default for f in object_type.fields}
        if object_type.field("OwnerId"):
            fields["OwnerId"] = self._user_id
        fields |= self._changes(payload)
        return self._save(object_type, fields, required=[f.name for f in object_type.fields], record_id=None)

    def update(self, object_type: SObjectType, raw_id: str, payload: Payload) -> Record:
        current = live_record(self._store, object_type, raw_id)
        self._check_writable(payload, creating=False)
        changes = self._changes(payload)
        return self._save(object_type, current.fields | changes, required=list(changes), record_id=current.id)

    def upsert(self, payload: Payload, key: Field, value: str | None) -> tuple[Record, bool]:
        """Update the live record whose ``key`` matches ``value``, else create one; True when created.

        A record without a key value is created, as Salesforce's bulk upserts do. ``key`` is unique,
        so there is never more than one match (Salesforce's 300 Multiple Choices cannot arise).
        """
        existing = self._store.find_unique(payload.sobject.name, key.name, value) if value else None
        payload = replace(payload, values=payload.values | {key.name: value})
        if existing is None:
            return self.create(payload), True
        return self.update(payload.sobject, existing.id, payload), False

    def delete(self, object_type: SObjectType | None, raw_id: str) -> Record:
        current = live_record(self._store, object_type, raw_id)
        owner_type = sobject(current.sobject)
        assert owner_type is not None
        if not owner_type.deletable:
            raise record_error("INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted")
        return self._stamp_and_put(owner_type, current.fields | {"IsDeleted": True})

    # --- validation --------------------------------------------------------------------------------

    def _check_writable(self, payload: Payload, *, creating: bool) -> None:
        if self._trusted:
            return
        fields = [payload.sobject.field(name) for name in payload.values]
        read_only = [f.name for f in fields if f is not None and not (f.createable if creating else f.updateable)]
        if read_only:
            raise record_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please check the security settings of "
                "this field and verify that it is read/write for your profile or permission set.",
                *read_only,
            )

    def _changes(self, payload: Payload) -> dict[str, Any]:
        """The payload's values with parents resolved, blanks as Salesforce stores them, references checked."""
        changes = dict(payload.values)
        for foreign_key in payload.foreign_keys:
            parent = self._store.find_unique(foreign_key.target.name, foreign_key.key.name, foreign_key.value)
            if parent is None:
                raise record_error(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {foreign_key.value} not found for field {foreign_key.key.name} "
                    f"in entity {foreign_key.target.name}",
                )
            changes[foreign_key.field.name] = parent.id
        for name, value in changes.items():
            field = payload.sobject.field(name)
            assert field is not None
            if field.type == "boolean" and value is None:
                changes[name] = False  # checkboxes are never null
            elif field.type in STRING_TYPES and value == "":
                changes[name] = None  # Salesforce stores an empty text as null
            elif value is not None:
                changes[name] = self._checked(payload.sobject, field, value)
        return changes

    def _checked(self, object_type: SObjectType, field: Field, value: Any) -> Any:
        if field.type == "reference":
            return self._checked_reference(object_type, field, value)
        if field.type in STRING_TYPES and field.length and len(value) > field.length:
            raise record_error(
                "STRING_TOO_LONG",
                f"{field.label}: data value too large: {value} (max length={field.length})",
                field.name,
            )
        if field.type == "email" and not valid_email(value):
            raise record_error("INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {value}", field.name)
        return value

    def _checked_reference(self, object_type: SObjectType, field: Field, value: str) -> str:
        record_id = ids.normalize(value)
        if record_id is None:
            raise record_error("MALFORMED_ID", f"{field.label}: id value of incorrect type: {value}", field.name)
        target = object_of_id(record_id)
        if target is None or target.name not in field.reference_to:
            raise record_error(
                "FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of incorrect type: {value}", field.name
            )
        parent = self._store.get(record_id)
        if parent is None:
            raise record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", field.name)
        if parent.deleted:
            raise record_error("ENTITY_IS_DELETED", "entity is deleted", field.name)
        # The seed is history: records may belong to users deactivated since, as in any real org.
        if field.name == "OwnerId" and not parent.fields.get("IsActive") and not self._trusted:
            raise record_error(
                "INACTIVE_OWNER_OR_USER",
                f"operation performed with inactive user [{record_id[:15]}] as owner of {object_type.name.lower()}",
                field.name,
            )
        return record_id

    def _save(
        self, object_type: SObjectType, fields: dict[str, Any], *, required: list[str], record_id: str | None
    ) -> Record:
        """Check what needs the whole record, then store it (``record_id`` None: a new record)."""
        if self._faults is not None:
            self._faults.check(object_type.name, fields)
        missing = [
            f.name
            for f in object_type.fields
            if f.name in required and f.createable and not f.nillable and fields.get(f.name) is None
        ]
        if missing:
            raise record_error(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", *missing
            )
        name = object_type.field("Name")
        if name is not None and not name.createable:  # a person's Name is derived, never written
            fields["Name"] = " ".join(filter(None, (fields.get("FirstName"), fields.get("LastName"))))
        for field in object_type.unique_fields:
            value = fields.get(field.name)
            holder = self._store.find_unique(object_type.name, field.name, value) if value is not None else None
            if holder is not None and holder.id != record_id:
                raise record_error(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field.name} duplicates value on record with id: {holder.id[:15]}",
                )
        if record_id is None:  # Ids are handed out only to records that pass validation
            fields |= {
                "Id": self._tx.new_id(object_type.key_prefix),
                "CreatedDate": self._tx.now,
                "CreatedById": self._user_id,
            }
        return self._stamp_and_put(object_type, fields)

    def _stamp_and_put(self, object_type: SObjectType, fields: dict[str, Any]) -> Record:
        fields = fields | {
            "LastModifiedDate": self._tx.now,
            "LastModifiedById": self._user_id,
            "SystemModstamp": self._tx.now,
        }
        record = Record(object_type.name, fields)
        self._tx.put(record)
        return record
