"""Fault switches for tests (an emulator extra, not a Salesforce API): make the writes of chosen records fail.

A switch ``{"match": "acme.io", "object": "Account", "status_code": "UNABLE_TO_LOCK_ROW", "message": "...",
"count": null}`` makes every create, update or upsert (single record or collection) of a record of ``object``
(any object if omitted) holding a text value that contains ``match`` (case-insensitive) fail with that error, as
Salesforce fails a record that a lock, a validation rule or a trigger rejects; the other records of the request
go through. A switch on a Lead also refuses its conversion (convertLead()), as a duplicate rule set to block
(``DUPLICATES_DETECTED``), a validation rule or a trigger can. ``count`` is how many rejections the switch
makes before it turns itself off (null: until cleared).
The writer (dml.py) consults the switches; the app serves them at ``/_admin/faults`` (app.py). They live in
memory, so a restart clears them.
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel, Field

from dev.salesforce.errors import record_error

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
