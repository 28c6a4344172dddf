"""Field values on the wire: JSON payload coercion and Salesforce's date and datetime formats.

Stored values are JSON-native and already in output form: datetimes as ``2026-11-25T16:42:10.000+0000``
(always UTC, so they also sort and compare as strings), dates as ``2026-11-25``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dev.salesforce.errors import ApiError, json_parser_error
from dev.salesforce.schema import NUMBER_TYPES, STRING_TYPES, Field

_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?:(?P<zulu>Z)|(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2}))"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 with a zone (Z, +hh:mm or +hhmm) and optional fraction, as the API and SOQL accept."""
    match = _DATETIME.fullmatch(text)
    if not match:
        return None
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}+00:00")
    except ValueError:
        return None
    if match["zulu"]:
        return moment
    offset = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
    return moment - offset if match["sign"] == "+" else moment + offset


def parse_date(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _token_name(value: Any) -> str:
    """Jackson's name for a JSON token, which Salesforce quotes in its deserialization errors."""
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"


def cannot_deserialize(type_name: str, value: Any) -> ApiError:
    return json_parser_error(
        f"Cannot deserialize instance of {type_name} from {_token_name(value)} value {value} "
        "or request may be missing a required field"
    )


def coerce(field: Field, value: Any) -> Any:
    """The stored form of a payload value, or JSON_PARSER_ERROR as Salesforce's deserializer reports it."""
    if value is None:
        return None
    if field.type in STRING_TYPES:
        if isinstance(value, dict | list):
            raise cannot_deserialize("string", value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if field.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise cannot_deserialize("boolean", value)
    if field.type in NUMBER_TYPES:
        return _number(field, value)
    if field.type == "date" and isinstance(value, str) and (parsed_date := parse_date(value)):
        return parsed_date.isoformat()
    if field.type == "datetime" and isinstance(value, str) and (parsed := parse_datetime(value)):
        return format_datetime(parsed)
    raise cannot_deserialize(field.type, value)


def _number(field: Field, value: Any) -> int | float:
    type_name = "int" if field.type == "int" else "double"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise cannot_deserialize(type_name, value)
    try:
        number = float(value)
    except ValueError:
        raise cannot_deserialize(type_name, value) from None
    if not math.isfinite(number):
        raise cannot_deserialize(type_name, value)
    if field.type == "int":
        if not number.is_integer():
            raise cannot_deserialize(type_name, value)
        return int(number)
    return number


def valid_email(text: str) -> bool:
    return bool(_EMAIL.fullmatch(text))
