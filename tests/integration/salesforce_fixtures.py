"""The Salesforce emulator for its own tests: one process per test module, and the clients they use.

The emulator runs as a child process, the way the local cloud runs it, on its own port
(``LOCALCLOUD_TEST_SALESFORCE_SCENARIO_PORT``, default 18445) and a private state directory; modules run one
after another, each with a fresh org. Clients: Airflow's SalesforceHook (simple-salesforce) for REST, and
plain ``requests`` with ElementTree for the SOAP API (no SOAP library is part of the stack).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests

from dev.localcloud.certs import SALESFORCE_APP_CONSUMER_KEY, SALESFORCE_APP_KEY
from tests.conftest import REPO_ROOT, worker_port

PORT = worker_port("LOCALCLOUD_TEST_SALESFORCE_SCENARIO_PORT", 18445)
BASE = f"https://localhost:{PORT}"
DATA = f"{BASE}/services/data/v59.0"
# simple-salesforce builds https://{domain}.salesforce.com/services/oauth2/token; ending the domain with
# "?" turns the Salesforce suffix into a query string that the emulator ignores.
DOMAIN = f"localhost:{PORT}/services/oauth2/token?"
CONNECTION_IDS = ("AIRFLOW_CONN_SALESFORCE_TEST", "AIRFLOW_CONN_SALESFORCE_CLIENT_CREDENTIALS")


def connections(cert_dir: Path) -> dict[str, dict[str, Any]]:
    """The hook's connections: the JWT bearer flow the pipeline's own connection uses (README), signed with the
    emulator's connected app key, and the client-credentials flow."""
    return {
        "AIRFLOW_CONN_SALESFORCE_TEST": {
            "conn_type": "salesforce",
            "login": "integration@example.com",
            "extra": {
                "consumer_key": SALESFORCE_APP_CONSUMER_KEY,
                "private_key_file_path": str(cert_dir / SALESFORCE_APP_KEY),
                "domain": DOMAIN,
            },
        },
        "AIRFLOW_CONN_SALESFORCE_CLIENT_CREDENTIALS": {
            "conn_type": "salesforce",
            "extra": {"consumer_key": "k", "consumer_secret": "s", "domain": DOMAIN},
        },
    }


BATCH_200 = {"Sforce-Query-Options": "batchSize=200"}


class Emulator:
    """The emulator process: started and stopped by process group, as the local cloud does."""

    def __init__(self, home: Path, *extra_args: str) -> None:
        self.extra_args = list(extra_args)
        self.state_dir = home / "state"
        self.cert_dir = home / "certs"
        self.log = home / "salesforce.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ca_bundle(self) -> str:
        return str(self.cert_dir / "ca-bundle.pem")

    def start(self) -> None:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", PORT)) != 0, (
                f"port {PORT} is busy: set LOCALCLOUD_TEST_SALESFORCE_SCENARIO_PORT"
            )
        argv = [sys.executable, "-m", "dev.salesforce", "--port", str(PORT)]
        argv += ["--state-dir", str(self.state_dir), "--cert-dir", str(self.cert_dir), *self.extra_args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"emulator exited:\n{self.log.read_text()}"
            try:
                if requests.get(f"{BASE}/services/data", verify=self.ca_bundle, timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, OSError):
                pass  # not listening yet, or the certificates are still being written
            time.sleep(0.2)
        pytest.fail(f"emulator did not answer within 30s:\n{self.log.read_text()}")

    def stop(self) -> int:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=15)


def running_emulator(home: Path, *extra_args: str) -> Iterator[Emulator]:
    """A module's emulator (the generator behind its ``emulator`` fixture), with the hook's connections."""
    server = Emulator(home, *extra_args)
    server.start()
    saved = {key: os.environ.get(key) for key in ["REQUESTS_CA_BUNDLE", *CONNECTION_IDS]}
    os.environ["REQUESTS_CA_BUNDLE"] = server.ca_bundle  # TLS is verified against the local CA
    os.environ.update({key: json.dumps(value) for key, value in connections(server.cert_dir).items()})
    yield server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if server.process and server.process.poll() is None:
        assert server.stop() == 0


def hook_client(conn_id: str = "salesforce_test") -> Any:
    # Imported late: tests/conftest.py points AIRFLOW_HOME at an isolated directory first.
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    return SalesforceHook(salesforce_conn_id=conn_id).get_conn()


def error_of(raised: pytest.ExceptionInfo[Any]) -> tuple[int, Any]:
    return raised.value.status, raised.value.content


def collection(sf: Any, path: str, method: str, records: list[dict[str, Any]], all_or_none: bool) -> Any:
    return sf.restful(path, method=method, json={"allOrNone": all_or_none, "records": records})


def ids_where(sf: Any, object_name: str, condition: str) -> list[str]:
    return [r["Id"] for r in sf.query_all(f"SELECT Id FROM {object_name} WHERE {condition}")["records"]]


def deleted_too(sf: Any, soql: str) -> list[dict[str, Any]]:
    """queryAll (simple-salesforce's include_deleted): recycle-bin records included."""
    return sf.query_all(soql, include_deleted=True)["records"]


# --- SOAP (partner API) ------------------------------------------------------------------------------------

SOAP_URL = f"{BASE}/services/Soap/u/59.0"
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
SOBJECT = "urn:sobject.partner.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FAULT = "urn:fault.partner.soap.sforce.com"


def soap_envelope(session_id: str | None, operation: ET.Element) -> bytes:
    """A SOAP 1.1 request as the partner WSDL defines it: SessionHeader, then the operation in the Body."""
    envelope = ET.Element(f"{{{SOAPENV}}}Envelope")
    if session_id is not None:
        header = ET.SubElement(ET.SubElement(envelope, f"{{{SOAPENV}}}Header"), f"{{{PARTNER}}}SessionHeader")
        ET.SubElement(header, f"{{{PARTNER}}}sessionId").text = session_id
    ET.SubElement(envelope, f"{{{SOAPENV}}}Body").append(operation)
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)


def soap_post(body: bytes, soap_action: str | None = '""', url: str = SOAP_URL) -> tuple[int, ET.Element]:
    headers = {"Content-Type": "text/xml; charset=UTF-8"}
    if soap_action is not None:
        headers["SOAPAction"] = soap_action
    answer = requests.post(url, data=body, headers=headers, timeout=30)
    assert answer.headers["Content-Type"].startswith("text/xml"), answer.text
    return answer.status_code, ET.fromstring(answer.content)  # noqa: S314 - the emulator's own answer


def partner(element: ET.Element, name: str, value: Any) -> None:
    """Append ``<name>value</name>`` in the partner namespace (booleans as xsd:boolean)."""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    ET.SubElement(element, f"{{{PARTNER}}}{name}").text = text


def convert_lead(session_id: str, *converts: dict[str, Any]) -> tuple[int, ET.Element]:
    """``convertLead(leadConverts)``: each dict's keys are LeadConvert element names."""
    operation = ET.Element(f"{{{PARTNER}}}convertLead")
    for convert in converts:
        element = ET.SubElement(operation, f"{{{PARTNER}}}leadConverts")
        for name, value in convert.items():
            partner(element, name, value)
    return soap_post(soap_envelope(session_id, operation))


def empty_recycle_bin(session_id: str, *record_ids: str, url: str = SOAP_URL) -> tuple[int, ET.Element]:
    """``emptyRecycleBin(ids)``: delete records in the recycle bin for good; ``url`` as for ``merge``."""
    operation = ET.Element(f"{{{PARTNER}}}emptyRecycleBin")
    for record_id in record_ids:
        ET.SubElement(operation, f"{{{PARTNER}}}ids").text = record_id
    return soap_post(soap_envelope(session_id, operation), url=url)


def merge(
    session_id: str, *requests_: tuple[str, dict[str, Any], list[str]], url: str = SOAP_URL
) -> tuple[int, ET.Element]:
    """``merge(request)``: each request is (object type, master record fields incl. Id, ids to merge); ``url`` is
    the SOAP endpoint of another emulator (the local cloud's) than this module's own."""
    operation = ET.Element(f"{{{PARTNER}}}merge")
    for object_name, master, record_ids in requests_:
        request = ET.SubElement(operation, f"{{{PARTNER}}}request")
        record = ET.SubElement(request, f"{{{PARTNER}}}masterRecord")
        ET.SubElement(record, f"{{{SOBJECT}}}type").text = object_name
        for name, value in master.items():
            ET.SubElement(record, f"{{{SOBJECT}}}{name}").text = str(value)
        for record_id in record_ids:
            partner(request, "recordToMergeIds", record_id)
    return soap_post(soap_envelope(session_id, operation), url=url)


def results(answer: ET.Element, response: str) -> list[dict[str, Any]]:
    """The ``result`` elements of a ``<operation>Response`` as dicts: repeated elements become lists,
    ``errors`` lists of dicts, xsi:nil None, xsd:boolean bool."""
    body = answer.find(f"{{{SOAPENV}}}Body")
    assert body is not None
    found = body.find(f"{{{PARTNER}}}{response}")
    assert found is not None, ET.tostring(answer).decode()
    return [_as_dict(result) for result in found.findall(f"{{{PARTNER}}}result")]


_REPEATED = {"errors", "fields", "mergedRecordIds", "updatedRelatedIds"}


def _as_dict(element: ET.Element) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for child in element:
        name = child.tag.rpartition("}")[2]
        if name == "errors":
            value: Any = _as_dict(child)
        elif child.get(f"{{{XSI}}}nil") == "true":
            value = None
        elif child.text in {"true", "false"}:
            value = child.text == "true"
        else:
            value = child.text
        if name in _REPEATED:
            parsed.setdefault(name, []).append(value)
        else:
            parsed[name] = value
    return parsed


def fault(answer: ET.Element) -> dict[str, str | None]:
    """faultcode, faultstring and the detail's exceptionCode of a SOAP fault."""
    found = answer.find(f"{{{SOAPENV}}}Body/{{{SOAPENV}}}Fault")
    assert found is not None, ET.tostring(answer).decode()
    code = found.find(f"detail/{{{FAULT}}}UnexpectedErrorFault/{{{FAULT}}}exceptionCode")
    return {
        "faultcode": found.findtext("faultcode"),
        "faultstring": found.findtext("faultstring"),
        "exceptionCode": code.text if code is not None else None,
    }
