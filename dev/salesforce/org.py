"""The org's customisation: how this org differs from the default one (an emulator extra for tests).

Real orgs differ: a custom field is missing or renamed, a picklist value was removed or deactivated, an
external id is not unique, the integration user lacks a permission. A preflight check must catch each
of these, so tests need orgs broken that way. An ``OrgConfig`` says how; ``apply`` turns it into the
schema in force (schema.install) and the data that follows from it (the LeadStatus rows, the integration
user's permission set). It comes from ``--org-config FILE`` at start, or at run time from
``PUT /_admin/org`` (same JSON; ``GET`` shows it, ``DELETE`` restores the default org). The store keeps
the last one applied, so a restart serves the same org.

Field paths are ``Object.Field`` with the field's name in the default org, even after a rename.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dev.salesforce import schema
from dev.salesforce.dml import Writer
from dev.salesforce.ids import make_id
from dev.salesforce.schema import Field as SchemaField
from dev.salesforce.schema import PicklistValue, SObjectType
from dev.salesforce.seed import INTEGRATION_PERMISSION_SET
from dev.salesforce.store import Record, Store
from dev.salesforce.web import JsonBody, session_user, store_of

SETTING = "org_config"
LEAD_STATUS_PREFIX = "01J"


class OrgConfigError(ValueError):
    """A customisation the emulator cannot apply (unknown field, a standard field removed, ...)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FieldChange(_Model):
    unique: bool | None = None
    external_id: bool | None = Field(default=None, alias="externalId")


class PicklistChange(_Model):
    restricted: bool | None = None
    add: list[str] = []
    remove: list[str] = []
    deactivate: list[str] = []
    default: str | None = None
    # Lead.Status only: which values are converted statuses (LeadStatus.IsConverted).
    converted: list[str] | None = None


class OrgConfig(_Model):
    remove_fields: list[str] = Field(default=[], alias="removeFields")
    rename_fields: dict[str, str] = Field(default={}, alias="renameFields")
    fields: dict[str, FieldChange] = {}
    picklists: dict[str, PicklistChange] = {}
    integration_user_can_convert_leads: bool = Field(default=True, alias="integrationUserCanConvertLeads")
    # Object permissions the integration user's profile and permission sets do not grant, e.g. {"Account":
    # ["create"]}: the objects' describe says so (createable/updateable) and convertLead() refuses.
    integration_user_lacks: dict[str, list[Literal["create", "edit"]]] = Field(default={}, alias="integrationUserLacks")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_defaults=True)


def parse_config(raw: Any) -> OrgConfig:
    try:
        return OrgConfig.model_validate(raw)
    except ValidationError as error:
        raise OrgConfigError(str(error)) from None


# --- the schema -----------------------------------------------------------------------------------------


def build_objects(config: OrgConfig) -> list[SObjectType]:
    """The default org's objects with ``config`` applied."""
    base = {o.name: o for o in schema.base_objects()}
    objects = dict(base)

    def locate(path: str) -> tuple[SObjectType, SchemaField]:
        """The field a path names in the default org (changes are applied to it by its storage key)."""
        object_name, _, field_name = path.partition(".")
        object_type = base.get(object_name)
        found = object_type.field(field_name) if object_type else None
        if object_type is None or found is None:
            raise OrgConfigError(f"{path}: no such field in the default org")
        return object_type, found

    def put(object_type: SObjectType, old: SchemaField, new: SchemaField | None) -> None:
        current = objects[object_type.name]
        fields = tuple(new if f.key == old.key else f for f in current.fields if new is not None or f.key != old.key)
        objects[object_type.name] = replace(current, fields=fields)

    for object_name, lacks in config.integration_user_lacks.items():
        if object_name not in objects:
            raise OrgConfigError(f"integrationUserLacks: no object {object_name} in the default org")
        current = objects[object_name]
        objects[object_name] = replace(
            current,
            createable=current.createable and "create" not in lacks,
            updateable=current.updateable and "edit" not in lacks,
        )
    for path, change in config.fields.items():
        object_type, found = locate(path)
        current = objects[object_type.name].field_by_key(found.key)
        assert current is not None
        updates = {
            k: v for k, v in {"unique": change.unique, "external_id": change.external_id}.items() if v is not None
        }
        put(object_type, current, replace(current, **updates))
    for path, change in config.picklists.items():
        object_type, found = locate(path)
        if found.type != "picklist":
            raise OrgConfigError(f"{path}: not a picklist")
        current = objects[object_type.name].field_by_key(found.key)
        assert current is not None
        put(object_type, current, _picklist(path, current, change))
    for path, new_name in config.rename_fields.items():
        object_type, found = locate(path)
        _custom_only(path, found)
        if not new_name.endswith("__c") or objects[object_type.name].field(new_name) is not None:
            raise OrgConfigError(f"{path}: the new name {new_name} must be a free custom field name (ending __c)")
        current = objects[object_type.name].field_by_key(found.key)
        assert current is not None
        put(object_type, current, replace(current, name=new_name, label=schema._label(new_name)))
    for path in config.remove_fields:
        object_type, found = locate(path)
        _custom_only(path, found)
        current = objects[object_type.name].field_by_key(found.key)
        if current is not None:
            put(object_type, current, None)
    return list(objects.values())


def _custom_only(path: str, found: SchemaField) -> None:
    if not found.custom:
        raise OrgConfigError(f"{path}: only custom fields (ending __c) can be removed or renamed")


def _picklist(path: str, current: SchemaField, change: PicklistChange) -> SchemaField:
    values = {v.value: v for v in current.picklist}
    for value in [*change.remove, *change.deactivate]:
        if value not in values:
            raise OrgConfigError(f"{path}: no picklist value {value!r} to remove or deactivate")
    if change.converted is not None and path != "Lead.Status":
        raise OrgConfigError(f"{path}: only Lead.Status has converted values")
    ordinal = max((v.ordinal for v in current.picklist), default=0)
    for value in change.add:
        if value not in values:
            ordinal += 1
            values[value] = PicklistValue(value, ordinal=ordinal)
    for value in change.remove:
        del values[value]
    for value in change.deactivate:
        values[value] = replace(values[value], active=False)
    if change.converted is not None:
        unknown = set(change.converted) - set(values)
        if unknown:
            raise OrgConfigError(f"{path}: converted values {sorted(unknown)} are not picklist values")
        values = {k: replace(v, converted=k in change.converted) for k, v in values.items()}
    default = change.default if change.default is not None else current.default
    if default is not None and (default not in values or not values[default].active):
        if change.default is not None or not current.nillable:
            raise OrgConfigError(f"{path}: the default value {default!r} must be an active value")
        default = None
    restricted = current.restricted if change.restricted is None else change.restricted
    return replace(current, picklist=tuple(values.values()), default=default, restricted=restricted)


# --- applying it ------------------------------------------------------------------------------------------


def apply(store: Store, config: OrgConfig) -> None:
    """Install ``config``'s schema and bring the data that follows from it up to date; keep it."""
    objects = build_objects(config)
    with store.lock:
        _check_unique_values(store, objects)
        schema.install(objects)
        store.reindex()
        with store.transaction() as tx:
            writer = Writer(store, tx, make_id("005", 1), trusted=True)
            sync_lead_statuses(writer)
            _integration_permission(writer, config.integration_user_can_convert_leads)
        store.save_setting(SETTING, json.dumps(config.dump()))


def stored_config(store: Store) -> OrgConfig:
    raw = store.setting(SETTING)
    return parse_config(json.loads(raw)) if raw else OrgConfig()


def _check_unique_values(store: Store, objects: list[SObjectType]) -> None:
    """Salesforce refuses to make a field unique while records share a value; so does the emulator."""
    for object_type in objects:
        for field in object_type.unique_fields:
            seen: dict[str, str] = {}
            for record in store.records(object_type.name):
                value = record.fields.get(field.key)
                if record.deleted or value is None:
                    continue
                other = seen.setdefault(str(value).casefold(), record.id)
                if other != record.id:
                    raise OrgConfigError(
                        f"{object_type.name}.{field.name} cannot be unique: {other} and {record.id} share {value!r}"
                    )


def sync_lead_statuses(writer: Writer) -> None:
    """One LeadStatus row per active Lead Status value, as Salesforce keeps them in step."""
    lead = schema.sobject("Lead")
    assert lead is not None
    status = lead.field("Status")
    assert status is not None
    wanted = {
        make_id(LEAD_STATUS_PREFIX, value.ordinal): {
            "ApiName": value.value,
            "MasterLabel": value.value,
            "IsConverted": value.converted,
            "IsDefault": value.value == status.default,
            "SortOrder": position,
        }
        for position, value in enumerate((v for v in status.picklist if v.active), start=1)
    }
    store = writer.store
    for record in store.records("LeadStatus"):
        if record.id not in wanted:
            writer.tx.remove(record.id)
    for record_id, fields in wanted.items():
        current = store.get(record_id)
        if current is None:
            now = writer.tx.now
            base = {"Id": record_id, "CreatedDate": now, "CreatedById": writer.user_id}
            writer.system_update(Record("LeadStatus", base), fields)
        elif any(current.fields.get(k) != v for k, v in fields.items()):
            writer.system_update(current, fields)


def _integration_permission(writer: Writer, can_convert: bool) -> None:
    for permission_set in writer.store.records("PermissionSet"):
        name = permission_set.fields.get("Name")
        if name == INTEGRATION_PERMISSION_SET and permission_set.fields.get("PermissionsConvertLeads") != can_convert:
            writer.system_update(permission_set, {"PermissionsConvertLeads": can_convert})


# --- run-time endpoint ------------------------------------------------------------------------------------

router = APIRouter(prefix="/_admin/org", dependencies=[Depends(session_user)])
StoreDep = Annotated[Store, Depends(store_of)]


@router.get("")
def show(store: StoreDep) -> dict[str, Any]:
    return stored_config(store).dump()


@router.put("")
def replace_config(store: StoreDep, body: JsonBody) -> Response:
    try:
        config = parse_config(body)
        apply(store, config)
    except OrgConfigError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse(config.dump())


@router.delete("", status_code=204)
def reset(store: StoreDep) -> Response:
    try:
        apply(store, OrgConfig())
    except OrgConfigError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return Response(status_code=204)
