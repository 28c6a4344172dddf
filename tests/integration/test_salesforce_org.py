"""The emulator as strict as an org: deleted rows and queryAll, cascades, the Composite resource, queues,
restricted picklists, describe for a preflight check, and broken orgs (org.py) — through SalesforceHook.

The org customisation endpoint (/_admin/org) is an emulator extra; every test that changes the org
restores the default one before it ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.salesforce_fixtures import (
    BASE,
    BATCH_200,
    Emulator,
    collection,
    deleted_too,
    error_of,
    hook_client,
    ids_where,
    running_emulator,
)

ADMIN_ORG = f"{BASE}/_admin/org"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from running_emulator(tmp_path_factory.mktemp("salesforce-org"))


@pytest.fixture
def sf(emulator: Emulator) -> Any:
    return hook_client()


@pytest.fixture
def org(sf: Any) -> Iterator[Any]:
    """Change the org for one test (PUT /_admin/org); the default org is back afterwards."""
    auth = {"Authorization": f"Bearer {sf.session_id}"}

    def customise(config: dict[str, Any]) -> requests.Response:
        return requests.put(ADMIN_ORG, json=config, headers=auth, timeout=30)

    yield customise
    assert requests.delete(ADMIN_ORG, headers=auth, timeout=30).status_code == 204


def field_of(sf: Any, object_name: str, name: str) -> dict[str, Any] | None:
    return next((f for f in getattr(sf, object_name).describe()["fields"] if f["name"] == name), None)


# --- query and queryAll ------------------------------------------------------------------------------------


def test_query_never_returns_deleted_records_and_query_all_does(sf: Any) -> None:
    lead = sf.Lead.create({"LastName": "Binned", "Company": "Bin Co", "Workspace_Id__c": "binned"})["id"]
    kept = sf.Lead.create({"LastName": "Kept", "Company": "Bin Co", "Workspace_Id__c": "binned"})["id"]
    assert sf.Lead.delete(lead) == 204

    assert ids_where(sf, "Lead", "Workspace_Id__c = 'binned'") == [kept]
    # Not even asked for by IsDeleted: the query resource filters deleted records out.
    assert ids_where(sf, "Lead", "Workspace_Id__c = 'binned' AND IsDeleted = true") == []
    every = deleted_too(sf, "SELECT Id, IsDeleted, MasterRecordId FROM Lead WHERE Workspace_Id__c = 'binned'")
    assert [(r["Id"], r["IsDeleted"], r["MasterRecordId"]) for r in every] == [(lead, True, None), (kept, False, None)]
    count = "SELECT COUNT() FROM Lead WHERE Workspace_Id__c = 'binned'"
    assert (
        sf.restful("query", params={"q": count})["totalSize"],
        sf.restful("queryAll", params={"q": count})["totalSize"],
    ) == (1, 2)


def test_query_all_continues_on_the_query_resource_with_deleted_records(sf: Any) -> None:
    """nextRecordsUrl names /query/ even for queryAll, and its pages still hold the deleted records."""
    made = []
    for _ in range(2):
        rows = [{"attributes": {"type": "Lead"}, "LastName": "Paged", "Company": "P", "Workspace_Id__c": "qa-pages"}]
        made += [r["id"] for r in collection(sf, "composite/sobjects", "POST", rows * 150, True)]
    deleted = made[:120]
    for start in range(0, len(deleted), 200):
        sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(deleted[start : start + 200])})

    # simple-salesforce's query_all follows nextRecordsUrl itself: read the raw pages to see the URL.
    page = sf.restful(
        "queryAll", params={"q": "SELECT Id, IsDeleted FROM Lead WHERE Workspace_Id__c = 'qa-pages'"}, headers=BATCH_200
    )
    assert (page["totalSize"], len(page["records"]), page["done"]) == (300, 200, False)
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    rest = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True, headers=BATCH_200)
    records = page["records"] + rest["records"]
    assert (rest["done"], len(records)) == (True, 300)
    assert [r["Id"] for r in records if r["IsDeleted"]] == deleted
    assert len(ids_where(sf, "Lead", "Workspace_Id__c = 'qa-pages'")) == 180


def test_deleting_an_account_deletes_its_contacts_opportunities_and_activities(sf: Any) -> None:
    account = sf.Account.create({"Name": "Doomed Inc"})["id"]
    contact = sf.Contact.create({"LastName": "Doomed", "AccountId": account})["id"]
    opportunity = sf.Opportunity.create(
        {"Name": "Doomed deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", "AccountId": account}
    )["id"]
    on_account = sf.Task.create({"Subject": "About the account", "WhatId": account})["id"]
    on_contact = sf.Task.create({"Subject": "Call the contact", "WhoId": contact})["id"]
    bystander = sf.Contact.create({"LastName": "Bystander"})["id"]

    assert sf.Account.delete(account) == 204
    assert ids_where(sf, "Contact", f"Id IN ('{contact}', '{bystander}')") == [bystander]
    assert ids_where(sf, "Opportunity", f"Id = '{opportunity}'") == []
    assert ids_where(sf, "Task", f"Id IN ('{on_account}', '{on_contact}')") == []
    binned = deleted_too(sf, f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact}'")
    assert [(r["Id"], r["IsDeleted"]) for r in binned] == [(contact, True)]
    assert [
        r["IsDeleted"] for r in deleted_too(sf, f"SELECT IsDeleted FROM Opportunity WHERE Id = '{opportunity}'")
    ] == [True]


# --- Composite resource ---------------------------------------------------------------------------------------


def composite(sf: Any, subrequests: list[dict[str, Any]], all_or_none: bool | None = None) -> Any:
    body: dict[str, Any] = {"compositeRequest": subrequests}
    if all_or_none is not None:
        body["allOrNone"] = all_or_none
    return sf.restful("composite", method="POST", json=body)


def test_composite_subrequests_use_earlier_results(sf: Any) -> None:
    answer = composite(
        sf,
        [
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "refAccount",
             "body": {"Name": "Composite Co"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "refContact",
             "body": {"LastName": "Member", "AccountId": "@{refAccount.id}"}},
            {"method": "GET", "url": "/services/data/v59.0/sobjects/Account/@{refAccount.id}?fields=Name",
             "referenceId": "refRead"},
            {"method": "PATCH", "url": "/services/data/v59.0/sobjects/Contact/@{refContact.id}",
             "referenceId": "refRename", "body": {"Title": "Works at @{refRead.Name}"}},
            {"method": "GET", "referenceId": "refQuery",
             "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Contact+WHERE+AccountId='@{refAccount.id}'"},
        ],
    )  # fmt: skip
    responses = answer["compositeResponse"]
    account, contact = responses[0]["body"]["id"], responses[1]["body"]["id"]
    assert responses[0] == {
        "body": {"id": account, "success": True, "errors": []},
        "httpHeaders": {"Location": f"/services/data/v59.0/sobjects/Account/{account}"},
        "httpStatusCode": 201,
        "referenceId": "refAccount",
    }
    assert [(r["referenceId"], r["httpStatusCode"]) for r in responses] == [
        ("refAccount", 201),
        ("refContact", 201),
        ("refRead", 200),
        ("refRename", 204),
        ("refQuery", 200),
    ]
    assert responses[3] == {"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": "refRename"}
    assert [r["Id"] for r in responses[4]["body"]["records"]] == [contact]
    assert (sf.Contact.get(contact)["AccountId"], sf.Contact.get(contact)["Title"]) == (
        account,
        "Works at Composite Co",
    )


def test_composite_all_or_none_rolls_back_everything(sf: Any) -> None:
    answer = composite(
        sf,
        [
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "NewAccount",
             "body": {"Name": "Never Inc"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "NewContact",
             "body": {"LastName": "Never", "Email": "not an email", "AccountId": "@{NewAccount.id}"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "NewLead",
             "body": {"LastName": "Never", "Company": "Never Inc"}},
        ],
        all_or_none=True,
    )  # fmt: skip
    halted = [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "The transaction was rolled back since another operation in the same transaction failed.",
        }
    ]
    assert answer["compositeResponse"] == [
        {"body": halted, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "NewAccount"},
        {
            "body": [
                {
                    "message": "Email: invalid email address: not an email",
                    "errorCode": "INVALID_EMAIL_ADDRESS",
                    "fields": ["Email"],
                }
            ],
            "httpHeaders": {},
            "httpStatusCode": 400,
            "referenceId": "NewContact",
        },
        {"body": halted, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "NewLead"},
    ]
    assert ids_where(sf, "Account", "Name = 'Never Inc'") == []
    assert ids_where(sf, "Lead", "Company = 'Never Inc'") == []


def test_composite_without_all_or_none_halts_only_what_depends_on_a_failure(sf: Any) -> None:
    answer = composite(
        sf,
        [
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "refNewAccount",
             "body": {"Website": "no-name.io"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "refNewContact",
             "body": {"LastName": "Orphan", "AccountId": "@{refNewAccount.id}"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "refOther",
             "body": {"Name": "Independent Ltd"}},
        ],
    )  # fmt: skip
    responses = answer["compositeResponse"]
    assert [(r["httpStatusCode"], r["referenceId"]) for r in responses] == [
        (400, "refNewAccount"),
        (400, "refNewContact"),
        (201, "refOther"),
    ]
    assert responses[0]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[1]["body"] == [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "Invalid reference specified. No value for refNewAccount.id found in refNewAccount.",
        }
    ]
    assert ids_where(sf, "Account", "Name = 'Independent Ltd'") == [responses[2]["body"]["id"]]
    assert ids_where(sf, "Contact", "LastName = 'Orphan'") == []


def test_composite_request_limits_and_shape(sf: Any) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    read = {"method": "GET", "url": "/services/data/v59.0/sobjects/User/describe"}
    with pytest.raises(SalesforceMalformedRequest) as raised:
        composite(sf, [{**read, "referenceId": f"r{n}"} for n in range(26)])
    assert error_of(raised)[1][0]["errorCode"] == "LIMIT_EXCEEDED"
    query = {"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+User+LIMIT+1"}
    with pytest.raises(SalesforceMalformedRequest) as raised:
        composite(sf, [{**query, "referenceId": f"q{n}"} for n in range(6)])
    assert error_of(raised)[1][0]["errorCode"] == "LIMIT_EXCEEDED"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        composite(sf, [{"method": "GET", "url": "/services/data/v59.0/limits"}])
    assert error_of(raised) == (
        400,
        [{"message": "'referenceId' is a required field.", "errorCode": "JSON_PARSER_ERROR"}],
    )
    five = composite(sf, [{**query, "referenceId": f"q{n}"} for n in range(5)])
    assert [r["httpStatusCode"] for r in five["compositeResponse"]] == [200] * 5


# --- queues -----------------------------------------------------------------------------------------------------


def test_a_lead_queue_owns_leads_and_only_leads(sf: Any) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    [queue] = sf.query("SELECT Id, Name, DeveloperName, Type FROM Group WHERE Type = 'Queue'")["records"]
    assert (queue["Id"][:3], queue["Name"], queue["DeveloperName"]) == ("00G", "Unassigned Leads", "Unassigned_Leads")
    takes = sf.query(f"SELECT SobjectType FROM QueueSobject WHERE QueueId = '{queue['Id']}'")["records"]
    assert [r["SobjectType"] for r in takes] == ["Lead"]
    waiting = sf.query("SELECT Email, Owner.Name, Owner.Type FROM Lead WHERE Owner.Type = 'Queue' ORDER BY Email")
    assert [(r["Email"], r["Owner"]["Name"]) for r in waiting["records"]] == [
        ("gavin.belson@hooli.com", "Unassigned Leads"),
        ("ines.weber@kessler-logistik.de", "Unassigned Leads"),
    ]
    assert waiting["records"][0]["Owner"]["attributes"] == {
        "type": "Name",
        "url": f"/services/data/v59.0/sobjects/Group/{queue['Id']}",
    }
    lead = sf.Lead.create({"LastName": "Queued", "Company": "Q", "OwnerId": queue["Id"]})["id"]
    assert sf.Lead.get(lead)["OwnerId"] == queue["Id"]
    task = sf.Task.create({"Subject": "Who is it", "WhoId": lead})["id"]
    who = sf.query(f"SELECT Who.Name, Who.Type FROM Task WHERE Id = '{task}'")["records"][0]["Who"]
    assert (who["Name"], who["Type"]) == ("Queued", "Lead")
    # The Sales Ops Queue *user* stays a user, the default owner the pipeline's settings name.
    assert sf.query("SELECT Name FROM User WHERE Alias = 'queue'")["records"][0]["Name"] == "Sales Ops Queue"

    for object_name, body in (
        ("Contact", {"LastName": "Nope"}),
        ("Account", {"Name": "Nope"}),
        ("Opportunity", {"Name": "Nope", "StageName": "Prospecting", "CloseDate": "2026-12-31"}),
    ):
        with pytest.raises(SalesforceMalformedRequest) as raised:
            getattr(sf, object_name).create({**body, "OwnerId": queue["Id"]})
        assert error_of(raised) == (
            400,
            [
                {
                    "message": f"Owner ID: id value of incorrect type: {queue['Id']}",
                    "errorCode": "FIELD_INTEGRITY_EXCEPTION",
                    "fields": ["OwnerId"],
                }
            ],
        )
    assert field_of(sf, "Lead", "OwnerId")["referenceTo"] == ["Group", "User"]  # type: ignore[index]
    assert field_of(sf, "Contact", "OwnerId")["referenceTo"] == ["User"]  # type: ignore[index]

    regular = sf.Group.create({"Name": "Just people", "DeveloperName": "Just_People", "Type": "Regular"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "Grouped", "Company": "G", "OwnerId": regular})
    assert error_of(raised)[1][0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


# --- describe, picklists, broken orgs ----------------------------------------------------------------------------

PREFLIGHT_KEYS = {
    "name", "type", "externalId", "unique", "nillable", "createable", "updateable", "length", "referenceTo",
    "relationshipName", "picklistValues", "restrictedPicklist",
}  # fmt: skip


def test_describe_has_what_a_preflight_check_reads(sf: Any) -> None:
    for object_name in ("Lead", "Contact", "Account", "Opportunity", "Task", "User", "LeadStatus", "Group"):
        described = getattr(sf, object_name).describe()
        assert described["keyPrefix"], object_name
        assert described["urls"]["describe"].endswith(f"/sobjects/{object_name}/describe")
        assert all(set(f) >= PREFLIGHT_KEYS for f in described["fields"]), object_name
    external = field_of(sf, "Account", "Dwh_External_Id__c")
    assert {k: external[k] for k in ("type", "externalId", "unique", "length", "custom")} == {  # type: ignore[index]
        "type": "string",
        "externalId": True,
        "unique": True,
        "length": 255,
        "custom": True,
    }
    status = field_of(sf, "Lead", "Status")
    assert status is not None
    assert (status["type"], status["restrictedPicklist"], status["defaultValue"]) == (
        "picklist",
        False,
        "Open - Not Contacted",
    )
    assert [(v["value"], v["active"], v["defaultValue"]) for v in status["picklistValues"]] == [
        ("Open - Not Contacted", True, True),
        ("Working - Contacted", True, False),
        ("Closed - Converted", True, False),
        ("Closed - Not Converted", True, False),
    ]
    master = field_of(sf, "Contact", "MasterRecordId")
    assert (master["referenceTo"], master["relationshipName"], master["createable"]) == (  # type: ignore[index]
        ["Contact"],
        "MasterRecord",
        False,
    )


def test_restricted_picklists_refuse_values_that_are_not_active(sf: Any, org: Any) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    # Standard picklists of a default org are not restricted: any value goes through the API.
    loose = sf.Account.create({"Name": "Loose", "Type": "Not A Type"})["id"]
    assert sf.Account.get(loose)["Type"] == "Not A Type"

    config = {
        "picklists": {"Lead.LeadSource": {"restricted": True, "deactivate": ["Purchased List"], "remove": ["Other"]}}
    }
    assert org(config).status_code == 200
    source = field_of(sf, "Lead", "LeadSource")
    assert source is not None
    assert source["restrictedPicklist"] is True
    assert [(v["value"], v["active"]) for v in source["picklistValues"]] == [
        ("Web", True),
        ("Phone Inquiry", True),
        ("Partner Referral", True),
        ("Purchased List", False),
        ("Product Signup", True),
    ]
    for value in ("Webinar", "Purchased List", "Other"):
        with pytest.raises(SalesforceMalformedRequest) as raised:
            sf.Lead.create({"LastName": "Picky", "Company": "P", "LeadSource": value})
        assert error_of(raised) == (
            400,
            [
                {
                    "message": f"Lead Source: bad value for restricted picklist field: {value}",
                    "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    "fields": ["LeadSource"],
                }
            ],
        )
    rows = [
        {"attributes": {"type": "Lead"}, "LastName": "Picky", "Company": "P", "LeadSource": value}
        for value in ("Web", "Webinar")
    ]
    assert [r["success"] for r in collection(sf, "composite/sobjects", "POST", rows, False)] == [True, False]


def test_broken_orgs_for_the_preflight_tests(sf: Any, org: Any) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceMoreThanOneRecord

    before = sf.Account.create({"Name": "Keyed", "Dwh_External_Id__c": "keyed-1"})["id"]
    answer = org(
        {
            "removeFields": ["Contact.Workspace_Id__c"],
            "renameFields": {"Account.Dwh_External_Id__c": "Dwh_Key__c"},
            "picklists": {
                "Lead.Status": {"remove": ["Closed - Converted"], "add": ["Qualified"], "converted": ["Qualified"]}
            },
            "integrationUserCanConvertLeads": False,
        }
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    # A missing custom field: gone from describe, SOQL and payloads.
    assert field_of(sf, "Contact", "Workspace_Id__c") is None
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Workspace_Id__c FROM Contact")
    assert error_of(raised)[1][0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.create({"LastName": "X", "Workspace_Id__c": "w"})
    # A renamed field keeps its data under the new name.
    assert field_of(sf, "Account", "Dwh_External_Id__c") is None
    assert sf.Account.get(before)["Dwh_Key__c"] == "keyed-1"
    assert sf.Account.get_by_custom_id("Dwh_Key__c", "keyed-1")["Id"] == before
    # The converted status changed with the picklist.
    converted = sf.query("SELECT MasterLabel FROM LeadStatus WHERE IsConverted = true")["records"]
    assert [r["MasterLabel"] for r in converted] == ["Qualified"]
    # The integration user no longer holds the Convert Leads permission.
    me = sf.query("SELECT Id FROM User WHERE Username = 'integration@example.com'")["records"][0]["Id"]
    granting = (
        f"SELECT COUNT() FROM PermissionSetAssignment WHERE AssigneeId = '{me}' "
        "AND PermissionSet.PermissionsConvertLeads = true"
    )
    assert sf.query(granting)["totalSize"] == 0

    # A non-unique external id: duplicates are allowed, and an upsert on one answers 300.
    assert org({"fields": {"Account.Dwh_External_Id__c": {"unique": False}}}).status_code == 200
    assert field_of(sf, "Account", "Dwh_External_Id__c")["unique"] is False  # type: ignore[index]
    twin = sf.Account.create({"Name": "Keyed twin", "Dwh_External_Id__c": "KEYED-1"})["id"]
    with pytest.raises(SalesforceMoreThanOneRecord) as several:
        sf.Account.upsert("Dwh_External_Id__c/keyed-1", {"Name": "Which?"})
    assert (several.value.status, sorted(several.value.content)) == (
        300,
        sorted(f"/services/data/v59.0/sobjects/Account/{i}" for i in (before, twin)),
    )
    # The emulator refuses what Salesforce refuses: a field made unique over duplicate values.
    refused = requests.put(ADMIN_ORG, json={}, headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=30)
    assert (refused.status_code, "cannot be unique" in refused.json()["error"]) == (400, True)
    sf.Account.delete(twin)
    # Unknown fields and standard fields cannot be customised.
    assert org({"removeFields": ["Contact.LastName"]}).status_code == 400
    assert org({"removeFields": ["Contact.Nope__c"]}).status_code == 400


def test_identity_of_the_session(sf: Any) -> None:
    auth = {"Authorization": f"Bearer {sf.session_id}"}
    info = requests.get(f"{BASE}/services/oauth2/userinfo", headers=auth, timeout=10).json()
    me = sf.query("SELECT Id FROM User WHERE Username = 'integration@example.com'")["records"][0]["Id"]
    assert (info["user_id"], info["preferred_username"], info["organization_id"][:3]) == (
        me,
        "integration@example.com",
        "00D",
    )
    identity = requests.get(info["sub"], headers=auth, timeout=10).json()
    assert (identity["user_id"], identity["username"], identity["asserted_user"]) == (
        me,
        "integration@example.com",
        True,
    )
    assert requests.get(f"{BASE}/services/oauth2/userinfo", timeout=10).status_code == 401


# --- last: restarts the emulator ----------------------------------------------------------------------------


def test_org_config_file_at_start_persists_across_restarts(emulator: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "org.json"
    config.write_text(json.dumps({"removeFields": ["Lead.Workspace_Id__c"]}))
    assert emulator.stop() == 0
    emulator.extra_args = ["--org-config", str(config)]
    emulator.start()
    assert field_of(hook_client(), "Lead", "Workspace_Id__c") is None
    assert emulator.stop() == 0
    emulator.extra_args = []
    emulator.start()  # without the flag, the org keeps the customisation it last had
    assert field_of(hook_client(), "Lead", "Workspace_Id__c") is None
    assert field_of(hook_client(), "Lead", "Dwh_External_Id__c") is not None
    sf = hook_client()
    assert (
        requests.delete(ADMIN_ORG, headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=30).status_code == 204
    )
    assert field_of(sf, "Lead", "Workspace_Id__c") is not None


def test_an_integration_user_without_create_on_account_cannot_convert_leads(sf: Any, org: Any) -> None:
    """convertLead() requires Create and Edit on the objects a conversion writes, not only Convert Leads: describe
    reports the missing access (createable) and every conversion fails with INSUFFICIENT_ACCESS_OR_READONLY."""
    from tests.integration.salesforce_fixtures import convert_lead, results

    lead = sf.Lead.create({"LastName": "Blocked", "Company": "No Access Inc"})["id"]
    answer = org({"integrationUserLacks": {"Account": ["create"]}})
    assert answer.status_code == 200, answer.text
    account = sf.Account.describe()
    assert (account["createable"], account["updateable"]) == (False, True)
    [result] = results(convert_lead(sf.session_id, {"leadId": lead, "convertedStatus": "Closed - Converted"})[1],
                       "convertLeadResponse")  # fmt: skip
    assert (result["success"], result["errors"][0]["statusCode"]) == (False, "INSUFFICIENT_ACCESS_OR_READONLY")
    assert "Create on Account" in result["errors"][0]["message"]
    assert sf.Lead.get(lead)["IsConverted"] is False
