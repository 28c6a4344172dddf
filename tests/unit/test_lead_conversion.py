"""Lead conversion (include/salesforce/conversion.py): mart rows and Salesforce's contacts -> LeadConvert requests,
the SOAP request, convertLead() answers -> per-lead outcomes -> the task's verdict.

The answers in tests/fixtures/salesforce/ are SOAP payloads as the Salesforce emulator (dev/salesforce, which follows
the partner WSDL's convertLeadResponse) returned them for these requests; one test reads the documented sample's
shape in the enterprise namespace, to show the reader does not depend on a namespace prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from airflow.sdk.exceptions import AirflowException

from include.salesforce import conversion
from include.salesforce.conversion import (
    ConversionOutcome,
    ConvertLeadFault,
    LeadConvert,
    PlannedConversion,
    SalesforceContact,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "salesforce"
SOAPENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
URN = "{urn:partner.soap.sforce.com}"

# The leads, contact, account and owner of the captured answers.
LEAD, OTHER_LEAD = "00Q5g0000000007EAA", "00Q5g0000000008EAA"
CONTACT, ACCOUNT, OWNER = "0035g0000000007AAA", "0015g0000000006AAA", "0055g0000000001AAA"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.xml").read_bytes()


def ours(lead_id: str = LEAD, **changes: Any) -> PlannedConversion:
    """A lead converting into the contact this pipeline wrote (by external id) on the account it linked."""
    row = {"lead_id": lead_id, "converted_status": "Closed - Converted", "contact_external_id": "cont-x",
           "contact_id": None, "account_external_id": "acct-x", "account_id": None, "owner_id": OWNER}  # fmt: skip
    return PlannedConversion(**{**row, **changes})


def sales(lead_id: str = LEAD, **changes: Any) -> PlannedConversion:
    """A lead converting into the contact sales already had (by Id) on its account."""
    base = {"contact_external_id": None, "contact_id": CONTACT, "account_external_id": None, "account_id": ACCOUNT}
    return ours(lead_id, **{**base, **changes})


OUR_CONTACT = SalesforceContact(CONTACT, "cont-x", ACCOUNT, "acct-x")


# --- planning ------------------------------------------------------------------------------------------------------


def test_one_query_finds_our_contacts_by_external_id_and_sales_contacts_by_id() -> None:
    soql = conversion.contact_lookup_soql([ours(), sales("00Q2"), ours("00Q3", contact_external_id="cont-y")])
    assert soql == (
        "SELECT Id, Dwh_External_Id__c, AccountId, Account.Dwh_External_Id__c FROM Contact WHERE "
        f"Dwh_External_Id__c IN ('cont-x', 'cont-y') OR Id IN ('{CONTACT}')"
    )
    assert conversion.contact_lookup_soql([]) is None


def test_a_quote_in_a_key_cannot_break_out_of_the_soql_literal() -> None:
    soql = conversion.contact_lookup_soql([ours(contact_external_id="x') OR Name LIKE ('%")])
    assert "IN ('x\\') OR Name LIKE (\\'%')" in str(soql)


def test_contacts_are_read_from_the_query_records_with_their_accounts_external_id() -> None:
    records = [
        {"attributes": {"type": "Contact"}, "Id": CONTACT, "Dwh_External_Id__c": "cont-x", "AccountId": ACCOUNT,
         "Account": {"attributes": {"type": "Account"}, "Dwh_External_Id__c": "acct-x"}},
        {"attributes": {"type": "Contact"}, "Id": "003B", "Dwh_External_Id__c": None, "AccountId": None,
         "Account": None},
    ]  # fmt: skip
    assert conversion.contacts_from_records(records) == [OUR_CONTACT, SalesforceContact("003B", None, None, None)]


def test_a_lead_converts_into_its_contact_and_that_contacts_account_without_an_opportunity() -> None:
    converts, refused = conversion.lead_converts([ours()], [OUR_CONTACT])
    assert refused == []
    assert converts == [LeadConvert(LEAD, "Closed - Converted", ACCOUNT, CONTACT, OWNER)]


def test_a_sales_contact_is_found_by_id_whatever_its_id_length() -> None:
    contact = SalesforceContact(CONTACT, None, ACCOUNT, None)
    fifteen = sales(contact_id=CONTACT[:15], account_id=ACCOUNT[:15])
    converts, refused = conversion.lead_converts([sales(), fifteen], [contact])
    assert (len(converts), refused) == (2, [])
    assert {c.contact_id for c in converts} == {CONTACT}


@pytest.mark.parametrize(
    ("row", "contacts", "code"),
    [
        (ours(), [], "CONTACT_NOT_FOUND"),
        (ours(), [OUR_CONTACT, SalesforceContact("003B", "cont-x", ACCOUNT, "acct-x")], "CONTACT_NOT_FOUND"),
        (ours(), [SalesforceContact(CONTACT, "cont-x", None, None)], "CONTACT_WITHOUT_ACCOUNT"),
        (sales(), [SalesforceContact(CONTACT, None, None, None)], "CONTACT_WITHOUT_ACCOUNT"),
        (ours(converted_status=None), [OUR_CONTACT], "NO_CONVERTED_STATUS"),
    ],
    ids=["missing", "not-unique", "no-account", "sales-no-account", "no-converted-status"],
)
def test_a_lead_that_cannot_convert_as_decided_is_refused_and_the_others_convert(row, contacts, code) -> None:
    other = ours(OTHER_LEAD, contact_external_id="cont-z", account_external_id="acct-z")
    other_contact = SalesforceContact("003Z", "cont-z", "001Z", "acct-z")
    converts, refused = conversion.lead_converts([row, other], [*contacts, other_contact])
    assert [c.lead_id for c in converts] == [OTHER_LEAD]
    assert [(r.lead_id, r.outcome, r.status_code) for r in refused] == [(LEAD, "failed", code)]
    assert refused[0].message


@pytest.mark.parametrize(
    ("row", "contact"),
    [
        (ours(), SalesforceContact(CONTACT, "cont-x", "001B", "acct-other")),
        (sales(), SalesforceContact(CONTACT, None, "0015g0000000009AAA", None)),
    ],
    ids=["ours", "sales"],
)
def test_a_contact_moved_to_another_account_converts_into_its_current_account(row, contact) -> None:
    """Salesforce requires the contact's own account, and a salesperson's move is the record: converting into the
    account the warehouse decided would fail on every run."""
    (convert,), refused = conversion.lead_converts([row], [contact])
    assert (refused, convert.account_id, convert.contact_id) == ([], contact.account_id, CONTACT)
    assert convert.moved
    assert f"on account {contact.account_id}" in convert.moved
    (unmoved,), _ = conversion.lead_converts([ours()], [OUR_CONTACT])
    assert unmoved.moved is None


def test_leads_go_in_batches_of_the_documented_maximum() -> None:
    rows = [ours(f"00Q{i:015d}") for i in range(250)]
    assert [len(batch) for batch in conversion.batches(rows)] == [100, 100, 50]
    assert conversion.MAX_LEADS_PER_CALL == 100


# --- the SOAP request ---------------------------------------------------------------------------------------------


def test_the_request_is_a_convert_lead_envelope_in_the_partner_wsdl_order() -> None:
    converts = [LeadConvert(LEAD, "Closed - Converted", ACCOUNT, CONTACT, OWNER),
                LeadConvert(OTHER_LEAD, "Qualified", ACCOUNT, CONTACT, None)]  # fmt: skip
    body = conversion.convert_lead_envelope("SESSION", converts)
    envelope = ET.fromstring(body)  # noqa: S314 - our own request
    assert envelope.tag == f"{SOAPENV}Envelope"
    assert envelope.findtext(f"{SOAPENV}Header/{URN}SessionHeader/{URN}sessionId") == "SESSION"
    converts = envelope.findall(f"{SOAPENV}Body/{URN}convertLead/{URN}leadConverts")
    first = [(child.tag.removeprefix(URN), child.text) for child in converts[0]]
    assert first == [
        ("accountId", ACCOUNT), ("contactId", CONTACT), ("convertedStatus", "Closed - Converted"),
        ("doNotCreateOpportunity", "true"), ("leadId", LEAD), ("overwriteLeadSource", "false"), ("ownerId", OWNER),
        ("sendNotificationEmail", "false"),
    ]  # fmt: skip
    assert converts[1].find(f"{URN}ownerId") is None, "no owner: Salesforce uses the lead's"


# --- the answer ---------------------------------------------------------------------------------------------------


def test_each_result_is_the_outcome_of_the_request_at_its_position() -> None:
    converts = [LeadConvert(LEAD, "Closed - Converted", ACCOUNT, CONTACT, OWNER),
                LeadConvert(OTHER_LEAD, "Nope", ACCOUNT, CONTACT, OWNER)]  # fmt: skip
    outcomes = conversion.parse_convert_lead_response(fixture("convert_lead_converted_and_invalid_status"), converts)
    assert outcomes == [
        ConversionOutcome(LEAD, "converted", contact_id=CONTACT, account_id=ACCOUNT),
        ConversionOutcome(OTHER_LEAD, "failed", "INVALID_STATUS", "invalid convertedStatus: Nope"),
    ]


def test_a_lead_converted_since_the_mirror_counts_as_done() -> None:
    """A retry of the task, or a salesperson, converted it: CANNOT_UPDATE_CONVERTED_LEAD is not an error."""
    converts = [LeadConvert(LEAD, "Closed - Converted", ACCOUNT, CONTACT, OWNER)]
    outcomes = conversion.parse_convert_lead_response(fixture("convert_lead_already_converted"), converts)
    assert outcomes == [ConversionOutcome(LEAD, "already_converted", "CANNOT_UPDATE_CONVERTED_LEAD")]


def test_the_reader_does_not_depend_on_the_namespace_prefix() -> None:
    """The documented sample answer's shape, in the enterprise namespace with a default xmlns."""
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        b'envelope/" xmlns="urn:enterprise.soap.sforce.com"><soapenv:Body><convertLeadResponse><result>'
        b"<accountId>001D000000HRzTRIA1</accountId><contactId>003D000000OXGH6IAP</contactId>"
        b"<leadId>00QD000000FP14JMAT</leadId><success>true</success></result></convertLeadResponse></soapenv:Body>"
        b"</soapenv:Envelope>"
    )
    converts = [LeadConvert("00QD000000FP14JMAT", "Qualified", "001D000000HRzTRIA1", "003D000000OXGH6IAP", None)]
    (outcome,) = conversion.parse_convert_lead_response(body, converts)
    assert (outcome.outcome, outcome.contact_id) == ("converted", "003D000000OXGH6IAP")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("convert_lead_fault_invalid_session", "sf:INVALID_SESSION_ID"),
        ("convert_lead_fault_too_many", "sf:EXCEEDED_LEAD_CONVERT_LIMIT"),
    ],
)
def test_a_soap_fault_fails_the_whole_call(name: str, code: str) -> None:
    converts = [LeadConvert(LEAD, "Closed - Converted", ACCOUNT, CONTACT, OWNER)]
    with pytest.raises(ConvertLeadFault, match=code) as raised:
        conversion.parse_convert_lead_response(fixture(name), converts, http_status=500)
    assert raised.value.fault_code == code


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"<html>Service Unavailable</html>", "no SOAP envelope"), (b"upstream timeout", "no XML")],
)
def test_an_answer_that_is_not_soap_says_so(body: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        conversion.parse_convert_lead_response(body, [], http_status=503)


def test_an_answer_with_a_result_missing_is_refused_whole() -> None:
    converts = [LeadConvert(LEAD, "Closed - Converted", ACCOUNT, CONTACT, OWNER)] * 2
    with pytest.raises(ValueError, match="1 results for 2 leads"):
        conversion.parse_convert_lead_response(fixture("convert_lead_already_converted"), converts)


# --- the verdict --------------------------------------------------------------------------------------------------


def test_the_result_counts_each_outcome_and_only_failures_fail_the_task() -> None:
    outcomes = [
        ConversionOutcome("00Q1", "converted"),
        ConversionOutcome("00Q2", "already_converted", "CANNOT_UPDATE_CONVERTED_LEAD"),
        ConversionOutcome("00Q3", "failed", "INVALID_STATUS", "invalid convertedStatus: Nope"),
        ConversionOutcome("00Q4", "failed", "CONTACT_NOT_FOUND", "contact cont-y is not in Salesforce"),
        ConversionOutcome("00Q5", "failed", "INVALID_STATUS", "invalid convertedStatus: Nope"),
    ]
    result = conversion.summarize(5, outcomes)
    assert {k: result[k] for k in ("planned", "successful", "already_converted", "failed")} == {  # type: ignore[literal-required]
        "planned": 5, "successful": 1, "already_converted": 1, "failed": 3,
    }  # fmt: skip
    assert result["failed_by_status_code"] == {"CONTACT_NOT_FOUND": 1, "INVALID_STATUS": 2}
    assert result["errors"][0] == {"lead_id": "00Q3", "status_code": "INVALID_STATUS",
                                   "message": "invalid convertedStatus: Nope"}  # fmt: skip
    message = conversion.failure_message(result)
    assert message is not None
    assert message.startswith("Lead conversion: 3 of 5 planned leads failed (CONTACT_NOT_FOUND x1, INVALID_STATUS x2)")
    assert "00Q3: INVALID_STATUS: invalid convertedStatus: Nope" in message
    assert conversion.failure_message(conversion.summarize(2, outcomes[:2])) is None
    assert conversion.failure_message(conversion.summarize(0, [])) is None


# --- the edge, with a stand-in for simple-salesforce ----------------------------------------------------------------


class _Answer:
    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code, self.content = status_code, content


class _Salesforce:
    """simple-salesforce's attributes the task uses: query_all, session (requests), session_id, instance, version.
    convertLead() converts every lead it is sent, except those named in ``fail`` (INVALID_STATUS) and those
    converted by an earlier call (CANNOT_UPDATE_CONVERTED_LEAD), as Salesforce does."""

    sf_instance = "acme.my.salesforce.com"
    sf_version = "59.0"
    session_id = "00Dxx!SESSION"

    def __init__(self, contacts: list[dict[str, Any]], fail: frozenset[str] = frozenset()) -> None:
        self.contacts, self.fail = contacts, fail
        self.queries: list[str] = []
        self.posts: list[tuple[str, dict[str, str], list[str]]] = []
        self.converted: set[str] = set()
        self.session = self

    def query_all(self, soql: str) -> dict[str, Any]:
        self.queries.append(soql)
        return {"records": self.contacts}

    def post(self, url: str, data: bytes, headers: dict[str, str], timeout: float) -> _Answer:
        request = ET.fromstring(data)  # noqa: S314 - our own request
        assert request.findtext(f"{SOAPENV}Header/{URN}SessionHeader/{URN}sessionId") == self.session_id
        leads = [e.findtext(f"{URN}leadId") or "" for e in request.iter(f"{URN}leadConverts")]
        self.posts.append((url, headers, leads))
        results = []
        for lead in leads:
            if lead in self.fail or lead in self.converted:
                code = "INVALID_STATUS" if lead in self.fail else "CANNOT_UPDATE_CONVERTED_LEAD"
                results.append(f"<result><errors><message>no</message><statusCode>{code}</statusCode></errors>"
                               f"<leadId>{lead}</leadId><success>false</success></result>")  # fmt: skip
            else:
                self.converted.add(lead)
                results.append(f"<result><accountId>{ACCOUNT}</accountId><contactId>{CONTACT}</contactId>"
                               f"<leadId>{lead}</leadId><success>true</success></result>")  # fmt: skip
        body = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><convertLeadResponse>'
                f"{''.join(results)}</convertLeadResponse></soapenv:Body></soapenv:Envelope>")  # fmt: skip
        return _Answer(200, body.encode())


CONTACT_RECORD = {"Id": CONTACT, "Dwh_External_Id__c": "cont-x", "AccountId": ACCOUNT,
                  "Account": {"Dwh_External_Id__c": "acct-x"}}  # fmt: skip


def test_the_task_converts_batch_by_batch_on_the_connections_partner_endpoint() -> None:
    salesforce = _Salesforce([CONTACT_RECORD])
    rows = [ours(f"00Q{i:015d}") for i in range(150)]
    result = conversion.summarize(len(rows), conversion.convert_leads(salesforce, rows))  # type: ignore[arg-type]
    assert (result["planned"], result["successful"], result["failed"]) == (150, 150, 0)
    assert len(salesforce.queries) == 2, "one contact query per batch"
    assert [(url, len(leads)) for url, _, leads in salesforce.posts] == [
        ("https://acme.my.salesforce.com/services/Soap/u/59.0", 100),
        ("https://acme.my.salesforce.com/services/Soap/u/59.0", 50),
    ]
    assert salesforce.posts[0][1] == {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'}


def test_a_retry_converts_nothing_twice_and_a_failure_fails_the_task_after_every_batch(caplog) -> None:
    salesforce = _Salesforce([CONTACT_RECORD], fail=frozenset({"00Q000000000000003"}))
    rows = [ours(f"00Q{i:015d}") for i in range(120)]
    salesforce.get_records = lambda sql: [  # type: ignore[attr-defined]
        (r.lead_id, r.converted_status, r.contact_external_id, r.contact_id, r.account_external_id, r.account_id,
         r.owner_id) for r in rows
    ]  # fmt: skip
    recorded: list[tuple[str, dict]] = []
    with pytest.raises(AirflowException, match=r"1 of 120 planned leads failed \(INVALID_STATUS x1\)"):
        conversion.run(salesforce, salesforce, lambda status, outcome: recorded.append((status, dict(outcome))))  # type: ignore[arg-type]
    assert len(salesforce.converted) == 119, "every other lead, in both batches"
    [(status, outcome)] = recorded  # the run record has every lead's result before the task fails
    assert (status, outcome["failed"], len(outcome["leads"])) == ("failed", 1, 120)
    assert {"lead_id": "00Q000000000000003", "outcome": "failed", "status_code": "INVALID_STATUS", "message": "no",
            "contact_id": None, "account_id": None} in outcome["leads"]  # fmt: skip
    assert "Lead 00Q000000000000003 not converted: INVALID_STATUS: no" in caplog.text

    retry = conversion.summarize(len(rows), conversion.convert_leads(salesforce, rows))  # type: ignore[arg-type]
    assert (retry["successful"], retry["already_converted"], retry["failed"]) == (0, 119, 1)
    assert len(salesforce.converted) == 119


def test_nothing_planned_calls_nothing() -> None:
    salesforce = _Salesforce([])
    result = conversion.summarize(0, conversion.convert_leads(salesforce, []))  # type: ignore[arg-type]
    assert (result["planned"], result["successful"], salesforce.queries, salesforce.posts) == (0, 0, [], [])


def test_the_task_reads_the_mart_in_the_configured_analytics_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_ANALYTICS_DATABASE", "ANALYTICS_FORK")
    seen: list[str] = []

    class Warehouse:
        def get_records(self, sql: str) -> list[tuple]:
            seen.append(sql)
            return [(LEAD, "Closed - Converted", "cont-x", None, "acct-x", None, OWNER)]

    assert conversion.read_mart(Warehouse()) == [ours()]  # type: ignore[arg-type]
    assert seen == [
        "SELECT LEAD_ID, CONVERTED_STATUS, CONTACT_EXTERNAL_ID, CONTACT_ID, ACCOUNT_EXTERNAL_ID, ACCOUNT_ID, OWNER_ID "
        "FROM ANALYTICS_FORK.MARTS.SALESFORCE_LEAD_CONVERSIONS ORDER BY LEAD_ID"
    ]


def test_a_lead_a_duplicate_rule_blocks_is_a_failed_lead_with_the_rules_message() -> None:
    """The org's duplicate rules apply to the pipeline's conversions (no DuplicateRuleHeader is sent): a blocked
    lead is reported with DUPLICATES_DETECTED and the rule's message, fails the task, and the others convert."""
    body = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><convertLeadResponse><result>'
        '<accountId xsi:nil="true"/><contactId xsi:nil="true"/><errors><message>Use one of these records?</message>'
        f"<statusCode>DUPLICATES_DETECTED</statusCode></errors><leadId>{LEAD}</leadId>"
        '<opportunityId xsi:nil="true"/><success>false</success></result></convertLeadResponse></soapenv:Body>'
        "</soapenv:Envelope>"
    ).encode()
    converts = [LeadConvert(LEAD, "Closed - Converted", ACCOUNT, CONTACT, OWNER)]
    assert b"DuplicateRuleHeader" not in conversion.convert_lead_envelope("session", converts)
    (outcome,) = conversion.parse_convert_lead_response(body, converts)
    assert (outcome.outcome, outcome.status_code, outcome.message) == (
        "failed",
        "DUPLICATES_DETECTED",
        "Use one of these records?",
    )
