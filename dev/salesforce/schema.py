"""The emulated objects and their fields, described the way ``/sobjects/{Object}/describe`` does.

Only the fields this project uses are modelled. Every object carries the audit fields Salesforce
maintains itself, and the business objects carry the two custom fields the pipeline writes:
``Dwh_External_Id__c`` (unique external id, the upsert key) and ``Workspace_Id__c``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

API_VERSION = "59.0"

STRING_TYPES = frozenset({"string", "email", "phone", "url", "picklist", "textarea", "id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency"})


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
    picklist: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def defaulted_on_create(self) -> bool:
        return self.default is not None or self.name == "OwnerId"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "length": self.length,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted_on_create,
            "defaultValue": self.default,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "custom": self.custom,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "picklistValues": [
                {"active": True, "defaultValue": value == self.default, "label": value, "value": value}
                for value in self.picklist
            ],
        }


@dataclass(frozen=True)
class SObjectType:
    name: str
    label_plural: str
    key_prefix: str
    fields: tuple[Field, ...]
    deletable: bool = True

    @property
    def label(self) -> str:
        return self.name  # true of every standard object modelled here

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name.lower(): f for f in self.fields}

    @cached_property
    def _by_relationship(self) -> dict[str, Field]:
        return {f.relationship_name.lower(): f for f in self.fields if f.relationship_name}

    def field(self, name: str) -> Field | None:
        """Field names are case-insensitive in payloads, URLs and SOQL alike."""
        return self._by_name.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        return self._by_relationship.get(name.lower())

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
            "createable": True,
            "updateable": True,
            "deletable": self.deletable,
            "queryable": True,
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
    return _f(name, "reference", 18, reference_to=targets, relationship_name=name.removesuffix("Id"), **options)


def _read_only(name: str, type_: str, length: int = 0, **options: Any) -> Field:
    return _f(name, type_, length, createable=False, updateable=False, **options)


def _system_fields() -> list[Field]:
    return [
        _read_only("Id", "id", 18, nillable=False, label="Record ID"),
        _read_only("CreatedDate", "datetime", nillable=False),
        _read_only(
            "CreatedById", "reference", 18, nillable=False, reference_to=("User",), relationship_name="CreatedBy"
        ),
        _read_only("LastModifiedDate", "datetime", nillable=False),
        _read_only(
            "LastModifiedById",
            "reference",
            18,
            nillable=False,
            reference_to=("User",),
            relationship_name="LastModifiedBy",
        ),
        _read_only("SystemModstamp", "datetime", nillable=False, label="System Modstamp"),
    ]


def _business_fields() -> list[Field]:
    """Deletion, ownership and the pipeline's custom fields, shared by the objects the pipeline writes."""
    return [
        _read_only("IsDeleted", "boolean", nillable=False, label="Deleted", default=False),
        _reference("OwnerId", "User", nillable=False),
        _f("Dwh_External_Id__c", "string", 255, external_id=True, unique=True, label="DWH External ID"),
        _f("Workspace_Id__c", "string", 255, label="Workspace ID"),
    ]


def _full_name() -> Field:
    """The compound ``Name`` of people: read-only, derived from FirstName and LastName."""
    return _read_only("Name", "string", 121, label="Full Name")


LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Product Signup", "Other")
INDUSTRIES = ("Agriculture", "Banking", "Education", "Healthcare", "Manufacturing", "Retail", "Technology", "Other")

_OBJECTS = [
    SObjectType(
        "Lead",
        "Leads",
        "00Q",
        (
            *_system_fields(),
            *_business_fields(),
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
                picklist=(
                    "Open - Not Contacted",
                    "Working - Contacted",
                    "Closed - Converted",
                    "Closed - Not Converted",
                ),
            ),
            _f("LeadSource", "picklist", 255, picklist=LEAD_SOURCES),
            _f("Industry", "picklist", 255, picklist=INDUSTRIES),
            _f("IsConverted", "boolean", nillable=False, updateable=False, default=False, label="Converted"),
            _read_only("ConvertedDate", "date"),
            _read_only(
                "ConvertedAccountId", "reference", 18, reference_to=("Account",), relationship_name="ConvertedAccount"
            ),
            _read_only(
                "ConvertedContactId", "reference", 18, reference_to=("Contact",), relationship_name="ConvertedContact"
            ),
        ),
    ),
    SObjectType(
        "Contact",
        "Contacts",
        "003",
        (
            *_system_fields(),
            *_business_fields(),
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
    ),
    SObjectType(
        "Account",
        "Accounts",
        "001",
        (
            *_system_fields(),
            *_business_fields(),
            _f("Name", "string", 255, nillable=False, label="Account Name"),
            _f("Website", "url", 255),
            _f("Phone", "phone", 40),
            _f(
                "Type",
                "picklist",
                255,
                label="Account Type",
                picklist=("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"),
            ),
            _f("Industry", "picklist", 255, picklist=INDUSTRIES),
            _f("BillingCountry", "string", 80),
            _f("NumberOfEmployees", "int", label="Employees"),
            _f("AnnualRevenue", "currency"),
        ),
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
                picklist=(
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
            _f("Type", "picklist", 255, label="Opportunity Type", picklist=("New Business", "Existing Business")),
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
                picklist=("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
            ),
            _f("Priority", "picklist", 40, nillable=False, default="Normal", picklist=("High", "Normal", "Low")),
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
            _f("Region__c", "picklist", 255, label="Region", picklist=("AMER", "EMEA", "APAC")),
        ),
        # Users are deactivated, never deleted.
        deletable=False,
    ),
]

OBJECTS: dict[str, SObjectType] = {o.name.lower(): o for o in _OBJECTS}
BY_PREFIX: dict[str, SObjectType] = {o.key_prefix: o for o in _OBJECTS}


def sobject(name: str) -> SObjectType | None:
    return OBJECTS.get(name.lower())


def object_of_id(record_id: str) -> SObjectType | None:
    return BY_PREFIX.get(record_id[:3])
