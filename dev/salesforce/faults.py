"""Fault switches for tests (an emulator extra, not a Salesforce API): make the writes of chosen records fail.

``POST /_admin/faults`` with ``{"match": "acme.io", "object": "Account", "status_code": "UNABLE_TO_LOCK_ROW",
"message": "...", "count": null}``: every create, update or upsert (single record or collection) of a record of
``object`` (any object if omitted) holding a text value that contains ``match`` (case-insensitive) fails with that
error, as Salesforce fails a record that a lock, a validation rule or a trigger rejects; the other records of the
request go through. ``count`` is how many rejections the switch makes before it turns itself off (null: until
``DELETE /_admin/faults``). ``GET /_admin/faults`` lists the active switches. The endpoints need a session token,
like the data API; switches live in memory, so a restart clears them.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from dev.salesforce.errors import record_error
from dev.salesforce.web import admin_session

LOCK_MESSAGE = "unable to obtain exclusive access to this record or 1 records"


class WriteFault(BaseModel):
    match: str = Field(min_length=1)
    object: str | None = None
    status_code: str = "UNABLE_TO_LOCK_ROW"
    message: str = LOCK_MESSAGE
    count: int | None = Field(default=None, ge=1)


class WriteFaults:
    """The active switches; ``check`` raises the record error of the first one a record matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[WriteFault] = []

    def add(self, fault: WriteFault) -> list[WriteFault]:
        with self._lock:
            self._faults.append(fault)
            return list(self._faults)

    def list(self) -> list[WriteFault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def check(self, object_name: str, fields: dict[str, Any]) -> None:
        texts = [value.casefold() for value in fields.values() if isinstance(value, str)]
        with self._lock:
            for fault in self._faults:
                if fault.object is not None and fault.object.casefold() != object_name.casefold():
                    continue
                if not any(fault.match.casefold() in text for text in texts):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                raise record_error(fault.status_code, fault.message)


def faults_of(request: Request) -> WriteFaults:
    faults: WriteFaults = request.app.state.faults
    return faults


router = APIRouter(prefix="/_admin/faults", dependencies=[Depends(admin_session)])
FaultsDep = Annotated[WriteFaults, Depends(faults_of)]


@router.get("")
def list_faults(faults: FaultsDep) -> list[WriteFault]:
    return faults.list()


@router.post("", status_code=201)
def add_fault(faults: FaultsDep, fault: WriteFault) -> list[WriteFault]:
    return faults.add(fault)


@router.delete("", status_code=204)
def clear_faults(faults: FaultsDep) -> Response:
    faults.clear()
    return Response(status_code=204)
