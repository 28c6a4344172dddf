"""Convert the leads the warehouse decided, with Salesforce's SOAP ``convertLead()``.

Salesforce converts a lead only through ``convertLead()`` (SOAP API, or Apex's ``Database.convertLead``); no
REST resource does it, and setting ``Status`` to a converted value leaves an unconverted lead beside the
contact (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead.htm).
A real conversion sets ``IsConverted``, ``ConvertedContactId`` and ``ConvertedAccountId`` and makes the lead
read-only history.

The mart ``salesforce_lead_conversions`` decides: which lead converts into which contact and account, with
which converted status and owner. This module acts on it, in batches of ``MAX_LEADS_PER_CALL``:

1. one SOQL query finds the batch's contacts (ours by ``Dwh_External_Id__c``: the contacts sync created them a
   moment ago, so the mart cannot know their Ids) with their account, which ``convertLead()`` requires
   ("this contact must be associated with the specified accountId");
2. a lead whose contact is missing or has no account is refused (reported, not converted); the others go to
   ``convertLead()`` into that contact and its current account (if someone moved the contact to another account
   than the warehouse decided, Salesforce is the record: the log says so), with
   ``doNotCreateOpportunity`` (the pipeline opens its own opportunity) and the warehouse's owner as ``ownerId``
   (which Salesforce requires for a lead a queue owns: accounts and contacts cannot belong to a queue);
3. each ``LeadConvertResult`` (in request order) is a conversion, or a failure with Salesforce's status code.
   ``CANNOT_UPDATE_CONVERTED_LEAD`` means the lead was converted since the mirror read it (by a retry of this
   task, or by a salesperson): done, not an error. So a retry never converts twice and a second run, once the
   mirror has seen the conversions, plans nothing.

Duplicate rules: the request carries no ``DuplicateRuleHeader``, so the org's duplicate rules apply to the
pipeline's conversions exactly as to a salesperson's (``allowSave`` would only bypass rules that alert, never
those that block: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_header_duplicateruleheader.htm).
A conversion into an existing account and contact creates no record of either, but it fills their empty fields,
and a rule can block that (Salesforce Help, troubleshooting lead conversion). A lead a rule blocks comes back
with ``DUPLICATES_DETECTED`` and the rule's message: it is a failed lead like any other (below), stays open, and
the next run tries it again once sales has resolved the duplicate.

Like a Hightouch ``warning`` run, failed leads do not stop the others: the task logs each with its error and one
line of counts (``describe``), then returns the counts (``LeadConversionResult``, its XCom) or, if any lead failed,
fails naming how many and why (``failure_message``).

Pure functions build the SOQL and the SOAP request and read the answers (unit-tested on SOAP payloads); the
calls are at the edge (``convert_leads``). XML is built and read with the standard library's ElementTree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict
from xml.etree import ElementTree as ET

from airflow.sdk.exceptions import AirflowException

from include.settings import warehouse_names

if TYPE_CHECKING:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
    from simple_salesforce import Salesforce

log = logging.getLogger(__name__)

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: Salesforce converts at most 100 leads in one call (SOAP API, convertLead():
#: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead.htm).
MAX_LEADS_PER_CALL = 100
#: The status code of a lead that is converted already (the lead is read-only history).
ALREADY_CONVERTED = "CANNOT_UPDATE_CONVERTED_LEAD"
#: The mart the task reads (schema.table in the analytics database) and the columns it reads, in order.
MART = "MARTS.SALESFORCE_LEAD_CONVERSIONS"
MART_COLUMNS = (
    "LEAD_ID", "CONVERTED_STATUS", "CONTACT_EXTERNAL_ID", "CONTACT_ID", "ACCOUNT_EXTERNAL_ID", "ACCOUNT_ID",
    "OWNER_ID",
)  # fmt: skip
#: How many failed leads the task's return value lists (all of them are logged).
ERRORS_RETURNED = 50
SOAP_TIMEOUT_SECONDS = 120


#: What convertLead() writes: the lead (converted), and the contact and account it converts into.
WRITES = ("Lead", "Contact", "Account")


def mart_table() -> str:
    """The mart's full name in the configured analytics database (SNOWFLAKE_ANALYTICS_DATABASE)."""
    return f"{warehouse_names().analytics_database}.{MART}"


@dataclass(frozen=True)
class PlannedConversion:
    """One mart row: the lead, and the contact and account it converts into (ours by external id, else by Id)."""

    lead_id: str
    converted_status: str | None
    contact_external_id: str | None
    contact_id: str | None
    account_external_id: str | None
    account_id: str | None
    owner_id: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> PlannedConversion:
        """A row of ``SELECT <MART_COLUMNS> FROM <mart>``."""
        lead_id, status, contact_external_id, contact_id, account_external_id, account_id, owner_id = (
            None if value is None else str(value) for value in row
        )
        return cls(str(lead_id), status, contact_external_id, contact_id, account_external_id, account_id, owner_id)


@dataclass(frozen=True)
class SalesforceContact:
    """A contact as Salesforce has it now: its Id, our external id (if ours) and its account."""

    contact_id: str
    external_id: str | None
    account_id: str | None
    account_external_id: str | None


@dataclass(frozen=True)
class LeadConvert:
    """One ``LeadConvert`` of the call: always into an existing contact and account, never an opportunity."""

    lead_id: str
    converted_status: str
    account_id: str
    contact_id: str
    owner_id: str | None
    moved: str | None = None  # not sent: why the account differs from the warehouse's decision, if it does


Outcome = Literal["converted", "already_converted", "failed"]


@dataclass(frozen=True)
class ConversionOutcome:
    """What became of one planned lead."""

    lead_id: str
    outcome: Outcome
    status_code: str | None = None  # Salesforce's StatusCode, or ours for a lead refused before the call
    message: str | None = None
    contact_id: str | None = None
    account_id: str | None = None


class LeadConversionResult(TypedDict):
    """What the task returns (XCom): counts in the spirit of a Hightouch run's planned/successful/failed rows."""

    mart: str
    planned: int  # leads the mart holds
    successful: int  # converted by this run
    already_converted: int  # converted since the mirror read them: done, nothing to do
    failed: int
    failed_by_status_code: dict[str, int]
    errors: list[dict[str, str | None]]  # the first ERRORS_RETURNED failures: lead_id, status_code, message


class ConvertLeadFault(RuntimeError):
    """A call-level failure (a SOAP fault: bad session, too many leads, malformed request): nothing converted."""

    def __init__(self, fault_code: str, fault_string: str, http_status: int | None = None) -> None:
        super().__init__(f"convertLead() failed: {fault_code}: {fault_string} (HTTP {http_status})")
        self.fault_code = fault_code
        self.fault_string = fault_string


# --- planning: mart rows + Salesforce's contacts -> LeadConvert requests ----------------------------------------


def batches(rows: Sequence[PlannedConversion], size: int = MAX_LEADS_PER_CALL) -> Iterator[list[PlannedConversion]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def _soql_string(value: str) -> str:
    """A SOQL string literal (backslash and quote escaped, as SOQL's escape sequences require)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def contact_lookup_soql(rows: Sequence[PlannedConversion]) -> str | None:
    """One query for the contacts of these rows, ours by external id and sales' by Id; None when none."""
    external_ids = sorted({r.contact_external_id for r in rows if r.contact_external_id})
    contact_ids = sorted({r.contact_id for r in rows if r.contact_id})
    filters = []
    if external_ids:
        filters.append(f"Dwh_External_Id__c IN ({', '.join(map(_soql_string, external_ids))})")
    if contact_ids:
        filters.append(f"Id IN ({', '.join(map(_soql_string, contact_ids))})")
    if not filters:
        return None
    where = " OR ".join(filters)
    return f"SELECT Id, Dwh_External_Id__c, AccountId, Account.Dwh_External_Id__c FROM Contact WHERE {where}"


def contacts_from_records(records: Iterable[Mapping[str, Any]]) -> list[SalesforceContact]:
    """The answer to ``contact_lookup_soql`` (simple-salesforce's records) as contacts."""
    contacts = []
    for record in records:
        account = record.get("Account") or {}
        contacts.append(
            SalesforceContact(
                contact_id=str(record["Id"]),
                external_id=record.get("Dwh_External_Id__c"),
                account_id=record.get("AccountId"),
                account_external_id=account.get("Dwh_External_Id__c"),
            )
        )
    return contacts


def _same_id(left: str | None, right: str | None) -> bool:
    """Salesforce Ids compare on their first 15 characters (the 18-character form adds a case checksum)."""
    if not left or not right:
        return False
    return left[:15] == right[:15]


class _Refused(Exception):
    def __init__(self, status_code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def _decided_contact(row: PlannedConversion, contacts: Sequence[SalesforceContact]) -> SalesforceContact:
    """The contact to convert into; ``_Refused`` when the lead cannot be converted as the warehouse decided."""
    if not row.converted_status:
        raise _Refused(
            "NO_CONVERTED_STATUS",
            "Salesforce has no Lead Status with IsConverted = true (LeadStatus, as mirrored): add a converted"
            " value to the Lead Status picklist (Setup > Object Manager > Lead > Fields > Lead Status), then let"
            " the mirror run",
        )
    if row.contact_external_id:
        matches = [c for c in contacts if c.external_id == row.contact_external_id]
        named = f"contact {row.contact_external_id} (Dwh_External_Id__c)"
    else:
        matches = [c for c in contacts if _same_id(c.contact_id, row.contact_id)]
        named = f"contact {row.contact_id}"
    if len(matches) != 1:
        raise _Refused(
            "CONTACT_NOT_FOUND",
            f"{named} is {'not unique' if matches else 'not'} in Salesforce: deleted since the mirror read it, or"
            " the contacts sync did not write it",
        )
    contact = matches[0]
    if not contact.account_id:
        raise _Refused(
            "CONTACT_WITHOUT_ACCOUNT",
            f"{named} has no account in Salesforce, and convertLead() merges a lead into a contact only with the"
            " contact's account: put the contact on an account, or convert the lead by hand",
        )
    return contact


def _moved(row: PlannedConversion, contact: SalesforceContact) -> str | None:
    """Why the contact is not on the account the warehouse decided (someone moved it in Salesforce), or None."""
    if row.contact_external_id:
        decided, actual = row.account_external_id, contact.account_external_id
        same = decided is not None and decided == actual
    else:
        decided, actual = row.account_id, contact.account_id
        same = _same_id(decided, actual)
    if same:
        return None
    return f"contact {contact.contact_id} is on account {contact.account_id} ({actual}), not {decided}"


def lead_converts(
    rows: Sequence[PlannedConversion], contacts: Sequence[SalesforceContact]
) -> tuple[list[LeadConvert], list[ConversionOutcome]]:
    """The ``LeadConvert`` requests, and the refusals (no converted status, contact missing or without account).

    A lead converts into its contact's *current* account, as Salesforce requires: when someone moved the contact
    since the warehouse decided, Salesforce is the record (``moved`` says so, for the log).
    """
    converts, refused = [], []
    for row in rows:
        try:
            contact = _decided_contact(row, contacts)
        except _Refused as refusal:
            refused.append(ConversionOutcome(row.lead_id, "failed", refusal.status_code, refusal.message))
            continue
        converts.append(
            LeadConvert(
                lead_id=row.lead_id,
                converted_status=str(row.converted_status),
                account_id=str(contact.account_id),
                contact_id=contact.contact_id,
                owner_id=row.owner_id,
                moved=_moved(row, contact),
            )
        )
    return converts, refused


# --- the SOAP call: request envelope and response ------------------------------------------------------------------


def _partner(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, f"{{{PARTNER}}}{name}").text = text


# The prefixes of Salesforce's own SOAP samples, for readable requests (ElementTree's registry is process-wide).
ET.register_namespace("soapenv", SOAPENV)
ET.register_namespace("urn", PARTNER)


def convert_lead_envelope(session_id: str, converts: Sequence[LeadConvert]) -> bytes:
    """The SOAP 1.1 request of ``convertLead(leadConverts)`` on the partner endpoint.

    Each ``leadConverts`` carries its elements in the partner WSDL's order (the ``LeadConvert`` sequence),
    including the three booleans the WSDL requires; the session is the OAuth access token, which Salesforce
    accepts as ``SessionHeader/sessionId``
    (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_header_sessionheader.htm).
    """
    envelope = ET.Element(f"{{{SOAPENV}}}Envelope")
    header = ET.SubElement(ET.SubElement(envelope, f"{{{SOAPENV}}}Header"), f"{{{PARTNER}}}SessionHeader")
    _partner(header, "sessionId", session_id)
    operation = ET.SubElement(ET.SubElement(envelope, f"{{{SOAPENV}}}Body"), f"{{{PARTNER}}}convertLead")
    for convert in converts:
        element = ET.SubElement(operation, f"{{{PARTNER}}}leadConverts")
        _partner(element, "accountId", convert.account_id)
        _partner(element, "contactId", convert.contact_id)
        _partner(element, "convertedStatus", convert.converted_status)
        _partner(element, "doNotCreateOpportunity", "true")
        _partner(element, "leadId", convert.lead_id)
        _partner(element, "overwriteLeadSource", "false")
        if convert.owner_id:
            _partner(element, "ownerId", convert.owner_id)
        _partner(element, "sendNotificationEmail", "false")
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    """The first child with this local name (the answer's elements are in the partner or enterprise namespace)."""
    return next((child for child in element if _local(child.tag) == name), None)


def _text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    if child is None or child.get(f"{{{XSI}}}nil") == "true":
        return None
    return (child.text or "").strip() or None


def parse_convert_lead_response(
    body: bytes, converts: Sequence[LeadConvert], http_status: int | None = None
) -> list[ConversionOutcome]:
    """The outcome of each ``LeadConvert``, from the ``convertLeadResponse`` (one ``result`` per request, in order:
    https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead_leadconvertresult.htm).

    A SOAP fault raises ``ConvertLeadFault``; an answer that is not a ``convertLeadResponse`` with one result
    per request raises ``ValueError`` (nothing can be said about any lead).
    """
    try:
        # The answer of the Salesforce instance the connection names; Python's expat refuses entity expansion
        # bombs and ElementTree resolves no external entities.
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError as error:
        raise ValueError(f"convertLead() answered HTTP {http_status} with no XML: {body[:300]!r}") from error
    soap_body = _child(root, "Body") if _local(root.tag) == "Envelope" else None
    if soap_body is None:
        raise ValueError(f"convertLead() answered HTTP {http_status} with no SOAP envelope: {body[:300]!r}")
    fault = _child(soap_body, "Fault")
    if fault is not None:
        raise ConvertLeadFault(_text(fault, "faultcode") or "unknown", _text(fault, "faultstring") or "", http_status)
    response = _child(soap_body, "convertLeadResponse")
    results = [child for child in response if _local(child.tag) == "result"] if response is not None else []
    if response is None or len(results) != len(converts):
        raise ValueError(
            f"convertLead() answered {len(results)} results for {len(converts)} leads (HTTP {http_status})"
        )
    return [_outcome(convert, result) for convert, result in zip(converts, results, strict=True)]


def _outcome(convert: LeadConvert, result: ET.Element) -> ConversionOutcome:
    if _text(result, "success") == "true":
        return ConversionOutcome(
            convert.lead_id, "converted", contact_id=_text(result, "contactId"), account_id=_text(result, "accountId")
        )
    errors = [
        (_text(error, "statusCode") or "UNKNOWN_EXCEPTION", _text(error, "message") or "")
        for error in result
        if _local(error.tag) == "errors"
    ] or [("UNKNOWN_EXCEPTION", "convertLead() reported a failure without an error")]
    codes = [code for code, _ in errors]
    if ALREADY_CONVERTED in codes:
        return ConversionOutcome(convert.lead_id, "already_converted", ALREADY_CONVERTED)
    return ConversionOutcome(
        convert.lead_id, "failed", ", ".join(codes), "; ".join(message for _, message in errors if message)
    )


# --- the verdict ---------------------------------------------------------------------------------------------------


def summarize(planned: int, outcomes: Sequence[ConversionOutcome]) -> LeadConversionResult:
    failed = [o for o in outcomes if o.outcome == "failed"]
    by_code: dict[str, int] = {}
    for outcome in failed:
        by_code[str(outcome.status_code)] = by_code.get(str(outcome.status_code), 0) + 1
    return LeadConversionResult(
        mart=mart_table(),
        planned=planned,
        successful=sum(o.outcome == "converted" for o in outcomes),
        already_converted=sum(o.outcome == "already_converted" for o in outcomes),
        failed=len(failed),
        failed_by_status_code=dict(sorted(by_code.items())),
        errors=[
            {"lead_id": o.lead_id, "status_code": o.status_code, "message": o.message} for o in failed[:ERRORS_RETURNED]
        ],
    )


def describe(result: LeadConversionResult) -> str:
    """The one log line per run: what the conversion did."""
    return (
        f"Lead conversion from {result['mart']}: planned {result['planned']} | converted {result['successful']}"
        f" | already converted {result['already_converted']} | failed {result['failed']}"
    )


def failure_message(result: LeadConversionResult) -> str | None:
    """Why the task must fail (some lead failed), or None."""
    if not result["failed"]:
        return None
    first = result["errors"][0]
    codes = ", ".join(f"{code} x{count}" for code, count in result["failed_by_status_code"].items())
    return (
        f"Lead conversion: {result['failed']} of {result['planned']} planned lead"
        f"{'' if result['planned'] == 1 else 's'} failed ({codes}), e.g. lead {first['lead_id']}:"
        f" {first['status_code']}: {first['message']}. Each failed lead is in the log; the others are converted,"
        " and the next run tries the failed ones again."
    )


# --- the edge: the mart, Salesforce ---------------------------------------------------------------------------------


def read_mart(warehouse: SnowflakeHook) -> list[PlannedConversion]:
    rows = warehouse.get_records(f"SELECT {', '.join(MART_COLUMNS)} FROM {mart_table()} ORDER BY LEAD_ID") or []
    return [PlannedConversion.from_row(row) for row in rows]


def soap_url(salesforce: Salesforce) -> str:
    """The partner SOAP endpoint of the connection's instance, at the connection's API version."""
    return f"https://{salesforce.sf_instance}/services/Soap/u/{salesforce.sf_version}"


def convert_batch(salesforce: Salesforce, rows: Sequence[PlannedConversion]) -> list[ConversionOutcome]:
    """Find the batch's contacts (one SOQL query), convert the leads whose contact is as decided (one SOAP call)."""
    soql = contact_lookup_soql(rows)
    contacts = contacts_from_records(salesforce.query_all(soql)["records"]) if soql else []
    converts, refused = lead_converts(rows, contacts)
    for convert in converts:
        if convert.moved:
            log.info("Lead %s converts into its contact's current account: %s", convert.lead_id, convert.moved)
    if not converts:
        return refused
    # simple-salesforce's own requests session: the connection's proxies and TLS settings apply to SOAP too.
    answer = salesforce.session.post(
        soap_url(salesforce),
        data=convert_lead_envelope(salesforce.session_id, converts),
        headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
        timeout=SOAP_TIMEOUT_SECONDS,
    )
    return refused + parse_convert_lead_response(answer.content, converts, answer.status_code)


def convert_leads(salesforce: Salesforce, rows: Sequence[PlannedConversion]) -> list[ConversionOutcome]:
    """Convert every planned lead, batch by batch; log each failed lead; return each lead's outcome."""
    outcomes: list[ConversionOutcome] = []
    for batch in batches(rows):
        done = convert_batch(salesforce, batch)
        for outcome in done:
            if outcome.outcome == "failed":
                log.warning("Lead %s not converted: %s: %s", outcome.lead_id, outcome.status_code, outcome.message)
            elif outcome.outcome == "already_converted":
                log.info("Lead %s was converted already (since the mirror read it): nothing to do", outcome.lead_id)
        outcomes += done
    return outcomes


def run(
    salesforce: Salesforce,
    warehouse: SnowflakeHook,
    record: Callable[[str, Mapping[str, Any]], object] | None = None,
) -> LeadConversionResult:
    """The task: convert what the mart plans, log the counts, hand the counts and every lead's outcome to
    ``record`` (the run record), and fail (after every batch) if any lead failed."""
    planned = read_mart(warehouse)
    outcomes = convert_leads(salesforce, planned)
    result = summarize(len(planned), outcomes)
    log.info(describe(result))
    if record is not None:
        record("failed" if result["failed"] else "success", {**result, "leads": [asdict(o) for o in outcomes]})
    problem = failure_message(result)
    if problem:
        raise AirflowException(problem)
    return result
