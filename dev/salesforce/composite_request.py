"""The Composite resource: up to 25 REST subrequests in one call and one transaction.

``POST /services/data/v59.0/composite`` with ``{"allOrNone": bool, "compositeRequest": [{"method", "url",
"referenceId", "body"?, "httpHeaders"?}, ...]}``. A subrequest may use an earlier one's answer through
``@{referenceId.field}`` (``.`` into objects, ``[n]`` into lists) in its url or body. The answer is always
200 with ``{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode", "referenceId"}, ...]}``:

- ``allOrNone: true``: the first failing subrequest undoes everything; every other subrequest answers
  400 ``PROCESSING_HALTED`` ("The transaction was rolled back since another operation in the same
  transaction failed.").
- ``allOrNone: false`` (the default): a failed subrequest undoes only its own writes; one that refers
  to a failed (or unknown) subrequest answers 400 ``PROCESSING_HALTED`` ("Invalid reference specified.
  No value for ref.field found in ref.") and the others run.

Supported subrequests: the sObject rows resources (create, read, update, delete, by Id or external id),
query and queryAll, and sObject collections, as the Composite resource documents them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from fastapi import APIRouter

from dev.salesforce import composite, query, rows
from dev.salesforce.dml import MultipleMatches
from dev.salesforce.errors import ApiError, json_parser_error, not_found
from dev.salesforce.schema import API_VERSION
from dev.salesforce.store import Transaction
from dev.salesforce.web import JsonBody, Reply, Session, SessionDep

SUBREQUEST_LIMIT = 25
QUERY_OR_COLLECTION_LIMIT = 5
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_REFERENCE_ID = re.compile(r"[A-Za-z0-9_]+")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_PATH_PART = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")

router = APIRouter(prefix="/services/data/{version}")


@dataclass(frozen=True)
class Subrequest:
    method: str
    url: str
    reference_id: str
    body: Any

    @property
    def is_query_or_collection(self) -> bool:
        path = urlsplit(self.url).path
        return bool(re.search(r"/(query|queryAll)/?$|/composite/sobjects", path))


class _InvalidReference(Exception):
    def __init__(self, expression: str, reference_id: str) -> None:
        super().__init__(f"Invalid reference specified. No value for {expression} found in {reference_id}.")


def _halted(message: str) -> Reply:
    return Reply(400, [{"errorCode": "PROCESSING_HALTED", "message": message}])


def _parse(body: Any) -> tuple[list[Subrequest], bool]:
    """The request as a whole is checked before any subrequest runs; a bad one is a 400, nothing done."""
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise json_parser_error("'compositeRequest' is a required field.")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise json_parser_error(f"Cannot deserialize instance of boolean from value {all_or_none}")
    subrequests = []
    for raw in body["compositeRequest"]:
        if not isinstance(raw, dict):
            raise json_parser_error("Cannot deserialize a composite subrequest from a non-object value")
        for required in ("method", "url", "referenceId"):
            if not isinstance(raw.get(required), str) or not raw[required]:
                raise json_parser_error(f"'{required}' is a required field.")
        if raw["method"] not in _METHODS:
            raise json_parser_error(f"Unknown HTTP method: {raw['method']}")
        if not _REFERENCE_ID.fullmatch(raw["referenceId"]):
            raise ApiError(
                400,
                "INVALID_INPUT",
                f"Invalid referenceId ('{raw['referenceId']}') in composite subrequest. A referenceId must start "
                "with a letter or a number, and it can contain only letters, numbers and underscores ('_').",
            )
        subrequests.append(Subrequest(raw["method"], raw["url"], raw["referenceId"], raw.get("body")))
    reference_ids = [s.reference_id for s in subrequests]
    duplicates = sorted({r for r in reference_ids if reference_ids.count(r) > 1})
    if duplicates:
        raise ApiError(400, "INVALID_INPUT", f"Duplicate referenceId provided in the request: {duplicates[0]}")
    if len(subrequests) > SUBREQUEST_LIMIT:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            f"Limit Exceeded. A composite request can have at most {SUBREQUEST_LIMIT} subrequests.",
        )
    if sum(s.is_query_or_collection for s in subrequests) > QUERY_OR_COLLECTION_LIMIT:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            f"Limit Exceeded. A composite request can have at most {QUERY_OR_COLLECTION_LIMIT} query or "
            "sObject collection subrequests.",
        )
    return subrequests, all_or_none


def _resolve(value: Any, answers: dict[str, Any]) -> Any:
    """``value`` with every ``@{ref.path}`` replaced by what the referenced subrequest answered."""
    if isinstance(value, dict):
        return {k: _resolve(v, answers) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, answers) for v in value]
    if not isinstance(value, str):
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole:  # a string that is only a reference takes the value as it is (a number stays a number)
        return _lookup(whole, answers)
    return _REFERENCE.sub(lambda match: str(_lookup(match, answers)), value)


def _lookup(match: re.Match[str], answers: dict[str, Any]) -> Any:
    reference_id, path = match[1], match[2]
    expression = match[0][2:-1]
    if reference_id not in answers:
        raise _InvalidReference(expression, reference_id)
    current = answers[reference_id]
    for name, index in _PATH_PART.findall(path):
        try:
            current = current[int(index)] if index else current[name]
        except (KeyError, IndexError, TypeError):
            raise _InvalidReference(expression, reference_id) from None
    if current is None or isinstance(current, dict | list):
        raise _InvalidReference(expression, reference_id)
    return current


def _route(session: Session, tx: Transaction, method: str, url: str, body: Any) -> Reply:
    """Run one subrequest through the same operations the REST routes use."""
    parts = urlsplit(url)
    prefix = "/services/data/"
    if not parts.path.startswith(prefix):
        raise not_found()
    version, _, rest = parts.path[len(prefix) :].partition("/")
    if version != f"v{API_VERSION}":
        raise not_found()
    segments = [unquote(s) for s in rest.strip("/").split("/")]
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    handler = _handler(segments, method)
    if handler is None:
        raise not_found()
    return handler(session, tx, segments, params, body)


Handler = Callable[[Session, Transaction, list[str], dict[str, str], Any], Reply]


def _handler(segments: list[str], method: str) -> Handler | None:
    head, count = segments[0], len(segments)
    if head in {"query", "queryAll"} and method == "GET":
        if count == 1:
            return lambda s, _t, _g, p, _b: query.run_query(s, p.get("q", ""), include_deleted=head == "queryAll")
        if count == 2:
            return lambda s, _t, g, _p, _b: query.query_more(s, g[1])
    if head == "composite" and count >= 2 and segments[1] == "sobjects":
        return _COLLECTIONS.get((method, count))
    if head == "sobjects":
        return _ROWS.get((method, count))
    return None


_COLLECTIONS: dict[tuple[str, int], Handler] = {
    ("POST", 2): lambda s, t, _g, _p, b: composite.create_records(s, t, b),
    ("PATCH", 2): lambda s, t, _g, _p, b: composite.update_records(s, t, b),
    ("DELETE", 2): lambda s, t, _g, p, _b: composite.delete_records(
        s, t, p.get("ids", ""), p.get("allOrNone", "false")
    ),
    ("PATCH", 4): lambda s, t, g, _p, b: composite.upsert_records(s, t, g[2], g[3], b),
}
_ROWS: dict[tuple[str, int], Handler] = {
    ("POST", 2): lambda s, t, g, _p, b: rows.create_row(s, t, g[1], b),
    ("GET", 3): lambda s, _t, g, p, _b: rows.get_row(s, g[1], g[2], p.get("fields")),
    ("PATCH", 3): lambda s, t, g, _p, b: rows.update_row(s, t, g[1], g[2], b),
    ("DELETE", 3): lambda s, t, g, _p, _b: rows.delete_row(s, t, g[1], g[2]),
    ("GET", 4): lambda s, _t, g, p, _b: rows.get_row_by_external_id(s, g[1], g[2], g[3], p.get("fields")),
    ("PATCH", 4): lambda s, t, g, _p, b: rows.upsert_row(s, t, g[1], g[2], g[3], b),
    ("DELETE", 4): lambda s, t, g, _p, _b: rows.delete_row_by_external_id(s, t, g[1], g[2], g[3]),
}


def _result(reply: Reply, reference_id: str) -> dict[str, Any]:
    return {
        "body": reply.body,
        "httpHeaders": reply.headers,
        "httpStatusCode": reply.status,
        "referenceId": reference_id,
    }


def _run_one(session: Session, tx: Transaction, subrequest: Subrequest, answers: dict[str, Any]) -> Reply:
    """One subrequest; a failure undoes that subrequest's own writes."""
    savepoint = tx.savepoint()
    try:
        url = _resolve(subrequest.url, answers)
        request_body = _resolve(subrequest.body, answers)
        return _route(session, tx, subrequest.method, str(url), request_body)
    except _InvalidReference as error:
        return _halted(str(error))
    except MultipleMatches as error:
        tx.rollback(savepoint)
        return Reply(300, [f"/services/data/v{API_VERSION}/sobjects/{r.sobject}/{r.id}" for r in error.matches])
    except ApiError as error:
        tx.rollback(savepoint)
        return Reply(error.status, error.body())


def run_composite(session: Session, body: Any) -> dict[str, Any]:
    subrequests, all_or_none = _parse(body)
    replies: list[Reply] = []
    answers: dict[str, Any] = {}  # the bodies of the subrequests that succeeded, by referenceId
    with session.store.transaction() as tx:
        for subrequest in subrequests:
            reply = _run_one(session, tx, subrequest, answers)
            replies.append(reply)
            if reply.status < 300:
                answers[subrequest.reference_id] = reply.body
            elif all_or_none:
                # Everything is undone; the failure keeps its error, every other subrequest is halted.
                tx.rollback()
                replies += [_halted(ROLLED_BACK)] * (len(subrequests) - len(replies))
                replies = [r if r is reply else _halted(ROLLED_BACK) for r in replies]
                break
    return {
        "compositeResponse": [
            _result(reply, subrequest.reference_id) for reply, subrequest in zip(replies, subrequests, strict=True)
        ]
    }


@router.post("/composite")
def composite_request(session: SessionDep, body: JsonBody) -> dict[str, Any]:
    return run_composite(session, body)
