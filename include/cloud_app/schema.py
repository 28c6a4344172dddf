"""The typed contract of a workspace event from the cloud app API, and why a record fails it.

Valid records are landed as they came (the warehouse keeps the raw truth; dbt normalises). A record that
breaks the contract is quarantined with one reason from ``QuarantineReason``: nothing is dropped silently.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

# Deliberately simple: one @, a dot in the domain, no spaces once trimmed. Case and padding are fixed in dbt.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Characters no address contains and no CRM should receive: C0/C1 controls (NUL...), invisible format
# characters (zero-width, bidi overrides, BOM) and lone surrogates (not Unicode text: they cannot be encoded).
_EMAIL_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff]")
# In names, controls (NUL, tabs, newlines...) are never meant; unicode letters, marks and emoji are fine.
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
MAX_TEXT = 255
# RFC 3339 date-time: "T" between date and time, an offset of "Z" or ±HH:MM. Python parses more (±HHMM, ±HH, a space
# for the "T", ISO 8601's basic format), but staging casts created_at with Snowflake's automatic detection, whose
# documented formats write the offset as TZH:TZM
# (https://docs.snowflake.com/en/sql-reference/date-time-input-output, "Supported formats for AUTO detection"): a
# value it may not parse is quarantined here with its reason instead of breaking the staging view.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
# Clock skew we tolerate between the source and us before calling a timestamp "from the future".
FUTURE_TOLERANCE = timedelta(minutes=5)


def _no_controls(value: str) -> str:
    if _TEXT_FORBIDDEN.search(value):
        raise ValueError(f"contains control characters: {value[:40]!r}")
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT), AfterValidator(_no_controls)]


class QuarantineReason(StrEnum):
    INVALID_JSON = "invalid_json"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    MISSING_EMAIL = "missing_email"
    INVALID_EMAIL = "invalid_email"
    UNKNOWN_PLAN = "unknown_plan"
    INVALID_TIMESTAMP = "invalid_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    OUTSIDE_INTERVAL = "outside_interval"
    OVERSIZED_FIELD = "oversized_field"
    INVALID_VALUE = "invalid_value"
    DUPLICATE_EVENT = "duplicate_event_id"


class Owner(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    user_id: Text
    email: str
    first_name: Text
    last_name: Text
    company_name: Text | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if _EMAIL_FORBIDDEN.search(value):
            raise ValueError("invalid_email: contains control or invisible characters")
        if not _EMAIL.match(value.strip()):
            raise ValueError("invalid_email")
        if len(value) > MAX_TEXT:
            raise ValueError("oversized")
        return value


class WorkspaceEvent(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    event_id: Text
    event_type: Literal["workspace_created", "workspace_updated"]
    created_at: str
    workspace_id: Annotated[str, StringConstraints(pattern=r"^ws_[A-Za-z0-9]{4,64}$")]
    workspace_name: Text
    plan: Literal["free", "starter", "professional", "enterprise_trial"]
    seats: Annotated[int, Field(ge=1, le=1_000_000)]
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[a-z]+-\d$")]
    owner: Owner


def _reason_from(error: ValidationError) -> QuarantineReason:
    first = error.errors()[0]
    location = tuple(str(part) for part in first["loc"])
    kind, message = first["type"], str(first.get("msg", ""))
    if kind == "missing":
        return QuarantineReason.MISSING_EMAIL if location == ("owner", "email") else QuarantineReason.MISSING_FIELD
    if location == ("owner", "email"):
        if kind in {"string_type"} and first.get("input") is None:
            return QuarantineReason.MISSING_EMAIL
        if "oversized" in message:
            return QuarantineReason.OVERSIZED_FIELD
        return QuarantineReason.INVALID_EMAIL if kind == "value_error" else QuarantineReason.WRONG_TYPE
    if location == ("plan",) and kind == "literal_error":
        return QuarantineReason.UNKNOWN_PLAN
    if kind == "string_too_long":
        return QuarantineReason.OVERSIZED_FIELD
    if kind.endswith("_type") or kind in {"model_type", "dict_type"}:
        return QuarantineReason.WRONG_TYPE
    return QuarantineReason.INVALID_VALUE


def _lone_surrogate(value: Any, path: str = "") -> str | None:
    """Where the record holds a string (or key) with a lone surrogate: JSON can carry it, UTF-8 cannot."""
    if isinstance(value, str):
        return (path or "record") if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if _SURROGATE.search(str(key)):
            return where
        found = _lone_surrogate(item, where)
        if found:
            return found
    return None


def _parse_instant(value: str) -> datetime | None:
    """The instant an RFC 3339 date-time names, in UTC; None for any other form."""
    if not _RFC3339.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def classify(
    record: Any, interval_start: datetime, interval_end: datetime, now: datetime
) -> tuple[WorkspaceEvent | None, QuarantineReason | None, str]:
    """Validate one raw record: (event, None, "") if valid, else (None, reason, detail)."""
    if isinstance(record, str):  # some producers embed the event as a JSON string
        try:
            record = json.loads(record)
        except json.JSONDecodeError as exc:
            return None, QuarantineReason.INVALID_JSON, f"record is a string that is not JSON: {exc}"
    if not isinstance(record, dict):
        return None, QuarantineReason.WRONG_TYPE, f"record is a {type(record).__name__}, not an object"
    where = _lone_surrogate(record)
    if where:
        reason = QuarantineReason.INVALID_EMAIL if where == "owner.email" else QuarantineReason.INVALID_VALUE
        where = where.encode("ascii", "backslashreplace").decode()  # the detail itself must be valid text
        return None, reason, f"{where}: not valid Unicode text (a lone surrogate)"
    try:
        event = WorkspaceEvent.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return None, _reason_from(exc), detail[:500]
    created_at = _parse_instant(event.created_at)
    if created_at is None:
        detail = f"created_at is not an RFC 3339 date-time (offset Z or ±HH:MM): {event.created_at!r}"
        return None, QuarantineReason.INVALID_TIMESTAMP, detail
    if created_at > now + FUTURE_TOLERANCE:
        return None, QuarantineReason.FUTURE_TIMESTAMP, f"created_at {event.created_at} is in the future"
    if not interval_start <= created_at < interval_end:
        return None, QuarantineReason.OUTSIDE_INTERVAL, f"created_at {event.created_at} outside the requested window"
    return event, None, ""
