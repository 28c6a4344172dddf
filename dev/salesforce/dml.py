"""Writes with Salesforce's rules: defaults, required and read-only fields, references, uniqueness.

A request body is first parsed as a whole (``parse_payload``): unknown fields and values of the wrong
type fail the entire request, as they do in Salesforce, whose JSON deserializer sees them first. The
``Writer`` then applies one record at a time; its failures are per record (``record_error``), which
the collection endpoints report in that record's result.

Records keep each value under its field's storage key (``Field.key``): the field's original API name,
so an org customisation that renames a custom field (org.py) keeps the data.
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

CONVERTED_LEAD_MESSAGE = "cannot reference converted lead"
# Deleting an account sends its contacts and opportunities to the recycle bin with it; deleting any
# record also deletes its activities (tasks whose Who or What it is).
_CASCADES = {"Account": (("Contact", "AccountId"), ("Opportunity", "AccountId"))}
_ACTIVITY_LINKS = ("WhoId", "WhatId")


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
    values: dict[str, Any]  # storage key (Field.key) -> stored form
    foreign_keys: tuple[ForeignKey, ...] = ()


class MultipleMatches(ApiError):
    """An external id value that more than one record holds (possible when the field is not unique)."""

    def __init__(self, key: Field, value: str, matches: list[Record]) -> None:
        super().__init__(
            300,
            "DUPLICATE_EXTERNAL_ID",
            f"{key.label}: more than one record found for external id field: [{', '.join(r.id for r in matches)}]",
            [key.name],
        )
        self.matches = matches


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
            values[field.key] = coerce(field, raw)
        elif reference is not None and isinstance(raw, dict):
            foreign_keys.append(_foreign_key(reference, raw))
        else:
            raise invalid_field(key, object_type)
    return Payload(object_type, values, tuple(foreign_keys))


def _foreign_key(reference: Field, body: dict[str, Any]) -> ForeignKey:
    relationship = reference.relationship_name
    attributes = body.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if type_name is None and reference.polymorphic:
        # Salesforce cannot guess which object a polymorphic key (Who, What, a lead's Owner) names.
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


def matching_records(store: Store, object_type: SObjectType, key: Field, value: str) -> list[Record]:
    """The live records holding ``value`` in ``key`` (at most one when the field is unique)."""
    if key.unique:
        found = store.find_unique(object_type.name, key.key, value)
        return [found] if found else []
    return store.find_all(object_type.name, key.key, value)


def has_permission(store: Store, user_id: str, permission: str) -> bool:
    """Whether any permission set assigned to the user (its profile's own included) grants ``permission``,
    as PermissionSetAssignment + PermissionSet describe a user's effective permissions."""
    granted = {
        r.fields.get("PermissionSetId")
        for r in store.records("PermissionSetAssignment")
        if r.fields.get("AssigneeId") == user_id
    }
    return any(
        (permission_set := store.get(str(permission_set_id))) is not None
        and bool(permission_set.fields.get(permission))
        for permission_set_id in granted
    )


class Writer:
    """Applies payloads inside one transaction, as the user ``user_id`` (CreatedById, default OwnerId).

    ``trusted`` lets the seed and the system (lead conversion, merges) set read-only fields and write
    history (records of users deactivated since, values inactive since). ``faults`` are the test switches
    that reject chosen records (faults.py).
    """

    def __init__(
        self, store: Store, tx: Transaction, user_id: str, *, trusted: bool = False, faults: WriteFaults | None = None
    ) -> None:
        self._store = store
        self._tx = tx
        self._user_id = user_id
        self._trusted = trusted
        self._faults = faults

    @property
    def store(self) -> Store:
        return self._store

    @property
    def tx(self) -> Transaction:
        return self._tx

    @property
    def user_id(self) -> str:
        return self._user_id

    def check_faults(self, object_name: str, fields: dict[str, Any]) -> None:
        """Raise the record error of a fault switch that rejects this record (faults.py)."""
        if self._faults is not None:
            self._faults.check(object_name, fields)

    def trusted(self) -> Writer:
        """The same transaction and user, allowed to write what only Salesforce itself writes."""
        return Writer(self._store, self._tx, self._user_id, trusted=True, faults=self._faults)

    def create(self, payload: Payload) -> Record:
        object_type = payload.sobject
        if not object_type.createable and not self._trusted:
            raise record_error("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {object_type.label}")
        if "Id" in payload.values:
            raise record_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE", "Record ID: cannot specify Id in an insert call", "Id"
            )
        self._check_writable(payload, creating=True)
        fields: dict[str, Any] = {f.key: f.default for f in object_type.fields}
        if object_type.field("OwnerId"):
            fields["OwnerId"] = self._user_id
        fields |= self._changes(payload)
        record = self._save(object_type, fields, required=[f.key for f in object_type.fields], record_id=None)
        self._after_write(None, record)
        return record

    def update(self, object_type: SObjectType, raw_id: str, payload: Payload) -> Record:
        current = live_record(self._store, object_type, raw_id)
        if not self._trusted:
            if not object_type.updateable:
                raise record_error("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be updated: {object_type.label}")
            if current.sobject == "Lead" and current.fields.get("IsConverted"):
                raise record_error("CANNOT_UPDATE_CONVERTED_LEAD", CONVERTED_LEAD_MESSAGE)
        self._check_writable(payload, creating=False)
        changes = self._changes(payload)
        record = self._save(object_type, current.fields | changes, required=list(changes), record_id=current.id)
        self._after_write(current, record)
        return record

    def upsert(self, payload: Payload, key: Field, value: str | None) -> tuple[Record, bool]:
        """Update the live record whose ``key`` matches ``value``, else create one; True when created.

        A record without a key value is created, as Salesforce's bulk upserts do. A value that several
        records hold (the field is not unique) fails with MultipleMatches, Salesforce's 300 answer.
        """
        matches = matching_records(self._store, payload.sobject, key, value) if value else []
        if len(matches) > 1:
            raise MultipleMatches(key, value or "", matches)
        payload = replace(payload, values=payload.values | {key.key: value})
        if not matches:
            return self.create(payload), True
        return self.update(payload.sobject, matches[0].id, payload), False

    def delete(self, object_type: SObjectType | None, raw_id: str) -> Record:
        current = live_record(self._store, object_type, raw_id)
        owner_type = sobject(current.sobject)
        assert owner_type is not None
        if not owner_type.deletable:
            raise record_error("INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted")
        if owner_type.hard_delete:
            self._tx.remove(current.id)
            return current
        deleted = self.soft_delete(current)
        self._cascade_delete(current)
        return deleted

    # --- what only Salesforce itself writes (conversion, merge) ------------------------------------

    def soft_delete(self, record: Record, master_id: str | None = None) -> Record:
        """Send one record to the recycle bin (queryAll still sees it); a merge names its master."""
        object_type = sobject(record.sobject)
        assert object_type is not None
        changes: dict[str, Any] = {"IsDeleted": True}
        if master_id is not None:
            changes["MasterRecordId"] = master_id
        return self._stamp_and_put(object_type, record.fields | changes)

    def system_update(self, record: Record, changes: dict[str, Any]) -> Record:
        """Set fields (storage keys) without the API's checks, stamping the record as modified."""
        object_type = sobject(record.sobject)
        assert object_type is not None
        current = self._store.get(record.id) or record
        return self._stamp_and_put(object_type, current.fields | changes)

    def children(self, object_name: str, field_key: str, parent_id: str) -> list[Record]:
        return [r for r in self._store.records(object_name) if not r.deleted and r.fields.get(field_key) == parent_id]

    def _cascade_delete(self, parent: Record) -> None:
        for child_object, field_key in _CASCADES.get(parent.sobject, ()):
            for child in self.children(child_object, field_key, parent.id):
                self.soft_delete(child)
                self._cascade_delete(child)
        for link in _ACTIVITY_LINKS:
            for task in self.children("Task", link, parent.id):
                self.soft_delete(task)

    def _after_write(self, before: Record | None, after: Record) -> None:
        """Salesforce's own bookkeeping around a write: a user holds its profile's permission set, and a
        profile's permissions are those of the permission set it owns."""
        if after.sobject == "User" and (
            before is None or before.fields.get("ProfileId") != after.fields.get("ProfileId")
        ):
            self._assign_profile_permission_set(after, before.fields.get("ProfileId") if before else None)
        if after.sobject == "PermissionSet" and after.fields.get("IsOwnedByProfile"):
            profile = self._store.get(str(after.fields.get("ProfileId")))
            if profile is not None:
                mirrored = {k: v for k, v in after.fields.items() if k.startswith("Permissions")}
                self.system_update(profile, mirrored)

    def _assign_profile_permission_set(self, user: Record, old_profile_id: str | None) -> None:
        owned = {
            r.fields.get("ProfileId"): r.id
            for r in self._store.records("PermissionSet")
            if r.fields.get("IsOwnedByProfile")
        }
        for assignment in self._store.records("PermissionSetAssignment"):
            if assignment.fields.get("AssigneeId") == user.id and assignment.fields.get("PermissionSetId") == owned.get(
                old_profile_id
            ):
                self._tx.remove(assignment.id)
        new_set = owned.get(user.fields.get("ProfileId"))
        if new_set is not None:
            assignment_type = sobject("PermissionSetAssignment")
            assert assignment_type is not None
            self.trusted().create(Payload(assignment_type, {"AssigneeId": user.id, "PermissionSetId": new_set}))

    # --- validation --------------------------------------------------------------------------------

    def _check_writable(self, payload: Payload, *, creating: bool) -> None:
        if self._trusted:
            return
        fields = [payload.sobject.field_by_key(key) for key in payload.values]
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
            parents = matching_records(self._store, foreign_key.target, foreign_key.key, foreign_key.value)
            if not parents:
                raise record_error(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {foreign_key.value} not found for field {foreign_key.key.name} "
                    f"in entity {foreign_key.target.name}",
                )
            if len(parents) > 1:
                raise record_error(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {foreign_key.value} matches more than one record for field "
                    f"{foreign_key.key.name} in entity {foreign_key.target.name}",
                )
            changes[foreign_key.field.key] = parents[0].id
        for key, value in changes.items():
            field = payload.sobject.field_by_key(key)
            assert field is not None
            if field.type == "boolean" and value is None:
                changes[key] = False  # checkboxes are never null
            elif field.type in STRING_TYPES and value == "":
                changes[key] = None  # Salesforce stores an empty text as null
            elif value is not None:
                changes[key] = self._checked(payload.sobject, field, value)
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
        # History (the seed) may hold values deactivated since, as real records keep theirs.
        if field.type == "picklist" and field.restricted and not self._trusted and value not in field.active_values:
            raise record_error(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{field.label}: bad value for restricted picklist field: {value}",
                field.name,
            )
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
        if parent.sobject == "Lead" and parent.fields.get("IsConverted") and not self._trusted:
            raise record_error("CANNOT_UPDATE_CONVERTED_LEAD", CONVERTED_LEAD_MESSAGE, field.name)
        if field.name == "OwnerId" and target.name == "Group":
            self._check_queue(object_type, field, parent)
        # The seed is history: records may belong to users deactivated since, as in any real org.
        if (
            field.name == "OwnerId"
            and target.name == "User"
            and not parent.fields.get("IsActive")
            and not self._trusted
        ):
            raise record_error(
                "INACTIVE_OWNER_OR_USER",
                f"operation performed with inactive user [{record_id[:15]}] as owner of {object_type.name.lower()}",
                field.name,
            )
        return record_id

    def _check_queue(self, object_type: SObjectType, field: Field, group: Record) -> None:
        """A group owns records only as a queue that takes the object (QueueSobject)."""
        takes_object = group.fields.get("Type") == "Queue" and any(
            r.fields.get("QueueId") == group.id and r.fields.get("SobjectType") == object_type.name
            for r in self._store.records("QueueSobject")
        )
        if not takes_object:
            raise record_error(
                "FIELD_INTEGRITY_EXCEPTION",
                f"{field.label}: queue {group.fields.get('Name')} does not take {object_type.name} records",
                field.name,
            )

    def _save(
        self, object_type: SObjectType, fields: dict[str, Any], *, required: list[str], record_id: str | None
    ) -> Record:
        """Check what needs the whole record, then store it (``record_id`` None: a new record)."""
        if self._faults is not None:
            self._faults.check(object_type.name, fields)
        missing = [
            f.name
            for f in object_type.fields
            if f.key in required and f.createable and not f.nillable and fields.get(f.key) is None
        ]
        if missing:
            raise record_error(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", *missing
            )
        name = object_type.field("Name")
        if name is not None and object_type.field("LastName") is not None:  # a person's Name is derived
            fields["Name"] = " ".join(filter(None, (fields.get("FirstName"), fields.get("LastName"))))
        for field in object_type.unique_fields:
            value = fields.get(field.key)
            holder = self._store.find_unique(object_type.name, field.key, value) if value is not None else None
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
