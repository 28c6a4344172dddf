"""Lead conversion, as the SOAP API's ``convertLead()`` does it (soap.py carries it over the wire).

A Lead is converted into an Account and a Contact, new or existing, and optionally an Opportunity; the
Lead itself becomes read-only history: IsConverted, ConvertedDate, ConvertedAccountId,
ConvertedContactId, ConvertedOpportunityId and a converted Status. Each LeadConvert of a call succeeds
or fails on its own, and a failure is an entry in ``errors`` of its result, not a fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dev.salesforce import ids
from dev.salesforce.dml import CONVERTED_LEAD_MESSAGE, Payload, Writer, has_permission
from dev.salesforce.errors import ApiError, record_error
from dev.salesforce.schema import SObjectType, sobject
from dev.salesforce.store import Record

# convertLead() takes at most 100 leads a call (SOAP API, convertLead()).
MAX_LEAD_CONVERTS = 100
CONVERT_PERMISSION = "PermissionsConvertLeads"
# Beyond Convert Leads, convertLead() requires Edit on leads and Create and Edit on the objects the conversion
# writes (convertLead(), Permissions: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead.htm).
# Opportunity is left out: the pipeline converts with doNotCreateOpportunity.
CONVERT_OBJECT_ACCESS = (
    ("Lead", "Edit"),
    ("Account", "Create"),
    ("Account", "Edit"),
    ("Contact", "Create"),
    ("Contact", "Edit"),
)

# Standard lead fields and where conversion copies them (Salesforce maps these itself).
_TO_ACCOUNT = {"Company": "Name", "Industry": "Industry", "Phone": "Phone", "Country": "BillingCountry"}
_TO_CONTACT = {
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Title": "Title",
    "Email": "Email",
    "Phone": "Phone",
    "LeadSource": "LeadSource",
    "Country": "MailingCountry",
}


@dataclass(frozen=True)
class LeadConvert:
    """One element of ``convertLead(leadConverts)``: the lead, its converted status and the options."""

    lead_id: str | None
    converted_status: str | None
    account_id: str | None = None
    contact_id: str | None = None
    opportunity_id: str | None = None
    do_not_create_opportunity: bool = False
    opportunity_name: str | None = None
    overwrite_lead_source: bool = False
    owner_id: str | None = None
    send_notification_email: bool = False


@dataclass
class LeadConvertResult:
    lead_id: str | None
    account_id: str | None = None
    contact_id: str | None = None
    opportunity_id: str | None = None
    errors: list[ApiError] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.errors


def convert_leads(writer: Writer, converts: list[LeadConvert]) -> list[LeadConvertResult]:
    """Convert each lead in its own savepoint: one failure leaves the others converted."""
    results = []
    for convert in converts:
        savepoint = writer.tx.savepoint()
        try:
            results.append(_convert(writer, convert))
        except ApiError as error:
            writer.tx.rollback(savepoint)
            results.append(LeadConvertResult(ids.normalize(convert.lead_id or ""), errors=[error]))
    return results


def converted_statuses(writer: Writer) -> dict[str, str]:
    """The LeadStatus values with IsConverted = true, by their label and API name (folded) -> label."""
    statuses: dict[str, str] = {}
    for status in writer.store.records("LeadStatus"):
        if status.fields.get("IsConverted"):
            label = str(status.fields.get("MasterLabel"))
            statuses[label.casefold()] = label
            statuses[str(status.fields.get("ApiName")).casefold()] = label
    return statuses


def _convert(writer: Writer, convert: LeadConvert) -> LeadConvertResult:
    store = writer.store
    if not has_permission(store, writer.user_id, CONVERT_PERMISSION):
        raise record_error(
            "INSUFFICIENT_ACCESS_OR_READONLY",
            "insufficient access rights on object id: the Convert Leads permission is required",
        )
    lacking = [
        f"{access} on {object_name}"
        for object_name, access in CONVERT_OBJECT_ACCESS
        if not getattr(sobject(object_name), "createable" if access == "Create" else "updateable", False)
    ]
    if lacking:
        raise record_error(
            "INSUFFICIENT_ACCESS_OR_READONLY",
            f"insufficient access rights on object id: converting a lead requires {', '.join(lacking)}",
        )
    lead = _live(writer, "Lead", convert.lead_id, "leadId")
    # A duplicate rule set to block, a validation rule or a trigger can refuse a conversion: a fault switch on the
    # lead plays one (faults.py), e.g. DUPLICATES_DETECTED.
    writer.check_faults("Lead", lead.fields)
    if lead.fields.get("IsConverted"):
        raise record_error("CANNOT_UPDATE_CONVERTED_LEAD", CONVERTED_LEAD_MESSAGE)
    status = converted_statuses(writer).get((convert.converted_status or "").casefold())
    if status is None:
        raise record_error("INVALID_STATUS", f"invalid convertedStatus: {convert.converted_status or ''}", "Status")
    account = _live(writer, "Account", convert.account_id, "accountId") if convert.account_id else None
    contact = None
    if convert.contact_id:
        if account is None:
            raise record_error(
                "INVALID_CROSS_REFERENCE_KEY", "accountId is required to convert a lead into an existing contact"
            )
        contact = _live(writer, "Contact", convert.contact_id, "contactId")
        if contact.fields.get("AccountId") != account.id:
            raise record_error(
                "INVALID_CROSS_REFERENCE_KEY",
                f"contact {contact.id} is not associated with account {account.id}",
            )
    if convert.do_not_create_opportunity and convert.opportunity_name:
        raise record_error(
            "FIELD_INTEGRITY_EXCEPTION", "opportunityName must be blank when doNotCreateOpportunity is true"
        )
    if convert.overwrite_lead_source and contact is None:
        raise record_error(
            "FIELD_INTEGRITY_EXCEPTION", "overwriteLeadSource needs the contactId of an existing contact"
        )
    opportunity = (
        _live(writer, "Opportunity", convert.opportunity_id, "opportunityId") if convert.opportunity_id else None
    )
    owner_id = ids.normalize(convert.owner_id) if convert.owner_id else lead.fields.get("OwnerId")
    if convert.owner_id and owner_id is None:
        raise record_error("MALFORMED_ID", f"ownerId: id value of incorrect type: {convert.owner_id}")

    account = _fill(writer, "Account", account, _mapped(lead, _TO_ACCOUNT), owner_id)
    contact_values = _mapped(lead, _TO_CONTACT) | {"AccountId": account.id}
    contact = _fill(
        writer, "Contact", contact, contact_values, owner_id, overwrite_lead_source=convert.overwrite_lead_source
    )
    if opportunity is None and not convert.do_not_create_opportunity:
        opportunity = writer.create(
            _payload(
                "Opportunity",
                {
                    "Name": convert.opportunity_name or lead.fields.get("Company"),
                    "AccountId": account.id,
                    "StageName": _first_stage(),
                    "CloseDate": _end_of_quarter(date.fromisoformat(writer.tx.now[:10])).isoformat(),
                    "LeadSource": lead.fields.get("LeadSource"),
                    "OwnerId": owner_id,
                },
            )
        )
    _move_activities(writer, lead, contact, opportunity or account)
    writer.system_update(
        lead,
        {
            "IsConverted": True,
            "ConvertedDate": writer.tx.now[:10],
            "ConvertedAccountId": account.id,
            "ConvertedContactId": contact.id,
            "ConvertedOpportunityId": opportunity.id if opportunity else None,
            "Status": status,
        },
    )
    return LeadConvertResult(lead.id, account.id, contact.id, opportunity.id if opportunity else None)


def _live(writer: Writer, object_name: str, raw_id: str | None, argument: str) -> Record:
    record_id = ids.normalize(raw_id or "")
    if record_id is None:
        raise record_error("MALFORMED_ID", f"{argument}: id value of incorrect type: {raw_id or ''}")
    record = writer.store.get(record_id)
    if record is None or record.sobject != object_name:
        raise record_error("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {argument}")
    if record.deleted:
        raise record_error("ENTITY_IS_DELETED", f"entity is deleted: {argument}")
    return record


def _object(name: str) -> SObjectType:
    object_type = sobject(name)
    assert object_type is not None
    return object_type


def _payload(object_name: str, values: dict[str, Any]) -> Payload:
    """A payload from field names (fields the org does not have and empty values left out)."""
    object_type = _object(object_name)
    keyed = {}
    for name, value in values.items():
        target = object_type.field(name)
        if target is not None and value is not None:
            keyed[target.key] = value
    return Payload(object_type, keyed)


def _mapped(lead: Record, mapping: dict[str, str]) -> dict[str, Any]:
    lead_type = _object("Lead")
    values = {}
    for source, target in mapping.items():
        source_field = lead_type.field(source)
        values[target] = lead.fields.get(source_field.key) if source_field else None
    return values


def _fill(
    writer: Writer,
    object_name: str,
    existing: Record | None,
    values: dict[str, Any],
    owner_id: Any,
    *,
    overwrite_lead_source: bool = False,
) -> Record:
    """A new record from the lead's values, or the existing one with only its empty fields filled
    (and LeadSource replaced when asked): conversion never overwrites data, Ids included."""
    if existing is None:
        return writer.create(_payload(object_name, values | {"OwnerId": owner_id}))
    object_type = _object(object_name)
    changes = {}
    for name, value in values.items():
        target = object_type.field(name)
        if target is None or value is None or name in {"AccountId", "Name"}:
            continue
        if existing.fields.get(target.key) is None or (name == "LeadSource" and overwrite_lead_source):
            changes[name] = value
    if not changes:
        return existing
    return writer.update(object_type, existing.id, _payload(object_name, changes))


def _first_stage() -> str | None:
    stage = _object("Opportunity").field("StageName")
    assert stage is not None
    return stage.default or next(iter(stage.active_values), None)


def _end_of_quarter(today: date) -> date:
    last_month = (today.month - 1) // 3 * 3 + 3
    following = date(today.year + (last_month == 12), last_month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _move_activities(writer: Writer, lead: Record, contact: Record, related: Record) -> None:
    """The lead's tasks follow the person: to the contact, and to the opportunity (or account)."""
    for task in writer.children("Task", "WhoId", lead.id):
        changes: dict[str, Any] = {"WhoId": contact.id}
        if task.fields.get("WhatId") is None:
            changes["WhatId"] = related.id
        writer.system_update(task, changes)
