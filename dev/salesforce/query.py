"""SOQL over HTTP: ``query``, ``queryAll`` and their ``nextRecordsUrl`` pages.

``query`` never returns records in the recycle bin (IsDeleted = true, merged-away records included);
``queryAll`` returns them. The next pages of either come from ``nextRecordsUrl``, which names the
``query`` resource in both cases, as Salesforce's does: the cursor remembers what the first call saw.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from dev.salesforce.errors import ApiError
from dev.salesforce.soql import parse as parse_soql
from dev.salesforce.web import DATA, Reply, Session, SessionDep

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200

router = APIRouter(prefix="/services/data/{version}")


def batch_size(options: str) -> int:
    """``Sforce-Query-Options: batchSize=N``, held to Salesforce's range of 200 to 2,000."""
    match = re.search(r"batchSize\s*=\s*(\d+)", options)
    return min(max(int(match[1]), MIN_BATCH_SIZE), DEFAULT_BATCH_SIZE) if match else DEFAULT_BATCH_SIZE


def run_query(session: Session, text: str, *, include_deleted: bool, size: int = DEFAULT_BATCH_SIZE) -> Reply:
    if not text.strip():
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    query = parse_soql(text)
    store = session.store
    with store.lock:
        matches = query.run(store.records(query.sobject.name), store.get, include_deleted=include_deleted)
        if query.count:
            return Reply(200, {"totalSize": len(matches), "done": True, "records": []})
        rows = [query.render(record, store.get) for record in matches]
    if len(rows) <= size:
        return Reply(200, {"totalSize": len(rows), "done": True, "records": rows})
    # The result is kept whole, as Salesforce's cursor is: later writes do not shift the pages.
    locator = store.save_cursor(rows, size)
    return Reply(
        200,
        {
            "totalSize": len(rows),
            "done": False,
            "nextRecordsUrl": f"{DATA}/query/{locator}-{size}",
            "records": rows[:size],
        },
    )


def query_more(session: Session, position: str) -> Reply:
    locator, _, offset = position.rpartition("-")
    page = session.store.read_cursor(locator, int(offset)) if locator and offset.isdigit() else None
    if page is None:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    end = int(offset) + len(page.records)
    result: dict[str, Any] = {"totalSize": page.total, "done": end == page.total}
    if result["done"]:
        session.store.drop_cursor(locator)
    else:
        result["nextRecordsUrl"] = f"{DATA}/query/{locator}-{end}"
    result["records"] = page.records
    return Reply(200, result)


def _options(request: Request) -> int:
    return batch_size(request.headers.get("Sforce-Query-Options", ""))


@router.get("/query")
def query(session: SessionDep, request: Request) -> Any:
    return run_query(session, request.query_params.get("q", ""), include_deleted=False, size=_options(request)).body


@router.get("/queryAll")
def query_all(session: SessionDep, request: Request) -> Any:
    return run_query(session, request.query_params.get("q", ""), include_deleted=True, size=_options(request)).body


@router.get("/query/{position}")
def query_next(session: SessionDep, position: str) -> Any:
    return query_more(session, position).body


@router.get("/queryAll/{position}")
def query_all_next(session: SessionDep, position: str) -> Any:
    return query_more(session, position).body
