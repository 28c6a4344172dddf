"""SOQL over HTTP: ``query``, ``queryAll`` and their ``nextRecordsUrl`` pages."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from dev.salesforce.errors import ApiError
from dev.salesforce.soql import parse as parse_soql
from dev.salesforce.web import DATA, Session, SessionDep

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200

router = APIRouter(prefix="/services/data/{version}")


def _batch_size(request: Request) -> int:
    """``Sforce-Query-Options: batchSize=N``, held to Salesforce's range of 200 to 2,000."""
    match = re.search(r"batchSize\s*=\s*(\d+)", request.headers.get("Sforce-Query-Options", ""))
    return min(max(int(match[1]), MIN_BATCH_SIZE), DEFAULT_BATCH_SIZE) if match else DEFAULT_BATCH_SIZE


def _query(session: Session, request: Request, endpoint: str) -> dict[str, Any]:
    text = request.query_params.get("q", "")
    if not text.strip():
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    query = parse_soql(text)
    store = session.store
    with store.lock:
        matches = query.run(store.records(query.sobject.name), store.get, include_deleted=endpoint == "queryAll")
        if query.count:
            return {"totalSize": len(matches), "done": True, "records": []}
        rows = [query.render(record, store.get) for record in matches]
    batch_size = _batch_size(request)
    if len(rows) <= batch_size:
        return {"totalSize": len(rows), "done": True, "records": rows}
    # The result is kept whole, as Salesforce's cursor is: later writes do not shift the pages.
    locator = store.save_cursor(rows, batch_size)
    return {
        "totalSize": len(rows),
        "done": False,
        "nextRecordsUrl": f"{DATA}/{endpoint}/{locator}-{batch_size}",
        "records": rows[:batch_size],
    }


def _query_more(session: Session, position: str, endpoint: str) -> dict[str, Any]:
    locator, _, offset = position.rpartition("-")
    page = session.store.read_cursor(locator, int(offset)) if locator and offset.isdigit() else None
    if page is None:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    end = int(offset) + len(page.records)
    result: dict[str, Any] = {"totalSize": page.total, "done": end == page.total}
    if result["done"]:
        session.store.drop_cursor(locator)
    else:
        result["nextRecordsUrl"] = f"{DATA}/{endpoint}/{locator}-{end}"
    result["records"] = page.records
    return result


@router.get("/query")
def query(session: SessionDep, request: Request) -> dict[str, Any]:
    return _query(session, request, "query")


@router.get("/queryAll")
def query_all(session: SessionDep, request: Request) -> dict[str, Any]:
    return _query(session, request, "queryAll")


@router.get("/query/{position}")
def query_more(session: SessionDep, position: str) -> dict[str, Any]:
    return _query_more(session, position, "query")


@router.get("/queryAll/{position}")
def query_all_more(session: SessionDep, position: str) -> dict[str, Any]:
    return _query_more(session, position, "queryAll")
