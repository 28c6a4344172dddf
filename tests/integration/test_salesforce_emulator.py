"""The Salesforce emulator against the unmodified clients: Airflow's SalesforceHook (simple-salesforce).

The emulator runs as a child process (salesforce_fixtures.py). Every assertion is on exact values,
including the error bodies Salesforce would send. The restart test runs last: it stops and starts the
process on the same state directory.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dev.localcloud.certs import SALESFORCE_APP_CONSUMER_KEY, SALESFORCE_APP_KEY
from tests.integration.salesforce_fixtures import (
    BASE,
    BATCH_200,
    DATA,
    DOMAIN,
    PORT,
    Emulator,
    collection,
    error_of,
    hook_client,
    ids_where,
    running_emulator,
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from running_emulator(tmp_path_factory.mktemp("salesforce"))


@pytest.fixture
def sf(emulator: Emulator) -> Any:
    return hook_client()


def expected_checksum(id15: str) -> str:
    """Salesforce's case-safe suffix, written out independently of the emulator's code."""
    alphabet = string.ascii_uppercase + "012345"
    return "".join(
        alphabet[
            sum(1 << i for i, char in enumerate(id15[block * 5 : block * 5 + 5]) if char in string.ascii_uppercase)
        ]
        for block in range(3)
    )


def soql_datetime(stamp: str) -> str:
    """``2026-11-25T16:42:10.123+0000`` (as returned) -> ``2026-11-25T16:42:10.123Z`` (as SOQL writes it)."""
    return stamp.replace("+0000", "Z")


def leads(tag: str, count: int) -> list[dict[str, Any]]:
    """Collection records for ``count`` new leads, told apart from other tests' by Workspace_Id__c."""
    return [
        {"attributes": {"type": "Lead"}, "LastName": f"Lead {n}", "Company": "Acme", "Workspace_Id__c": tag}
        for n in range(count)
    ]


# --- connecting ----------------------------------------------------------------------------------------


def test_hook_signs_in_with_the_jwt_bearer_flow(sf: Any) -> None:
    """The pipeline's connection (README): username, the connected app's consumer key and the private key whose
    certificate the app holds; no password, no SOAP login()."""
    assert sf.base_url == f"{DATA}/"
    assert sf.session_id.startswith("00D")
    me = sf.query("SELECT Id, Alias FROM User WHERE Username = 'integration@example.com'")
    assert me["totalSize"] == 1
    assert me["records"][0]["Alias"] == "integ"


def test_hook_signs_in_with_client_credentials(emulator: Emulator) -> None:
    client = hook_client("salesforce_client_credentials")
    assert client.base_url == f"{DATA}/"
    assert client.query("SELECT COUNT() FROM User WHERE IsActive = false") == {
        "totalSize": 2,
        "done": True,
        "records": [],
    }


def _assertion(key: Any, **claims: Any) -> str:
    import jwt

    payload = {
        "iss": SALESFORCE_APP_CONSUMER_KEY,
        "sub": "integration@example.com",
        "aud": f"https://localhost:{PORT}",
        "exp": int(time.time()) + 120,
        **claims,
    }
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm="RS256")


def _jwt_token(emulator: Emulator, assertion: str) -> tuple[int, dict[str, Any]]:
    response = requests.post(
        f"{BASE}/services/oauth2/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
        verify=emulator.ca_bundle,
        timeout=10,
    )
    return response.status_code, response.json()


def _app_key(emulator: Emulator) -> bytes:
    return (emulator.cert_dir / SALESFORCE_APP_KEY).read_bytes()


def test_jwt_bearer_answers_the_documented_token_response(emulator: Emulator) -> None:
    status, body = _jwt_token(emulator, _assertion(_app_key(emulator)))
    assert status == 200
    assert set(body) == {"access_token", "scope", "instance_url", "id", "token_type"}
    assert (body["instance_url"], body["token_type"]) == (f"https://localhost:{PORT}", "Bearer")


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("a key the connected app does not hold", ("invalid_grant", "invalid assertion")),
        ("an unknown consumer key", ("invalid_client_id", "client identifier invalid")),
        ("an expired assertion", ("invalid_grant", "invalid assertion")),
        ("another audience", ("invalid_grant", "audience is invalid")),
        ("no subject", ("invalid_grant", "invalid assertion")),
        ("an unknown user", ("invalid_grant", "user hasn't approved this consumer")),
        ("not a JWT", ("invalid_grant", "invalid assertion")),
    ],
)
def test_jwt_bearer_refuses_what_salesforce_refuses(emulator: Emulator, case: str, error: tuple[str, str]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = _app_key(emulator)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assertion = {
        "a key the connected app does not hold": lambda: _assertion(other_key),
        "an unknown consumer key": lambda: _assertion(key, iss="3MVG9-not-registered"),
        "an expired assertion": lambda: _assertion(key, exp=int(time.time()) - 10),
        "another audience": lambda: _assertion(key, aud="https://login.salesforce.com"),
        "no subject": lambda: _assertion(key, sub=None),
        "an unknown user": lambda: _assertion(key, sub="nobody@example.com"),
        "not a JWT": lambda: "not-a-jwt",
    }[case]()
    status, body = _jwt_token(emulator, assertion)
    assert (status, (body["error"], body["error_description"])) == (400, error)


def test_simple_salesforce_reports_a_refused_assertion(emulator: Emulator) -> None:
    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    with pytest.raises(SalesforceAuthenticationFailed) as raised:
        Salesforce(
            username="integration@example.com",
            consumer_key="3MVG9-unknown",
            privatekey=_app_key(emulator).decode(),
            domain=DOMAIN,
        )
    assert (raised.value.code, raised.value.auth_message) == ("invalid_client_id", "client identifier invalid")


def test_token_endpoint_refuses_the_rejected_password(emulator: Emulator) -> None:
    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    with pytest.raises(SalesforceAuthenticationFailed) as raised:
        Salesforce(username="a@example.com", password="wrong", consumer_key="k", consumer_secret="s", domain=DOMAIN)
    assert (raised.value.code, raised.value.auth_message) == ("invalid_grant", "authentication failure")


# --- sObject rows ---------------------------------------------------------------------------------------


def test_create_read_update_delete(sf: Any) -> None:
    created = sf.Lead.create({"LastName": "Lovelace", "Company": "Analytical Engines", "Email": "ada@engines.io"})
    assert created == {"id": created["id"], "success": True, "errors": []}
    lead = sf.Lead.get(created["id"])
    me = sf.query("SELECT Id FROM User WHERE Username = 'integration@example.com'")["records"][0]["Id"]
    assert (lead["Name"], lead["Status"], lead["OwnerId"], lead["IsDeleted"]) == (
        "Lovelace",
        "Open - Not Contacted",
        me,
        False,
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", lead["SystemModstamp"])

    assert sf.Lead.update(created["id"], {"FirstName": "Ada", "Status": "Working - Contacted"}) == 204
    updated = sf.Lead.get(created["id"])
    assert (updated["Name"], updated["Status"]) == ("Ada Lovelace", "Working - Contacted")
    assert updated["SystemModstamp"] > lead["SystemModstamp"]

    assert sf.Lead.delete(created["id"]) == 204
    from simple_salesforce.exceptions import SalesforceResourceNotFound

    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Lead.get(created["id"])
    assert error_of(raised) == (404, [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}])
    assert ids_where(sf, "Lead", "Email = 'ada@engines.io'") == []
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Lead WHERE Email = 'ada@engines.io'", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in deleted["records"]] == [(created["id"], True)]


def test_upsert_by_external_id_creates_then_updates(sf: Any) -> None:
    first = sf.Lead.upsert(
        "Dwh_External_Id__c/lead-upsert-1", {"LastName": "Hopper", "Company": "Navy"}, raw_response=True
    )
    second = sf.Lead.upsert("Dwh_External_Id__c/lead-upsert-1", {"Company": "UNIVAC"}, raw_response=True)
    # Since API v46.0 an update by external id answers 200 with created false (204 was the old answer).
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == {"id": first.json()["id"], "success": True, "errors": [], "created": True}
    assert second.json() == {"id": first.json()["id"], "success": True, "errors": [], "created": False}
    assert sf.Lead.upsert("Dwh_External_Id__c/lead-upsert-1", {"Title": "Rear Admiral"}) == 200
    rows = sf.query("SELECT Id, Company, Title FROM Lead WHERE Dwh_External_Id__c = 'LEAD-UPSERT-1'")["records"]
    assert [(r["Id"], r["Company"], r["Title"]) for r in rows] == [(first.json()["id"], "UNIVAC", "Rear Admiral")]
    assert sf.Lead.get_by_custom_id("Dwh_External_Id__c", "lead-upsert-1")["Id"] == first.json()["id"]


def test_ids_have_key_prefixes_and_case_safe_checksums(sf: Any) -> None:
    account = sf.Account.create({"Name": "Id Check Ltd"})["id"]
    made = {
        "001": account,
        "003": sf.Contact.create({"LastName": "Id", "AccountId": account})["id"],
        "00Q": sf.Lead.create({"LastName": "Id", "Company": "Id Check Ltd"})["id"],
        "006": sf.Opportunity.create({"Name": "Id", "StageName": "Prospecting", "CloseDate": "2026-12-31"})["id"],
        "00T": sf.Task.create({"Subject": "Id", "WhatId": account})["id"],
        "005": sf.query("SELECT Id FROM User LIMIT 1")["records"][0]["Id"],
    }
    for prefix, record_id in made.items():
        assert len(record_id) == 18
        assert record_id[:3] == prefix
        assert record_id[15:] == expected_checksum(record_id[:15])
    # A 15-character Id, or an 18-character one in the wrong case, names the same record.
    assert sf.Account.get(account[:15])["Id"] == account
    assert sf.Account.get(account.lower())["Id"] == account


def test_parent_references_by_external_id(sf: Any) -> None:
    account = sf.Account.create({"Name": "Parent Co", "Dwh_External_Id__c": "acct-parent-1"})["id"]
    contact = sf.Contact.create(
        {
            "LastName": "Child",
            "Dwh_External_Id__c": "contact-child-1",
            "Account": {"Dwh_External_Id__c": "acct-parent-1"},
        }
    )["id"]
    task = sf.Task.create(
        {
            "Subject": "Kick-off",
            "Who": {"attributes": {"type": "Contact"}, "Dwh_External_Id__c": "contact-child-1"},
            "What": {"attributes": {"type": "Account"}, "Dwh_External_Id__c": "acct-parent-1"},
        }
    )["id"]
    assert sf.Contact.get(contact)["AccountId"] == account
    assert (sf.Task.get(task)["WhoId"], sf.Task.get(task)["WhatId"]) == (contact, account)
    row = sf.query(f"SELECT Account.Dwh_External_Id__c, Owner.Alias FROM Contact WHERE Id = '{contact}'")["records"][0]
    assert row["Account"]["Dwh_External_Id__c"] == "acct-parent-1"
    assert row["Owner"]["Alias"] == "integ"

    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "Orphan", "Account": {"Dwh_External_Id__c": "acct-123"}})
    assert error_of(raised) == (
        400,
        [
            {
                "message": "Foreign key external ID: acct-123 not found for field Dwh_External_Id__c in entity Account",
                "errorCode": "INVALID_FIELD",
                "fields": [],
            }
        ],
    )


def test_seeded_users_and_inactive_owner(sf: Any) -> None:
    managers = sf.query_all("SELECT Alias, Region__c FROM User WHERE IsActive = true AND Title = 'Account Manager'")
    regions = sorted(r["Region__c"] for r in managers["records"])
    assert regions == ["AMER", "AMER", "APAC", "APAC", "EMEA", "EMEA"]
    queue = sf.query("SELECT Id, Name FROM User WHERE Alias = 'queue'")["records"]
    assert [r["Name"] for r in queue] == ["Sales Ops Queue"]
    inactive = ids_where(sf, "User", "IsActive = false ORDER BY Alias")
    assert len(inactive) == 2

    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "Stranded", "Company": "Nobody", "OwnerId": inactive[0]})
    assert error_of(raised) == (
        400,
        [
            {
                "message": f"operation performed with inactive user [{inactive[0][:15]}] as owner of lead",
                "errorCode": "INACTIVE_OWNER_OR_USER",
                "fields": ["OwnerId"],
            }
        ],
    )
    moved = sf.Lead.create({"LastName": "Assigned", "Company": "Somebody", "OwnerId": queue[0]["Id"]})
    assert sf.Lead.get(moved["id"])["OwnerId"] == queue[0]["Id"]


# --- errors, in Salesforce's shape ------------------------------------------------------------------------


def test_write_errors(sf: Any) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"FirstName": "Nameless"})
    assert error_of(raised) == (
        400,
        [
            {
                "message": "Required fields are missing: [LastName, Company]",
                "errorCode": "REQUIRED_FIELD_MISSING",
                "fields": ["LastName", "Company"],
            }
        ],
    )

    missing_account = "001" + "5g0" + "00000ZZZZ"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "Dangling", "AccountId": missing_account})
    assert error_of(raised) == (
        400,
        [
            {
                "message": "invalid cross reference id",
                "errorCode": "INVALID_CROSS_REFERENCE_KEY",
                "fields": ["AccountId"],
            }
        ],
    )

    first = sf.Account.create({"Name": "Twin A", "Dwh_External_Id__c": "acct-twin"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Account.create({"Name": "Twin B", "Dwh_External_Id__c": "ACCT-TWIN"})
    assert error_of(raised) == (
        400,
        [
            {
                "message": "duplicate value found: Dwh_External_Id__c duplicates value on record with id: "
                + first[:15],
                "errorCode": "DUPLICATE_VALUE",
                "fields": [],
            }
        ],
    )

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "X", "Company": "Y", "Foo": 1})
    assert error_of(raised) == (
        400,
        [{"message": "No such column 'Foo' on sobject of type Lead", "errorCode": "INVALID_FIELD", "fields": []}],
    )

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "X", "Company": "Y", "SystemModstamp": "2026-01-01T00:00:00Z"})
    assert error_of(raised)[1][0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error_of(raised)[1][0]["fields"] == ["SystemModstamp"]

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Account.create({"Name": "Counted", "NumberOfEmployees": "many"})
    assert error_of(raised)[1][0]["errorCode"] == "JSON_PARSER_ERROR"

    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Lead.get("00Q5g0000000ZZZ")
    assert error_of(raised) == (404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])

    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Foo.create({"Name": "x"})
    assert error_of(raised) == (404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])


def test_query_errors(sf: Any) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FRM Lead")
    assert error_of(raised) == (
        400,
        [
            {
                "message": "\nSELECT Id FRM Lead\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FRM'",
                "errorCode": "MALFORMED_QUERY",
            }
        ],
    )
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Lead WHERE LastName = 'a' AND Company = 'b' OR Email = null")
    assert error_of(raised)[1][0]["errorCode"] == "MALFORMED_QUERY"  # AND and OR need parentheses

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id, Foo FROM Lead")
    status, content = error_of(raised)
    assert (status, content[0]["errorCode"]) == (400, "INVALID_FIELD")
    assert "No such column 'Foo' on entity 'Lead'" in content[0]["message"]

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Lead WHERE SystemModstamp > 2026-01-01")
    assert error_of(raised)[1][0]["message"].endswith(
        "value of filter criterion for field 'SystemModstamp' must be of type dateTime "
        "and should not be enclosed in quotes"
    )

    # The +0000 offset Salesforce writes in results is not a SOQL literal: convert it to Z or +00:00.
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Lead WHERE SystemModstamp > 2026-11-25T16:42:10.000+0000")
    assert error_of(raised)[1][0]["errorCode"] == "MALFORMED_QUERY"

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Foo")
    assert error_of(raised)[1][0]["errorCode"] == "INVALID_TYPE"


def test_invalid_session_and_unsupported_version(emulator: Emulator) -> None:
    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceResourceNotFound

    stranger = Salesforce(instance_url=BASE, session_id="00Dbogus!token")
    with pytest.raises(SalesforceExpiredSession) as raised:
        stranger.query("SELECT Id FROM Lead")
    assert error_of(raised) == (401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    anonymous = requests.get(f"{DATA}/sobjects", timeout=10)
    assert (anonymous.status_code, anonymous.json()[0]["errorCode"]) == (401, "INVALID_SESSION_ID")

    old = Salesforce(instance_url=BASE, session_id=hook_client().session_id, version="58.0")
    with pytest.raises(SalesforceResourceNotFound) as raised:
        old.query("SELECT Id FROM Lead")
    assert error_of(raised) == (404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])


# --- SOQL paging and incremental filters ----------------------------------------------------------------------


def test_query_more_pages_through_every_record_once(sf: Any) -> None:
    created = []
    for start in range(0, 450, 200):
        results = collection(sf, "composite/sobjects", "POST", leads("paging", min(200, 450 - start)), True)
        created += [r["id"] for r in results]
    assert len(set(created)) == 450

    everything = sf.query_all("SELECT Id FROM Lead WHERE Workspace_Id__c = 'paging'", headers=BATCH_200)
    assert everything["totalSize"] == 450
    assert [r["Id"] for r in everything["records"]] == created  # without ORDER BY: creation order

    pages = [sf.query("SELECT Id, LastName FROM Lead WHERE Workspace_Id__c = 'paging'", headers=BATCH_200)]
    while not pages[-1]["done"]:
        pages.append(sf.query_more(pages[-1]["nextRecordsUrl"], identifier_is_url=True, headers=BATCH_200))
    assert [(p["totalSize"], len(p["records"]), p["done"]) for p in pages] == [
        (450, 200, False),
        (450, 200, False),
        (450, 50, True),
    ]
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-200", pages[0]["nextRecordsUrl"])
    assert pages[1]["nextRecordsUrl"].endswith("-400")
    assert "nextRecordsUrl" not in pages[2]
    assert [r["Id"] for p in pages for r in p["records"]] == created

    unbatched = sf.query("SELECT Id FROM Lead WHERE Workspace_Id__c = 'paging'")
    assert (unbatched["done"], len(unbatched["records"])) == (True, 450)


def test_systemmodstamp_filter_returns_exactly_the_later_changes(sf: Any) -> None:
    before = [r["id"] for r in collection(sf, "composite/sobjects", "POST", leads("stamp", 3), True)]
    rows = sf.query("SELECT SystemModstamp FROM Lead WHERE Workspace_Id__c = 'stamp' ORDER BY SystemModstamp DESC")
    watermark = rows["records"][0]["SystemModstamp"]
    time.sleep(0.01)  # SystemModstamp has millisecond precision
    after = [r["id"] for r in collection(sf, "composite/sobjects", "POST", leads("stamp", 2), True)]
    assert sf.Lead.update(before[0], {"Title": "Touched"}) == 204

    changed = ids_where(sf, "Lead", f"Workspace_Id__c = 'stamp' AND SystemModstamp > {soql_datetime(watermark)}")
    assert sorted(changed) == sorted([before[0], *after])
    # The same instant written with a +01:00 offset selects the same records.
    moment = datetime.strptime(watermark, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC) + timedelta(hours=1)
    shifted = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+01:00"
    assert sorted(ids_where(sf, "Lead", f"Workspace_Id__c = 'stamp' AND SystemModstamp > {shifted}")) == sorted(changed)
    assert ids_where(sf, "Lead", f"Workspace_Id__c = 'stamp' AND SystemModstamp <= {soql_datetime(watermark)}") == [
        before[1],
        before[2],
    ]


# --- sObject collections --------------------------------------------------------------------------------------


def test_collection_upsert_with_a_bad_row_keeps_the_good_ones(sf: Any) -> None:
    rows = [
        {"attributes": {"type": "Lead"}, "Dwh_External_Id__c": "coll-1", "LastName": "One", "Company": "C"},
        {"attributes": {"type": "Lead"}, "Dwh_External_Id__c": "coll-2", "LastName": "Two"},  # no Company
        {"attributes": {"type": "Lead"}, "Dwh_External_Id__c": "coll-3", "LastName": "Three", "Company": "C"},
    ]
    results = collection(sf, "composite/sobjects/Lead/Dwh_External_Id__c", "PATCH", rows, False)
    assert results == [
        {"id": results[0]["id"], "success": True, "errors": [], "created": True},
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "REQUIRED_FIELD_MISSING",
                    "message": "Required fields are missing: [Company]",
                    "fields": ["Company"],
                }
            ],
        },
        {"id": results[2]["id"], "success": True, "errors": [], "created": True},
    ]
    assert sorted(ids_where(sf, "Lead", "Dwh_External_Id__c LIKE 'coll-%'")) == sorted(
        [results[0]["id"], results[2]["id"]]
    )

    rows[1]["Company"] = "C"
    again = collection(sf, "composite/sobjects/Lead/Dwh_External_Id__c", "PATCH", rows, False)
    assert [(r["success"], r["created"]) for r in again] == [(True, False), (True, True), (True, False)]
    assert (again[0]["id"], again[2]["id"]) == (results[0]["id"], results[2]["id"])


def test_collection_all_or_none_writes_nothing_when_a_row_fails(sf: Any) -> None:
    rows = [
        {"attributes": {"type": "Lead"}, "Dwh_External_Id__c": "aon-1", "LastName": "One", "Company": "C"},
        {"attributes": {"type": "Lead"}, "Dwh_External_Id__c": "aon-2", "LastName": "Two", "Email": "not-an-email"},
    ]
    results = collection(sf, "composite/sobjects/Lead/Dwh_External_Id__c", "PATCH", rows, True)
    rolled_back = "Record rolled back because not all records were valid and the request was using AllOrNone header"
    assert results == [
        {
            "success": False,
            "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": rolled_back, "fields": []}],
        },
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": "Email: invalid email address: not-an-email",
                    "fields": ["Email"],
                }
            ],
        },
    ]
    assert ids_where(sf, "Lead", "Dwh_External_Id__c IN ('aon-1', 'aon-2')") == []

    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as raised:
        collection(sf, "composite/sobjects", "POST", leads("too-many", 201), False)
    assert error_of(raised) == (
        400,
        [
            {
                "message": "record limit reached. cannot submit more than 200 records into this call",
                "errorCode": "EXCEEDED_ID_LIMIT",
            }
        ],
    )


def test_collection_update_and_delete(sf: Any) -> None:
    made = [r["id"] for r in collection(sf, "composite/sobjects", "POST", leads("coll-ud", 2), False)]
    updates = [{"attributes": {"type": "Lead"}, "id": i, "Title": "Updated"} for i in made]
    assert collection(sf, "composite/sobjects", "PATCH", updates, False) == [
        {"id": i, "success": True, "errors": []} for i in made
    ]
    assert {r["Title"] for r in sf.query("SELECT Title FROM Lead WHERE Workspace_Id__c = 'coll-ud'")["records"]} == {
        "Updated"
    }
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(made), "allOrNone": "false"})
    assert deleted == [{"id": i, "success": True, "errors": []} for i in made]
    assert ids_where(sf, "Lead", "Workspace_Id__c = 'coll-ud'") == []


# --- fault switches (emulator extra) ----------------------------------------------------------------------------


def test_write_fault_rejects_matching_records_until_cleared(emulator: Emulator, sf: Any) -> None:
    faults = f"{BASE}/_admin/faults"
    auth = {"Authorization": f"Bearer {sf.session_id}"}
    assert requests.post(faults, json={"match": "x"}, verify=emulator.ca_bundle, timeout=5).status_code == 401
    fault = {"match": "LOCKED.io", "object": "Lead", "status_code": "UNABLE_TO_LOCK_ROW", "count": 2}
    added = requests.post(faults, json=fault, headers=auth, verify=emulator.ca_bundle, timeout=5)
    assert added.status_code == 201
    lock = "unable to obtain exclusive access to this record or 1 records"
    assert added.json() == [{**fault, "message": lock}]
    rows = [
        {"attributes": {"type": "Lead"}, "Dwh_External_Id__c": f"fault-{n}", "LastName": "F", "Company": company}
        for n, company in enumerate(["ok.io", "locked.io", "ok.io"])
    ]
    path = "composite/sobjects/Lead/Dwh_External_Id__c"
    first = collection(sf, path, "PATCH", rows, False)
    assert [r["success"] for r in first] == [True, False, True]
    assert first[1]["errors"] == [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": lock, "fields": []}]
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as raised:  # single-record writes too; the second of count=2
        sf.Lead.create({"LastName": "Single", "Company": "Locked.io"})
    assert error_of(raised) == (400, [{"message": lock, "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}])
    assert requests.get(faults, headers=auth, verify=emulator.ca_bundle, timeout=5).json() == []  # used up
    assert [r["success"] for r in collection(sf, path, "PATCH", rows, False)] == [True, True, True]

    requests.post(faults, json={"match": "fault-"}, headers=auth, verify=emulator.ca_bundle, timeout=5)
    assert [r["success"] for r in collection(sf, path, "PATCH", rows, False)] == [False, False, False]
    cleared = requests.delete(faults, headers=auth, verify=emulator.ca_bundle, timeout=5)
    assert cleared.status_code == 204
    assert [r["success"] for r in collection(sf, path, "PATCH", rows, False)] == [True, True, True]
    assert len(ids_where(sf, "Lead", "Dwh_External_Id__c LIKE 'fault-%'")) == 3


# --- persistence (last: restarts the emulator) ----------------------------------------------------------------


def test_state_survives_a_restart(emulator: Emulator, sf: Any) -> None:
    from simple_salesforce import Salesforce

    record = sf.Account.create({"Name": "Durable Inc", "Dwh_External_Id__c": "acct-durable"})["id"]
    token = sf.session_id
    assert emulator.stop() == 0  # SIGTERM to the process group: a clean exit
    emulator.start()

    same_session = Salesforce(instance_url=BASE, session_id=token)
    assert same_session.Account.get(record)["Dwh_External_Id__c"] == "acct-durable"
    after = same_session.Account.create({"Name": "After Restart"})["id"]
    assert after[:15] > record[:15]  # the Id counter carried on
