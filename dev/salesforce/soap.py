"""The SOAP API's partner endpoint, for what REST has no resource for: ``convertLead()`` and ``merge()``.

``POST /services/Soap/u/59.0`` with a SOAP 1.1 envelope in the partner namespace
(``urn:partner.soap.sforce.com``), a ``SOAPAction`` header, and ``SessionHeader/sessionId`` = the OAuth
access token (Salesforce accepts the REST session for SOAP calls). The answer is the partner WSDL's
``convertLeadResponse``/``mergeResponse``; per-record failures are ``errors`` in the results, while a bad
session, a missing SOAPAction, malformed XML, an unknown operation or too many records answer HTTP 500
with a SOAP fault, as Salesforce does. XML is parsed and written with the standard library's ElementTree.

The logic of the two calls is in conversion.py and merge.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dev.salesforce.conversion import MAX_LEAD_CONVERTS, LeadConvert, LeadConvertResult, convert_leads
from dev.salesforce.dml import Writer
from dev.salesforce.errors import ApiError
from dev.salesforce.ids import normalize
from dev.salesforce.merge import MAX_MERGE_REQUESTS, MergeRequest, MergeResult, merge_records
from dev.salesforce.schema import API_VERSION
from dev.salesforce.web import store_of

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
FAULT = "urn:fault.partner.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONTENT_TYPE = "text/xml; charset=utf-8"
INVALID_SESSION = "Invalid Session ID found in SessionHeader: Illegal Session"

for _prefix, _uri in (("soapenv", SOAPENV), ("xsi", XSI), ("sf", FAULT)):
    ET.register_namespace(_prefix, _uri)

router = APIRouter()


class SoapFault(Exception):
    """A call-level failure: ``code`` is an API ExceptionCode (``sf:`` fault) or ``Client``/``Server``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self) -> Response:
        envelope = ET.Element(f"{{{SOAPENV}}}Envelope")
        fault = ET.SubElement(ET.SubElement(envelope, f"{{{SOAPENV}}}Body"), f"{{{SOAPENV}}}Fault")
        if self.code in {"Client", "Server"}:
            ET.SubElement(fault, "faultcode").text = f"soapenv:{self.code}"
            ET.SubElement(fault, "faultstring").text = self.message
        else:
            ET.SubElement(fault, "faultcode").text = f"sf:{self.code}"
            ET.SubElement(fault, "faultstring").text = f"{self.code}: {self.message}"
            detail = ET.SubElement(ET.SubElement(fault, "detail"), f"{{{FAULT}}}UnexpectedErrorFault")
            detail.set(f"{{{XSI}}}type", "sf:UnexpectedErrorFault")
            ET.SubElement(detail, f"{{{FAULT}}}exceptionCode").text = self.code
            ET.SubElement(detail, f"{{{FAULT}}}exceptionMessage").text = self.message
        return Response(_serialize(envelope), status_code=500, media_type=CONTENT_TYPE)


def _serialize(envelope: ET.Element, default_namespace: str | None = None) -> bytes:
    document = ET.tostring(envelope, encoding="unicode", default_namespace=default_namespace)
    return f'<?xml version="1.0" encoding="UTF-8"?>{document}'.encode()


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/services/Soap/u/{version}")
@router.post("/services/Soap/u/{version}/{org_id}")
def soap(request: Request, version: str, body: Annotated[bytes, Depends(_raw_body)]) -> Response:
    try:
        if version != API_VERSION:
            raise SoapFault("UNSUPPORTED_API_VERSION", f"this emulator serves API version {API_VERSION} only")
        if "soapaction" not in {name.lower() for name in request.headers}:
            raise SoapFault("Client", "No SOAPAction header!")
        operation, session_id = _envelope(body)
        store = store_of(request)
        user_id = store.token_user(session_id or "")
        if user_id is None:
            raise SoapFault("INVALID_SESSION_ID", INVALID_SESSION)
        name = _local(operation.tag)
        if _namespace(operation.tag) != PARTNER or name not in _OPERATIONS:
            raise SoapFault(
                "Client", f"No operation available for request {operation.tag}, please check the WSDL for the service."
            )
        with store.transaction() as tx:
            writer = Writer(store, tx, user_id, faults=getattr(request.app.state, "faults", None))
            result = _OPERATIONS[name](writer, operation)
    except SoapFault as fault:
        return fault.response()
    envelope = ET.Element(f"{{{SOAPENV}}}Envelope")
    ET.SubElement(envelope, f"{{{SOAPENV}}}Body").append(result)
    return Response(_serialize(envelope, default_namespace=PARTNER), media_type=CONTENT_TYPE)


def _envelope(body: bytes) -> tuple[ET.Element, str | None]:
    """The body's operation element and the session id of the SessionHeader."""
    try:
        # Python's expat (2.4+) refuses entity-expansion bombs; nothing here resolves external entities.
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError as error:
        raise SoapFault("Client", f"Unable to parse the SOAP request: {error}") from None
    if root.tag != f"{{{SOAPENV}}}Envelope":
        raise SoapFault("Client", "The request is not a SOAP 1.1 envelope")
    body_element = root.find(f"{{{SOAPENV}}}Body")
    operations = list(body_element) if body_element is not None else []
    if len(operations) != 1:
        raise SoapFault("Client", "The SOAP body must hold exactly one operation")
    session_id = None
    header = root.find(f"{{{SOAPENV}}}Header")
    for element in header.iter() if header is not None else ():
        if _local(element.tag) == "sessionId":
            session_id = (element.text or "").strip()
    return operations[0], session_id


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    """Child elements by local name: clients qualify them with the partner namespace, or not at all."""
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    found = _children(element, name)
    if not found or found[0].get(f"{{{XSI}}}nil") == "true":
        return None
    return (found[0].text or "").strip() or None


def _boolean(element: ET.Element, name: str) -> bool:
    value = _text(element, name)
    if value is None:
        return False
    if value.lower() not in {"true", "false", "1", "0"}:
        raise SoapFault("Client", f"'{value}' is not a valid value for the type xsd:boolean")
    return value.lower() in {"true", "1"}


# --- convertLead() -----------------------------------------------------------------------------------


def _convert_lead(writer: Writer, operation: ET.Element) -> ET.Element:
    elements = _children(operation, "leadConverts")
    if len(elements) > MAX_LEAD_CONVERTS:
        raise SoapFault(
            "EXCEEDED_LEAD_CONVERT_LIMIT", f"cannot convert more than {MAX_LEAD_CONVERTS} leads in one call"
        )
    converts = [
        LeadConvert(
            lead_id=_text(element, "leadId"),
            converted_status=_text(element, "convertedStatus"),
            account_id=_text(element, "accountId"),
            contact_id=_text(element, "contactId"),
            opportunity_id=_text(element, "opportunityId"),
            do_not_create_opportunity=_boolean(element, "doNotCreateOpportunity"),
            opportunity_name=_text(element, "opportunityName"),
            overwrite_lead_source=_boolean(element, "overwriteLeadSource"),
            owner_id=_text(element, "ownerId"),
            send_notification_email=_boolean(element, "sendNotificationEmail"),
        )
        for element in elements
    ]
    response = ET.Element(f"{{{PARTNER}}}convertLeadResponse")
    for result in convert_leads(writer, converts):
        response.append(_lead_convert_result(result))
    return response


def _lead_convert_result(result: LeadConvertResult) -> ET.Element:
    """A LeadConvertResult, its elements in the partner WSDL's order."""
    element = ET.Element(f"{{{PARTNER}}}result")
    _id(element, "accountId", result.account_id)
    _id(element, "contactId", result.contact_id)
    _errors(element, result.errors)
    _id(element, "leadId", result.lead_id)
    _id(element, "opportunityId", result.opportunity_id)
    ET.SubElement(element, f"{{{PARTNER}}}success").text = "true" if result.success else "false"
    return element


# --- merge() ------------------------------------------------------------------------------------------


def _merge(writer: Writer, operation: ET.Element) -> ET.Element:
    elements = _children(operation, "request")
    if len(elements) > MAX_MERGE_REQUESTS:
        raise SoapFault(
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_MERGE_REQUESTS} records into this call",
        )
    response = ET.Element(f"{{{PARTNER}}}mergeResponse")
    for result in merge_records(writer, [_merge_request(element) for element in elements]):
        response.append(_merge_result(result))
    return response


def _merge_request(element: ET.Element) -> MergeRequest:
    masters = _children(element, "masterRecord")
    master = masters[0] if masters else ET.Element("masterRecord")
    values: dict[str, str | None] = {}
    for child in master:
        name = _local(child.tag)
        if name not in {"type", "Id", "fieldsToNull"}:
            values[name] = None if child.get(f"{{{XSI}}}nil") == "true" else (child.text or "")
    return MergeRequest(
        object_name=_text(master, "type"),
        master_id=_text(master, "Id"),
        values=values,
        fields_to_null=tuple((c.text or "").strip() for c in _children(master, "fieldsToNull")),
        record_ids=tuple((c.text or "").strip() for c in _children(element, "recordToMergeIds")),
    )


def _merge_result(result: MergeResult) -> ET.Element:
    """A MergeResult, its elements in the partner WSDL's order."""
    element = ET.Element(f"{{{PARTNER}}}result")
    _errors(element, result.errors)
    _id(element, "id", result.master_id)
    for merged in result.merged_ids:
        ET.SubElement(element, f"{{{PARTNER}}}mergedRecordIds").text = merged
    ET.SubElement(element, f"{{{PARTNER}}}success").text = "true" if result.success else "false"
    for related in result.updated_related_ids:
        ET.SubElement(element, f"{{{PARTNER}}}updatedRelatedIds").text = related
    return element


# --- emptyRecycleBin() -------------------------------------------------------------------------------------

# emptyRecycleBin() takes at most 200 ids a call (SOAP API, emptyRecycleBin():
# https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_emptyrecyclebin.htm).
MAX_EMPTY_RECYCLE_BIN_IDS = 200


def _empty_recycle_bin(writer: Writer, operation: ET.Element) -> ET.Element:
    """Delete records in the recycle bin for good: queryAll no longer returns them. A record that is not in the
    recycle bin is refused per record (the error code is the emulator's choice: the page names none)."""
    ids_given = [(child.text or "").strip() for child in _children(operation, "ids")]
    if len(ids_given) > MAX_EMPTY_RECYCLE_BIN_IDS:
        raise SoapFault(
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_EMPTY_RECYCLE_BIN_IDS} records into this call",
        )
    response = ET.Element(f"{{{PARTNER}}}emptyRecycleBinResponse")
    for raw_id in ids_given:
        record_id = normalize(raw_id)
        record = writer.store.get(record_id) if record_id else None
        element = ET.SubElement(response, f"{{{PARTNER}}}result")
        if record is None or not record.deleted:
            error = ApiError(400, "INVALID_ID_FIELD", f"invalid record id: {raw_id} is not in the recycle bin")
            _errors(element, [error])
            _id(element, "id", raw_id or None)
            ET.SubElement(element, f"{{{PARTNER}}}success").text = "false"
            continue
        writer.tx.remove(record.id)
        _id(element, "id", record.id)
        ET.SubElement(element, f"{{{PARTNER}}}success").text = "true"
    return response


# --- shared result parts ----------------------------------------------------------------------------------


def _id(parent: ET.Element, name: str, value: str | None) -> None:
    element = ET.SubElement(parent, f"{{{PARTNER}}}{name}")
    if value is None:
        element.set(f"{{{XSI}}}nil", "true")
    else:
        element.text = value


def _errors(parent: ET.Element, errors: Iterable[ApiError]) -> None:
    """Error elements: fields*, message, statusCode (the partner WSDL's Error type)."""
    for error in errors:
        element = ET.SubElement(parent, f"{{{PARTNER}}}errors")
        for field_name in error.fields or []:
            ET.SubElement(element, f"{{{PARTNER}}}fields").text = field_name
        ET.SubElement(element, f"{{{PARTNER}}}message").text = error.message
        ET.SubElement(element, f"{{{PARTNER}}}statusCode").text = error.code


_OPERATIONS = {"convertLead": _convert_lead, "merge": _merge, "emptyRecycleBin": _empty_recycle_bin}
