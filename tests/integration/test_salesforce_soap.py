"""The emulator's SOAP API (partner endpoint): convertLead() and merge(), with plain requests + ElementTree.

Salesforce converts leads only through convertLead() (SOAP API, or Apex), and merges Leads, Contacts and
Accounts only through merge(): REST has no resource for either. Results are checked field by field against
the partner WSDL's LeadConvertResult and MergeResult, and the records through the REST API (SalesforceHook).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests

from tests.integration.salesforce_fixtures import (
    BASE,
    PARTNER,
    SOAP_URL,
    Emulator,
    collection,
    convert_lead,
    deleted_too,
    error_of,
    fault,
    hook_client,
    ids_where,
    merge,
    results,
    running_emulator,
    soap_envelope,
    soap_post,
)

CONVERTED = "Closed - Converted"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from running_emulator(tmp_path_factory.mktemp("salesforce-soap"))


@pytest.fixture
def sf(emulator: Emulator) -> Any:
    return hook_client()


def user_id(sf: Any, alias: str) -> str:
    return sf.query(f"SELECT Id FROM User WHERE Alias = '{alias}'")["records"][0]["Id"]


def end_of_quarter(today: date) -> date:
    """The last day of today's calendar quarter (a converted lead's opportunity closes then)."""
    last_month = 3 * ((today.month - 1) // 3 + 1)
    return date(today.year + last_month // 12, last_month % 12 + 1, 1) - timedelta(days=1)


# --- LeadStatus and the Convert Leads permission ------------------------------------------------------


def test_lead_statuses_are_queryable_with_the_converted_one_marked(sf: Any) -> None:
    rows = sf.query("SELECT MasterLabel, ApiName, IsConverted, IsDefault, SortOrder FROM LeadStatus ORDER BY SortOrder")
    assert [
        (r["MasterLabel"], r["ApiName"], r["IsConverted"], r["IsDefault"], r["SortOrder"]) for r in rows["records"]
    ] == [
        ("Open - Not Contacted", "Open - Not Contacted", False, True, 1),
        ("Working - Contacted", "Working - Contacted", False, False, 2),
        (CONVERTED, CONVERTED, True, False, 3),
        ("Closed - Not Converted", "Closed - Not Converted", False, False, 4),
    ]
    converted = sf.query("SELECT Id, MasterLabel FROM LeadStatus WHERE IsConverted = true")["records"]
    assert [r["MasterLabel"] for r in converted] == [CONVERTED]
    assert converted[0]["Id"].startswith("01J")


def test_the_session_user_may_convert_leads_through_its_permission_set(sf: Any) -> None:
    """The documented way to learn a user's permission: every permission set assigned to the user,
    the profile's own included (PermissionSetAssignment), and whether one grants PermissionsConvertLeads."""
    me = requests.get(
        f"{BASE}/services/oauth2/userinfo", headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=10
    ).json()["user_id"]
    assert me == user_id(sf, "integ")
    granting = (
        "SELECT Id, PermissionSet.Name FROM PermissionSetAssignment "
        f"WHERE AssigneeId = '{me}' AND PermissionSet.PermissionsConvertLeads = true"
    )
    # The integration profile grants nothing by itself; the pipeline's permission set does.
    profile = sf.query(f"SELECT Profile.Name, Profile.PermissionsConvertLeads FROM User WHERE Id = '{me}'")
    assert profile["records"][0]["Profile"] == {
        "attributes": profile["records"][0]["Profile"]["attributes"],
        "Name": "Minimum Access - API Only Integrations",
        "PermissionsConvertLeads": False,
    }
    assignments = sf.query(granting)["records"]
    assert [r["PermissionSet"]["Name"] for r in assignments] == ["Pipeline_Integration"]

    lead = sf.Lead.create({"LastName": "Unpermitted", "Company": "Nope Inc"})["id"]
    sf.PermissionSetAssignment.delete(assignments[0]["Id"])
    try:
        assert sf.query(granting)["totalSize"] == 0
        status, answer = convert_lead(sf.session_id, {"leadId": lead, "convertedStatus": CONVERTED})
        [result] = results(answer, "convertLeadResponse")
        assert (status, result["success"], result["errors"][0]["statusCode"]) == (
            200,
            False,
            "INSUFFICIENT_ACCESS_OR_READONLY",
        )
        assert sf.Lead.get(lead)["IsConverted"] is False
    finally:
        permission_set = sf.query("SELECT Id FROM PermissionSet WHERE Name = 'Pipeline_Integration'")["records"][0]
        sf.PermissionSetAssignment.create({"AssigneeId": me, "PermissionSetId": permission_set["Id"]})
    assert sf.query(granting)["totalSize"] == 1
    [result] = results(
        convert_lead(sf.session_id, {"leadId": lead, "convertedStatus": CONVERTED})[1], "convertLeadResponse"
    )
    assert result["success"] is True


# --- convertLead() ------------------------------------------------------------------------------------------


def test_convert_lead_creates_account_contact_and_opportunity(sf: Any) -> None:
    lead = sf.Lead.create(
        {
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "Company": "Analytical Engines",
            "Title": "CTO",
            "Email": "ada@engines.io",
            "Phone": "+44 20 7946 0000",
            "Country": "United Kingdom",
            "LeadSource": "Web",
            "Industry": "Technology",
        }
    )["id"]
    task = sf.Task.create({"Subject": "Call Ada", "WhoId": lead})["id"]
    owner = sf.Lead.get(lead)["OwnerId"]

    status, answer = convert_lead(sf.session_id, {"leadId": lead, "convertedStatus": CONVERTED})
    assert status == 200
    body = answer.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    elements = [child.tag.rpartition("}")[2] for child in body.iter() if child.tag.startswith(f"{{{PARTNER}}}")]
    # LeadConvertResult's elements, in the partner WSDL's order.
    assert elements == ["convertLeadResponse", "result", "accountId", "contactId", "leadId", "opportunityId", "success"]
    [result] = results(answer, "convertLeadResponse")
    assert result == {
        "accountId": result["accountId"],
        "contactId": result["contactId"],
        "leadId": lead,
        "opportunityId": result["opportunityId"],
        "success": True,
    }
    assert (result["accountId"][:3], result["contactId"][:3], result["opportunityId"][:3]) == ("001", "003", "006")

    converted = sf.Lead.get(lead)
    today = datetime.now(UTC).date()
    assert {k: converted[k] for k in ("IsConverted", "Status", "ConvertedDate")} == {
        "IsConverted": True,
        "Status": CONVERTED,
        "ConvertedDate": today.isoformat(),
    }
    assert (converted["ConvertedAccountId"], converted["ConvertedContactId"], converted["ConvertedOpportunityId"]) == (
        result["accountId"],
        result["contactId"],
        result["opportunityId"],
    )
    account = sf.Account.get(result["accountId"])
    assert (account["Name"], account["Industry"], account["BillingCountry"], account["OwnerId"]) == (
        "Analytical Engines",
        "Technology",
        "United Kingdom",
        owner,
    )
    contact = sf.Contact.get(result["contactId"])
    assert {
        k: contact[k] for k in ("FirstName", "LastName", "Title", "Email", "LeadSource", "AccountId", "OwnerId")
    } == {
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Title": "CTO",
        "Email": "ada@engines.io",
        "LeadSource": "Web",
        "AccountId": account["Id"],
        "OwnerId": owner,
    }
    opportunity = sf.Opportunity.get(result["opportunityId"])
    assert {k: opportunity[k] for k in ("Name", "AccountId", "StageName", "CloseDate", "LeadSource")} == {
        "Name": "Analytical Engines",
        "AccountId": account["Id"],
        "StageName": "Prospecting",
        "CloseDate": end_of_quarter(today).isoformat(),
        "LeadSource": "Web",
    }
    # The lead's activities follow the person.
    assert (sf.Task.get(task)["WhoId"], sf.Task.get(task)["WhatId"]) == (contact["Id"], opportunity["Id"])

    # A converted lead is history: the API refuses to change it.
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.update(lead, {"Title": "Countess"})
    assert error_of(raised) == (
        400,
        [{"message": "cannot reference converted lead", "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD", "fields": []}],
    )


def test_convert_lead_into_an_existing_account_and_contact(sf: Any) -> None:
    account = sf.Account.create({"Name": "Existing Works", "Industry": "Retail"})["id"]
    contact = sf.Contact.create(
        {"LastName": "Known", "AccountId": account, "Email": "known@existing.io", "LeadSource": "Web"}
    )["id"]
    lead = sf.Lead.create(
        {
            "LastName": "Known",
            "Company": "Existing Works",
            "Title": "VP Sales",
            "Email": "other@existing.io",
            "Phone": "+1 555 0100",
            "Industry": "Technology",
            "LeadSource": "Phone Inquiry",
        }
    )["id"]
    contact_owner = sf.Contact.get(contact)["OwnerId"]
    manager = user_id(sf, "amer1")

    convert = {
        "leadId": lead,
        "convertedStatus": CONVERTED,
        "accountId": account,
        "contactId": contact,
        "doNotCreateOpportunity": True,
        "overwriteLeadSource": True,
        "ownerId": manager,
    }
    [result] = results(convert_lead(sf.session_id, convert)[1], "convertLeadResponse")
    assert result == {
        "accountId": account,
        "contactId": contact,
        "leadId": lead,
        "opportunityId": None,
        "success": True,
    }
    # Only empty fields are filled, LeadSource is replaced as asked, and existing owners stay.
    merged_contact = sf.Contact.get(contact)
    assert {k: merged_contact[k] for k in ("Email", "Title", "Phone", "LeadSource", "OwnerId")} == {
        "Email": "known@existing.io",
        "Title": "VP Sales",
        "Phone": "+1 555 0100",
        "LeadSource": "Phone Inquiry",
        "OwnerId": contact_owner,
    }
    merged_account = sf.Account.get(account)
    assert (merged_account["Name"], merged_account["Industry"], merged_account["Phone"]) == (
        "Existing Works",
        "Retail",
        "+1 555 0100",
    )
    assert ids_where(sf, "Opportunity", f"AccountId = '{account}'") == []
    assert sf.Lead.get(lead)["ConvertedOpportunityId"] is None


def test_a_queue_owned_lead_converts_only_with_an_owner(sf: Any) -> None:
    """Accounts and contacts cannot be owned by a queue: converting a queue's lead needs ownerId."""
    gavin = sf.query("SELECT Id, Owner.Type FROM Lead WHERE Email = 'gavin.belson@hooli.com'")["records"][0]
    assert gavin["Owner"]["Type"] == "Queue"
    [failed] = results(
        convert_lead(sf.session_id, {"leadId": gavin["Id"], "convertedStatus": CONVERTED})[1], "convertLeadResponse"
    )
    assert failed["success"] is False
    assert failed["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert ids_where(sf, "Account", "Name = 'Hooli'") == []

    manager = user_id(sf, "emea1")
    convert = {"leadId": gavin["Id"], "convertedStatus": CONVERTED, "ownerId": manager}
    [result] = results(convert_lead(sf.session_id, convert)[1], "convertLeadResponse")
    assert result["success"] is True
    owners = {
        sf.Account.get(result["accountId"])["OwnerId"],
        sf.Contact.get(result["contactId"])["OwnerId"],
        sf.Opportunity.get(result["opportunityId"])["OwnerId"],
    }
    assert owners == {manager}


def test_convert_lead_errors_are_per_record(sf: Any) -> None:
    def new_lead(name: str) -> str:
        return sf.Lead.create({"LastName": name, "Company": f"{name} Co"})["id"]

    nancy = sf.query("SELECT Id FROM Lead WHERE IsConverted = true AND Email = 'nancy.davolio@northwindtraders.com'")
    converted_lead = nancy["records"][0]["Id"]
    account = sf.Account.create({"Name": "Holder"})["id"]
    other_account = sf.Account.create({"Name": "Elsewhere"})["id"]
    deleted_contact = sf.Contact.create({"LastName": "Gone", "AccountId": account})["id"]
    sf.Contact.delete(deleted_contact)
    foreign_contact = sf.Contact.create({"LastName": "Foreign", "AccountId": other_account})["id"]
    missing_contact = "0035g000009ZZZZ"  # well-formed, no such record
    good, bad_status, missing, deleted, foreign = (
        new_lead(n) for n in ("Good", "Status", "Missing", "Deleted", "Foreign")
    )

    status, answer = convert_lead(
        sf.session_id,
        {"leadId": good, "convertedStatus": CONVERTED},
        {"leadId": converted_lead, "convertedStatus": CONVERTED},
        {"leadId": bad_status, "convertedStatus": "Closed - Not Converted"},
        {"leadId": missing, "convertedStatus": CONVERTED, "accountId": account, "contactId": missing_contact},
        {"leadId": deleted, "convertedStatus": CONVERTED, "accountId": account, "contactId": deleted_contact},
        {"leadId": foreign, "convertedStatus": CONVERTED, "accountId": account, "contactId": foreign_contact},
    )
    assert status == 200  # per-record errors, not a fault
    outcome = results(answer, "convertLeadResponse")
    assert [r["success"] for r in outcome] == [True, False, False, False, False, False]
    assert [(e["statusCode"], e.get("fields")) for r in outcome[1:] for e in r["errors"]] == [
        ("CANNOT_UPDATE_CONVERTED_LEAD", None),
        ("INVALID_STATUS", ["Status"]),
        ("INVALID_CROSS_REFERENCE_KEY", None),
        ("ENTITY_IS_DELETED", None),
        ("INVALID_CROSS_REFERENCE_KEY", None),
    ]
    assert outcome[1]["errors"][0]["message"] == "cannot reference converted lead"
    assert outcome[2]["errors"][0]["message"] == "invalid convertedStatus: Closed - Not Converted"
    assert [(r["leadId"], r["accountId"], r["contactId"]) for r in outcome[1:]] == [
        (lead, None, None) for lead in (converted_lead, bad_status, missing, deleted, foreign)
    ]
    # The failures left nothing behind; the good lead converted all the same.
    for lead in (bad_status, missing, deleted, foreign):
        assert sf.Lead.get(lead)["IsConverted"] is False
    assert ids_where(sf, "Account", "Name IN ('Status Co', 'Missing Co', 'Deleted Co', 'Foreign Co')") == []
    assert sf.Lead.get(good)["IsConverted"] is True


def test_convert_lead_takes_up_to_100_leads_a_call(sf: Any) -> None:
    rows = [{"attributes": {"type": "Lead"}, "LastName": f"Batch {n}", "Company": "Batch Co"} for n in range(101)]
    made = [r["id"] for r in collection(sf, "composite/sobjects", "POST", rows, True)]
    too_many = [{"leadId": lead, "convertedStatus": CONVERTED, "doNotCreateOpportunity": True} for lead in made]

    status, answer = convert_lead(sf.session_id, *too_many)
    assert (status, fault(answer)["faultcode"]) == (500, "sf:EXCEEDED_LEAD_CONVERT_LIMIT")
    assert ids_where(sf, "Lead", "LastName LIKE 'Batch %' AND IsConverted = true") == []

    status, answer = convert_lead(sf.session_id, *too_many[:100])
    assert status == 200
    assert [r["success"] for r in results(answer, "convertLeadResponse")] == [True] * 100
    assert len(ids_where(sf, "Lead", "LastName LIKE 'Batch %' AND IsConverted = true")) == 100


def test_soap_faults(sf: Any) -> None:
    operation = ET.Element(f"{{{PARTNER}}}convertLead")
    status, answer = soap_post(soap_envelope("00Dbogus!token", operation))
    assert (status, fault(answer)) == (
        500,
        {
            "faultcode": "sf:INVALID_SESSION_ID",
            "faultstring": "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session",
            "exceptionCode": "INVALID_SESSION_ID",
        },
    )
    status, answer = soap_post(soap_envelope(sf.session_id, operation), soap_action=None)
    assert (status, fault(answer)["faultcode"], fault(answer)["faultstring"]) == (
        500,
        "soapenv:Client",
        "No SOAPAction header!",
    )
    status, answer = soap_post(soap_envelope(sf.session_id, ET.Element(f"{{{PARTNER}}}convertLeads")))
    assert (status, fault(answer)["faultstring"]) == (
        500,
        f"No operation available for request {{{PARTNER}}}convertLeads, please check the WSDL for the service.",
    )
    malformed = requests.post(SOAP_URL, data=b"<soapenv:Envelope", headers={"SOAPAction": '""'}, timeout=10)
    assert malformed.status_code == 500


# --- merge() --------------------------------------------------------------------------------------------------


def test_merge_accounts_reparents_children_and_deletes_the_others(sf: Any) -> None:
    master = sf.Account.create({"Name": "Merge Master", "Dwh_External_Id__c": "merge-master"})["id"]
    victim = sf.Account.create({"Name": "Merge Victim", "Website": "victim.io", "Dwh_External_Id__c": "merge-victim"})[
        "id"
    ]
    second = sf.Account.create({"Name": "Merge Victim Two"})["id"]
    contact = sf.Contact.create({"LastName": "Child", "AccountId": victim})["id"]
    opportunity = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", "AccountId": second}
    )["id"]
    task = sf.Task.create({"Subject": "Follow up", "WhatId": victim})["id"]

    status, answer = merge(sf.session_id, ("Account", {"Id": master, "Website": "victim.io"}, [victim, second]))
    assert status == 200
    [result] = results(answer, "mergeResponse")
    assert {k: v for k, v in result.items() if k != "updatedRelatedIds"} == {
        "id": master,
        "mergedRecordIds": [victim, second],
        "success": True,
    }
    assert sorted(result["updatedRelatedIds"]) == sorted([contact, opportunity, task])

    trio = f"Id IN ('{master}', '{victim}', '{second}')"
    assert ids_where(sf, "Account", trio) == [master]  # query: the merged-away accounts are gone
    every = {r["Id"]: r for r in deleted_too(sf, f"SELECT Id, IsDeleted, MasterRecordId FROM Account WHERE {trio}")}
    assert {k: (r["IsDeleted"], r["MasterRecordId"]) for k, r in every.items()} == {
        master: (False, None),
        victim: (True, master),
        second: (True, master),
    }
    assert sf.Account.get(master)["Website"] == "victim.io"
    assert sf.Contact.get(contact)["AccountId"] == master
    assert sf.Opportunity.get(opportunity)["AccountId"] == master
    assert sf.Task.get(task)["WhatId"] == master
    # The merged-away account no longer holds its external id.
    assert sf.Account.upsert("Dwh_External_Id__c/merge-victim", {"Name": "Reborn"}) == 201


def test_merge_leads_and_contacts_and_the_errors_per_request(sf: Any) -> None:
    lead_master = sf.Lead.create({"LastName": "Dup", "Company": "Dup Co", "Email": "dup@dup.io"})["id"]
    lead_victim = sf.Lead.create({"LastName": "Dup", "Company": "Dup Co", "Phone": "+1 555 0199"})["id"]
    contact_master = sf.Contact.create({"LastName": "Twin"})["id"]
    contact_victim = sf.Contact.create({"LastName": "Twin"})["id"]
    task = sf.Task.create({"Subject": "Call", "WhoId": contact_victim})["id"]
    extra = [sf.Contact.create({"LastName": f"Extra {n}"})["id"] for n in range(3)]
    account = sf.Account.create({"Name": "Not a contact"})["id"]
    converted = ids_where(sf, "Lead", "IsConverted = true AND Email = 'nancy.davolio@northwindtraders.com'")[0]
    opportunity = sf.Opportunity.create({"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-12-31"})["id"]

    status, answer = merge(
        sf.session_id,
        ("Lead", {"Id": lead_master, "Phone": "+1 555 0199"}, [lead_victim]),
        ("Contact", {"Id": contact_master}, [contact_victim]),
        ("Contact", {"Id": extra[0]}, [*extra[1:], contact_master]),  # four records: over the limit
        ("Contact", {"Id": extra[0]}, [account]),  # another object's record
        ("Lead", {"Id": lead_master}, [converted]),
        ("Opportunity", {"Id": opportunity}, [opportunity]),
    )
    assert status == 200
    outcome = results(answer, "mergeResponse")
    assert [r["success"] for r in outcome] == [True, True, False, False, False, False]
    assert [r["errors"][0]["statusCode"] for r in outcome[2:]] == [
        "LIMIT_EXCEEDED",
        "INVALID_CROSS_REFERENCE_KEY",
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "INVALID_TYPE_FOR_OPERATION",
    ]
    leads = deleted_too(
        sf, f"SELECT Id, IsDeleted, MasterRecordId, Phone FROM Lead WHERE Id IN ('{lead_master}', '{lead_victim}')"
    )
    assert {r["Id"]: (r["IsDeleted"], r["MasterRecordId"]) for r in leads} == {
        lead_master: (False, None),
        lead_victim: (True, lead_master),
    }
    assert sf.Lead.get(lead_master)["Phone"] == "+1 555 0199"
    contacts = deleted_too(sf, f"SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE Id = '{contact_victim}'")
    assert [(r["IsDeleted"], r["MasterRecordId"]) for r in contacts] == [(True, contact_master)]
    assert sf.Task.get(task)["WhoId"] == contact_master
    # The failed requests changed nothing.
    assert len(ids_where(sf, "Contact", f"Id IN ('{extra[0]}', '{extra[1]}', '{extra[2]}')")) == 3
    assert ids_where(sf, "Account", f"Id = '{account}'") == [account]


# --- emptyRecycleBin() ----------------------------------------------------------------------------------------


def test_empty_recycle_bin_deletes_for_good_what_query_all_showed(sf: Any) -> None:
    """After emptyRecycleBin() a deleted record is gone from queryAll too: the mirror never sees it again, which is
    what the daily reconciliation of Ids is for."""
    from tests.integration.salesforce_fixtures import empty_recycle_bin

    live = sf.Account.create({"Name": "Still Here"})["id"]
    binned = sf.Account.create({"Name": "Soon Purged"})["id"]
    sf.Account.delete(binned)
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id IN ('{live}', '{binned}')"
    assert {r["Id"]: r["IsDeleted"] for r in sf.query_all(soql, include_deleted=True)["records"]} == {
        live: False,
        binned: True,
    }
    status, answer = empty_recycle_bin(sf.session_id, binned, live)
    purged, refused = results(answer, "emptyRecycleBinResponse")
    assert status == 200
    assert (purged["id"], purged["success"]) == (binned, True)
    assert (refused["success"], refused["errors"][0]["statusCode"]) == (False, "INVALID_ID_FIELD")
    assert [r["Id"] for r in sf.query_all(soql, include_deleted=True)["records"]] == [live]


def test_a_conversion_a_duplicate_rule_blocks_fails_alone(sf: Any) -> None:
    """A blocking rule (played by a fault switch on the lead) refuses that lead's conversion with its status code
    and message; the other leads of the call convert; the blocked lead stays open."""
    blocked = sf.Lead.create({"LastName": "Dupe", "Company": "Dupe Inc", "Email": "dupe@dupe-rule.io"})["id"]
    fine = sf.Lead.create({"LastName": "Fine", "Company": "Fine Inc", "Email": "fine@fine-rule.io"})["id"]
    faults = f"{BASE}/_admin/faults"
    auth = {"Authorization": f"Bearer {sf.session_id}"}
    rule = {"match": "dupe-rule.io", "object": "Lead", "status_code": "DUPLICATES_DETECTED",
            "message": "Use one of these records?"}  # fmt: skip
    assert requests.post(faults, json=rule, headers=auth, timeout=5).status_code == 201
    try:
        status, answer = convert_lead(
            sf.session_id,
            {"leadId": blocked, "convertedStatus": CONVERTED},
            {"leadId": fine, "convertedStatus": CONVERTED},
        )
    finally:
        requests.delete(faults, headers=auth, timeout=5).raise_for_status()
    first, second = results(answer, "convertLeadResponse")
    assert status == 200
    assert (first["success"], first["errors"][0]["statusCode"], first["errors"][0]["message"]) == (
        False,
        "DUPLICATES_DETECTED",
        "Use one of these records?",
    )
    assert second["success"] is True
    assert (sf.Lead.get(blocked)["IsConverted"], sf.Lead.get(fine)["IsConverted"]) == (False, True)
