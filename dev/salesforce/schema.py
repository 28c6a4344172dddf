"""The emulated objects and their fields, described the way ``/sobjects/{Object}/describe`` does.

Only the fields this project uses are modelled. Every object carries the audit fields Salesforce
maintains itself, and the business objects carry the two custom fields the pipeline writes:
``Dwh_External_Id__c`` (unique external id, the upsert key) and ``Workspace_Id__c``.

The objects an org has are its *schema*: the built-in one (``base_objects``) as changed by the org's
customisation (org.py: a removed or renamed custom field, a picklist value gone, a non-unique external
id...). One process serves one org, so the schema in force is module state, swapped whole by
``install``; every reader goes through ``sobject``/``objects``/``object_of_id``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

API_VERSION = "59.0"

STRING_TYPES = frozenset({"string", "email", "phone", "url", "picklist", "textarea", "id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency"})
_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass(frozen=True)
class PicklistValue:
    value: str
    active: bool = True
    converted: bool = False  # Lead Status only: the value is a converted status (LeadStatus.IsConverted)
    ordinal: int = 0  # order of creation: gives LeadStatus rows stable Ids whatever else is removed

    def describe(self, default: Any) -> dict[str, Any]:
        return {
            "active": self.active,
            "defaultValue": self.value == default,
            "label": self.value,
            "validFor": None,
            "value": self.value,
        }


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # describe's type names: id, string, email, phone, url, picklist, textarea, boolean, ...
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    default: Any = None  # the value Salesforce fills in on create when the field is omitted
    picklist: tuple[PicklistValue, ...] = ()
    restricted: bool = False  # restricted picklist: writes of a value not active in the list fail
    key: str = field(default="")  # where records keep the value: the original API name, so a rename keeps data

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name)

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def polymorphic(self) -> bool:
        return len(self.reference_to) > 1

    @property
    def active_values(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.picklist if v.active)

    @property
    def defaulted_on_create(self) -> bool:
        return self.default is not None or self.name == "OwnerId"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "label": self.label,
            "length": self.length,
            "precision": 18 if self.type == "currency" else 0,
            "scale": 2 if self.type == "currency" else 0,
            "digits": 9 if self.type == "int" else 0,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted_on_create,
            "defaultValue": self.default,
            "calculated": False,
            "autoNumber": False,
            "caseSensitive": False,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "custom": self.custom,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "polymorphicForeignKey": self.polymorphic,
            "namePointing": self.polymorphic,
            "restrictedPicklist": self.restricted,
            "picklistValues": [v.describe(self.default) for v in self.picklist],
        }


@dataclass(frozen=True)
class SObjectType:
    name: str
    label_plural: str
    key_prefix: str
    fields: tuple[Field, ...]
    label_singular: str = ""
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    hard_delete: bool = False  # setup objects have no recycle bin: a delete removes the row
    mergeable: bool = False

    @property
    def label(self) -> str:
        return self.label_singular or self.name

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name.lower(): f for f in self.fields}

    @cached_property
    def _by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    @cached_property
    def _by_relationship(self) -> dict[str, Field]:
        return {f.relationship_name.lower(): f for f in self.fields if f.relationship_name}

    def field(self, name: str) -> Field | None:
        """Field names are case-insensitive in payloads, URLs and SOQL alike."""
        return self._by_name.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        return self._by_relationship.get(name.lower())

    def field_by_key(self, key: str) -> Field | None:
        """The field whose values records keep under ``key`` (see Field.key)."""
        return self._by_key.get(key)

    @property
    def unique_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.unique)

    def summary(self) -> dict[str, Any]:
        base = f"/services/data/v{API_VERSION}/sobjects/{self.name}"
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label_plural,
            "keyPrefix": self.key_prefix,
            "custom": False,
            "createable": self.createable,
            "updateable": self.updateable,
            "deletable": self.deletable,
            "mergeable": self.mergeable,
            "undeletable": self.deletable and not self.hard_delete,
            "queryable": True,
            "retrieveable": True,
            "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
        }

    def describe(self) -> dict[str, Any]:
        return {**self.summary(), "fields": [f.describe() for f in self.fields]}


def _label(name: str) -> str:
    """Salesforce-like labels: ``LastName`` -> ``Last Name``, ``AccountId`` -> ``Account ID``."""
    base = name.removesuffix("__c").replace("_", " ")
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base)
    return re.sub(r" Id$", " ID", words)


def _f(name: str, type_: str, length: int = 0, **options: Any) -> Field:
    options.setdefault("label", _label(name))
    return Field(name=name, type=type_, length=length, **options)


def _reference(name: str, *targets: str, **options: Any) -> Field:
    options.setdefault("relationship_name", name.removesuffix("Id"))
    return _f(name, "reference", 18, reference_to=targets, **options)


def _read_only(name: str, type_: str, length: int = 0, **options: Any) -> Field:
    return _f(name, type_, length, createable=False, updateable=False, **options)


def _read_only_reference(name: str, *targets: str, **options: Any) -> Field:
    return _reference(name, *targets, createable=False, updateable=False, **options)


def picklist(*values: str | PicklistValue) -> tuple[PicklistValue, ...]:
    """Picklist values in order; a plain string is an active value."""
    return tuple(
        PicklistValue(v, ordinal=n) if isinstance(v, str) else PicklistValue(v.value, v.active, v.converted, n)
        for n, v in enumerate(values, start=1)
    )


def _system_fields() -> list[Field]:
    return [
        _read_only("Id", "id", 18, nillable=False, label="Record ID"),
        _read_only("CreatedDate", "datetime", nillable=False),
        _read_only_reference("CreatedById", "User", nillable=False, relationship_name="CreatedBy"),
        _read_only("LastModifiedDate", "datetime", nillable=False),
        _read_only_reference("LastModifiedById", "User", nillable=False, relationship_name="LastModifiedBy"),
        _read_only("SystemModstamp", "datetime", nillable=False, label="System Modstamp"),
    ]


def _business_fields(*owners: str) -> list[Field]:
    """Deletion, ownership and the pipeline's custom fields, shared by the objects the pipeline writes."""
    return [
        _read_only("IsDeleted", "boolean", nillable=False, label="Deleted", default=False),
        _reference("OwnerId", *(owners or ("User",)), nillable=False, label="Owner ID"),
        _f("Dwh_External_Id__c", "string", 255, external_id=True, unique=True, label="DWH External ID"),
        _f("Workspace_Id__c", "string", 255, label="Workspace ID"),
    ]


def _master_record(object_name: str) -> Field:
    """Set on the records a merge deleted: the Id of the record they were merged into."""
    return _read_only_reference("MasterRecordId", object_name, label="Master Record ID")


def _full_name() -> Field:
    """The compound ``Name`` of people: read-only, derived from FirstName and LastName."""
    return _read_only("Name", "string", 121, label="Full Name")


LEAD_SOURCES = picklist("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Product Signup", "Other")
INDUSTRIES = picklist(
    "Agriculture", "Banking", "Education", "Healthcare", "Manufacturing", "Retail", "Technology", "Other"
)
LEAD_STATUSES = picklist(
    "Open - Not Contacted",
    "Working - Contacted",
    PicklistValue("Closed - Converted", converted=True),
    "Closed - Not Converted",
)
# Objects a queue may own, as QueueSobject.SobjectType lists them (queues take cases, leads, service
# contracts and custom objects; contacts, accounts and opportunities are owned by users only).
QUEUE_OBJECTS = picklist("Case", "Lead", "ServiceContract")


def base_objects() -> list[SObjectType]:
    """The default org's objects, before any customisation."""
    return [
        SObjectType(
            "Lead",
            "Leads",
            "00Q",
            (
                *_system_fields(),
                *_business_fields("Group", "User"),
                _master_record("Lead"),
                _f("FirstName", "string", 40),
                _f("LastName", "string", 80, nillable=False),
                _full_name(),
                _f("Company", "string", 255, nillable=False),
                _f("Title", "string", 128),
                _f("Email", "email", 80),
                _f("Phone", "phone", 40),
                _f("Country", "string", 80),
                _f(
                    "Status",
                    "picklist",
                    255,
                    nillable=False,
                    default="Open - Not Contacted",
                    picklist=LEAD_STATUSES,
                ),
                _f("LeadSource", "picklist", 255, picklist=LEAD_SOURCES),
                _f("Industry", "picklist", 255, picklist=INDUSTRIES),
                _f("IsConverted", "boolean", nillable=False, updateable=False, default=False, label="Converted"),
                _read_only("ConvertedDate", "date"),
                _read_only_reference("ConvertedAccountId", "Account"),
                _read_only_reference("ConvertedContactId", "Contact"),
                _read_only_reference("ConvertedOpportunityId", "Opportunity"),
            ),
            mergeable=True,
        ),
        SObjectType(
            "Contact",
            "Contacts",
            "003",
            (
                *_system_fields(),
                *_business_fields(),
                _master_record("Contact"),
                _f("FirstName", "string", 40),
                _f("LastName", "string", 80, nillable=False),
                _full_name(),
                _f("Title", "string", 128),
                _f("Email", "email", 80),
                _f("Phone", "phone", 40),
                _reference("AccountId", "Account"),
                _f("LeadSource", "picklist", 255, picklist=LEAD_SOURCES),
                _f("MailingCountry", "string", 80),
            ),
            mergeable=True,
        ),
        SObjectType(
            "Account",
            "Accounts",
            "001",
            (
                *_system_fields(),
                *_business_fields(),
                _master_record("Account"),
                _f("Name", "string", 255, nillable=False, label="Account Name"),
                _f("Website", "url", 255),
                _f("Phone", "phone", 40),
                _f(
                    "Type",
                    "picklist",
                    255,
                    label="Account Type",
                    picklist=picklist("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"),
                ),
                _f("Industry", "picklist", 255, picklist=INDUSTRIES),
                _f("BillingCountry", "string", 80),
                _f("NumberOfEmployees", "int", label="Employees"),
                _f("AnnualRevenue", "currency"),
            ),
            mergeable=True,
        ),
        SObjectType(
            "Opportunity",
            "Opportunities",
            "006",
            (
                *_system_fields(),
                *_business_fields(),
                _f("Name", "string", 120, nillable=False, label="Opportunity Name"),
                _f(
                    "StageName",
                    "picklist",
                    255,
                    nillable=False,
                    label="Stage",
                    picklist=picklist(
                        "Prospecting",
                        "Qualification",
                        "Needs Analysis",
                        "Proposal/Price Quote",
                        "Negotiation/Review",
                        "Closed Won",
                        "Closed Lost",
                    ),
                ),
                _f("CloseDate", "date", nillable=False),
                _f("Amount", "currency"),
                _reference("AccountId", "Account"),
                _f(
                    "Type",
                    "picklist",
                    255,
                    label="Opportunity Type",
                    picklist=picklist("New Business", "Existing Business"),
                ),
                _f("LeadSource", "picklist", 255, picklist=LEAD_SOURCES),
            ),
        ),
        SObjectType(
            "Task",
            "Tasks",
            "00T",
            (
                *_system_fields(),
                *_business_fields(),
                _f("Subject", "string", 255),
                _f(
                    "Status",
                    "picklist",
                    255,
                    nillable=False,
                    default="Not Started",
                    picklist=picklist("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
                ),
                _f(
                    "Priority",
                    "picklist",
                    40,
                    nillable=False,
                    default="Normal",
                    picklist=picklist("High", "Normal", "Low"),
                ),
                _f("ActivityDate", "date", label="Due Date Only"),
                _reference("WhoId", "Contact", "Lead", label="Name ID"),
                _reference("WhatId", "Account", "Opportunity", label="Related To ID"),
                _f("Description", "textarea", 32000),
            ),
        ),
        SObjectType(
            "User",
            "Users",
            "005",
            (
                *_system_fields(),
                _f("Username", "string", 80, nillable=False, unique=True),
                _f("Email", "email", 128, nillable=False),
                _f("FirstName", "string", 40),
                _f("LastName", "string", 80, nillable=False),
                _full_name(),
                _f("Alias", "string", 8, nillable=False),
                _f("Title", "string", 80),
                _f("IsActive", "boolean", nillable=False, default=True, label="Active"),
                _reference("ProfileId", "Profile", nillable=False, label="Profile ID"),
                # Not read by the pipeline: the demo org's way of grouping its account managers (README).
                _f("Region__c", "picklist", 255, label="Region", picklist=picklist("AMER", "EMEA", "APAC")),
            ),
            # Users are deactivated, never deleted.
            deletable=False,
        ),
        SObjectType(
            "Group",
            "Groups",
            "00G",
            (
                *_system_fields(),
                _f("Name", "string", 40, nillable=False, label="Name"),
                _f("DeveloperName", "string", 80, label="Developer Name"),
                _f(
                    "Type",
                    "picklist",
                    40,
                    nillable=False,
                    restricted=True,
                    picklist=picklist("Regular", "Queue"),
                ),
                _f("Email", "email", 255),
            ),
            hard_delete=True,
        ),
        SObjectType(
            "QueueSobject",
            "Queue Sobjects",
            "03g",
            (
                _read_only("Id", "id", 18, nillable=False, label="Queue sObject ID"),
                _read_only_reference("CreatedById", "User", nillable=False, relationship_name="CreatedBy"),
                _reference("QueueId", "Group", nillable=False, updateable=False, relationship_name="Queue"),
                _f(
                    "SobjectType",
                    "picklist",
                    40,
                    nillable=False,
                    updateable=False,
                    restricted=True,
                    label="sObject Type",
                    picklist=QUEUE_OBJECTS,
                ),
                _read_only("SystemModstamp", "datetime", nillable=False, label="System Modstamp"),
            ),
            label_singular="Queue Sobject",
            updateable=False,
            hard_delete=True,
        ),
        SObjectType(
            "LeadStatus",
            "Lead Status Values",
            "01J",
            (
                *_system_fields(),
                _read_only("ApiName", "string", 255, nillable=False, label="API Name"),
                _read_only("MasterLabel", "string", 255, label="Master Label"),
                _read_only("IsConverted", "boolean", nillable=False, default=False, label="Is Converted"),
                _read_only("IsDefault", "boolean", nillable=False, default=False, label="Is Default"),
                _read_only("SortOrder", "int", label="Sort Order"),
            ),
            label_singular="Lead Status Value",
            createable=False,
            updateable=False,
            deletable=False,
        ),
        SObjectType(
            "Profile",
            "Profile",
            "00e",
            (
                *_system_fields(),
                _read_only("Name", "string", 255, nillable=False, label="Name"),
                _read_only("PermissionsConvertLeads", "boolean", nillable=False, default=False, label="Convert Leads"),
            ),
            createable=False,
            updateable=False,
            deletable=False,
        ),
        SObjectType(
            "PermissionSet",
            "Permission Sets",
            "0PS",
            (
                *_system_fields(),
                _f("Name", "string", 80, nillable=False, label="Name"),
                _f("Label", "string", 80, nillable=False, label="Label"),
                _read_only("IsOwnedByProfile", "boolean", nillable=False, default=False, label="Is Owned By Profile"),
                _read_only_reference("ProfileId", "Profile", label="Profile ID"),
                _f("PermissionsConvertLeads", "boolean", nillable=False, default=False, label="Convert Leads"),
            ),
            label_singular="Permission Set",
            hard_delete=True,
        ),
        SObjectType(
            "PermissionSetAssignment",
            "Permission Set Assignments",
            "0Pa",
            (
                *_system_fields(),
                _reference("AssigneeId", "User", nillable=False, updateable=False, relationship_name="Assignee"),
                _reference("PermissionSetId", "PermissionSet", nillable=False, updateable=False),
            ),
            label_singular="Permission Set Assignment",
            updateable=False,
            hard_delete=True,
        ),
    ]


# --- the schema in force ------------------------------------------------------------------------------


class _Schema:
    def __init__(self, objects: list[SObjectType]) -> None:
        self.by_name = {o.name.lower(): o for o in objects}
        self.by_prefix = {o.key_prefix: o for o in objects}


_lock = threading.Lock()
_installed = _Schema(base_objects())


def install(objects: list[SObjectType]) -> None:
    """Make ``objects`` the org's schema (org.py builds them from the base and a customisation)."""
    global _installed
    with _lock:
        _installed = _Schema(objects)


def objects() -> list[SObjectType]:
    return list(_installed.by_name.values())


def sobject(name: str) -> SObjectType | None:
    return _installed.by_name.get(name.lower())


def object_of_id(record_id: str) -> SObjectType | None:
    return _installed.by_prefix.get(record_id[:3])
