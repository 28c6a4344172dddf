"""The workspace event contract: every kind of bad input gets its own quarantine reason."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from include.cloud_app.schema import QuarantineReason, classify

START, END = datetime(2026, 11, 3, 0, 0, tzinfo=UTC), datetime(2026, 11, 3, 0, 15, tzinfo=UTC)
NOW = datetime(2026, 11, 25, tzinfo=UTC)
GOOD = {
    "event_id": "evt_abc123_0",
    "event_type": "workspace_created",
    "created_at": "2026-11-03T00:05:00.000Z",
    "workspace_id": "ws_abc123",
    "workspace_name": "Initech workspace",
    "plan": "starter",
    "seats": 12,
    "region": "eu-west-1",
    "owner": {"user_id": "usr_1", "email": "Peter@Initech.com ", "first_name": "Peter", "last_name": "Gibbons",
              "company_name": "Initech"},
}  # fmt: skip


def _with(path: str, value: object) -> dict:
    record = copy.deepcopy(GOOD)
    target = record
    *parents, leaf = path.split(".")
    for part in parents:
        target = target[part]
    if value is KeyError:
        del target[leaf]
    else:
        target[leaf] = value
    return record


def test_a_good_record_passes_and_keeps_its_raw_email() -> None:
    event, reason, _ = classify(GOOD, START, END, NOW)
    assert reason is None
    assert event is not None
    assert event.owner.email == "Peter@Initech.com "  # normalised later, in dbt


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("{not json", QuarantineReason.INVALID_JSON),
        ([1, 2], QuarantineReason.WRONG_TYPE),
        (_with("owner.email", KeyError), QuarantineReason.MISSING_EMAIL),
        (_with("owner.email", None), QuarantineReason.MISSING_EMAIL),
        (_with("owner.email", "not-an-email"), QuarantineReason.INVALID_EMAIL),
        (_with("owner.email", "a@b@c.com"), QuarantineReason.INVALID_EMAIL),
        (_with("owner.email", "x" * 300 + "@example.com"), QuarantineReason.OVERSIZED_FIELD),
        (_with("seats", "12"), QuarantineReason.WRONG_TYPE),
        (_with("owner", "usr_1"), QuarantineReason.WRONG_TYPE),
        (_with("plan", "platinum"), QuarantineReason.UNKNOWN_PLAN),
        (_with("workspace_id", KeyError), QuarantineReason.MISSING_FIELD),
        (_with("created_at", "yesterday"), QuarantineReason.INVALID_TIMESTAMP),
        (_with("created_at", "2026-11-03T00:05:00"), QuarantineReason.INVALID_TIMESTAMP),
        (_with("created_at", "2027-01-01T00:00:00Z"), QuarantineReason.FUTURE_TIMESTAMP),
        (_with("created_at", "2026-11-03T00:15:00Z"), QuarantineReason.OUTSIDE_INTERVAL),
        (_with("workspace_name", "n" * 256), QuarantineReason.OVERSIZED_FIELD),
        (_with("seats", 0), QuarantineReason.INVALID_VALUE),
        (_with("workspace_id", "ws_\u0000evil"), QuarantineReason.INVALID_VALUE),
    ],
)
def test_bad_input_is_quarantined_with_its_reason(record, reason) -> None:
    event, got, detail = classify(record, START, END, NOW)
    assert event is None
    assert got == reason, detail
    assert detail


def test_unicode_names_are_valid() -> None:
    record = _with("owner.first_name", "Zoë")
    record["owner"]["last_name"] = "李"
    assert classify(record, START, END, NOW)[1] is None


def test_embedded_json_string_is_parsed() -> None:
    assert classify(json.dumps(GOOD), START, END, NOW)[1] is None


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("owner.email", "pe\u0000ter@initech.com", QuarantineReason.INVALID_EMAIL),  # NUL
        ("owner.email", "peter\u0007@initech.com", QuarantineReason.INVALID_EMAIL),  # other C0 control
        ("owner.email", "peter\u0085@initech.com", QuarantineReason.INVALID_EMAIL),  # C1 control
        ("owner.email", "pe\u200bter@initech.com", QuarantineReason.INVALID_EMAIL),  # zero-width space
        ("owner.email", "peter@\u202einitech.com", QuarantineReason.INVALID_EMAIL),  # bidi override
        ("owner.email", "\ufeffpeter@initech.com", QuarantineReason.INVALID_EMAIL),  # BOM
        ("owner.email", "pe\ud800ter@initech.com", QuarantineReason.INVALID_EMAIL),  # lone surrogate
        ("owner.first_name", "Pe\udc80ter", QuarantineReason.INVALID_VALUE),
        ("owner.nickname", "\ud83d", QuarantineReason.INVALID_VALUE),  # even in a field the contract lets through
        ("owner.first_name", "Pe\u0000ter", QuarantineReason.INVALID_VALUE),
        ("workspace_name", "Initech\nworkspace", QuarantineReason.INVALID_VALUE),
    ],
)
def test_control_characters_and_lone_surrogates_are_quarantined(path, value, reason) -> None:
    event, got, detail = classify(_with(path, value), START, END, NOW)
    assert (event, got) == (None, reason), detail
    detail.encode()  # the detail is landed too: it must be encodable text


def test_a_lone_surrogate_in_a_key_is_reported_encodably() -> None:
    record = copy.deepcopy(GOOD)
    record["owner"]["\ud800"] = "x"
    event, got, detail = classify(record, START, END, NOW)
    assert (event, got) == (None, QuarantineReason.INVALID_VALUE)
    assert detail == "owner.\\ud800: not valid Unicode text (a lone surrogate)"


@pytest.mark.parametrize("name", ["Zoë", "李 小龍", "Ήρα", "Ñandú 🚀", "👩\u200d💻 Dev", "O'Brien-Żółć"])
def test_unicode_names_and_emoji_stay_valid(name) -> None:
    record = _with("workspace_name", name)
    record["owner"]["first_name"] = name
    assert classify(record, START, END, NOW)[1] is None


@pytest.mark.parametrize(
    "created_at",
    [
        "2026-11-03T00:05:00.000Z",
        "2026-11-02T19:05:00.000-05:00",  # the same instant, written in the workspace's own offset
        "2026-11-03T09:05:00+09:00",
        "2026-11-03T00:05:00.123456789+00:00",
    ],
)
def test_rfc_3339_date_times_in_any_offset_are_valid(created_at: str) -> None:
    event, reason, detail = classify(_with("created_at", created_at), START, END, NOW)
    assert (reason, detail) == (None, "")
    assert event is not None


@pytest.mark.parametrize(
    "created_at",
    [
        "2026-11-02T19:05:00.000-0500",  # Python parses an offset without a colon; AUTO's formats are TZH:TZM
        "2026-11-03T00:05:00+0000",
        "2026-11-03T00:05:00+00",
        "2026-11-03 00:05:00Z",  # a space for the T
        "20261103T000500Z",  # ISO 8601's basic format
    ],
)
def test_offset_forms_the_warehouse_may_not_parse_are_quarantined(created_at: str) -> None:
    """datetime.fromisoformat accepts each of these; Snowflake's automatic detection documents none of them, and
    staging casts created_at with it, so each is quarantined at extract instead of breaking the staging view."""
    event, reason, detail = classify(_with("created_at", created_at), START, END, NOW)
    assert (event, reason) == (None, QuarantineReason.INVALID_TIMESTAMP)
    assert created_at in detail
