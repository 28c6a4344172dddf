"""The cloud app API emulator: exact pagination, auth, fault switches, creation, persistence of state."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from dev.cloud_app.app import visible_events
from dev.localcloud.settings import CLOUD_APP_TOKEN
from tests.integration.conftest import TEST_PORTS, source_config

BASE = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_CLOUD_APP_PORT']}"
AUTH = {"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}
WINDOW = (datetime(2026, 11, 3, 0, tzinfo=UTC), datetime(2026, 11, 3, 6, tzinfo=UTC))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def fetch_all(start: datetime, end: datetime, limit: int) -> tuple[list[dict], int]:
    events, pages, cursor = [], 0, None
    while True:
        params = {"created_after": _iso(start), "created_before": _iso(end), "limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = requests.get(f"{BASE}/v1/workspaces", params=params, headers=AUTH, timeout=30)
        response.raise_for_status()
        body = response.json()
        events += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        assert body["has_more"] == (cursor is not None)
        if cursor is None:
            return events, pages


@pytest.fixture(scope="module")
def api(emulators):
    requests.delete(f"{BASE}/_admin/faults", headers=AUTH, timeout=5).raise_for_status()
    yield BASE
    requests.delete(f"{BASE}/_admin/faults", headers=AUTH, timeout=5)


def _fault(**fault) -> None:
    requests.post(f"{BASE}/_admin/faults", json=fault, headers=AUTH, timeout=5).raise_for_status()


def _list(limit: int = 10) -> requests.Response:
    params = {"created_after": _iso(WINDOW[0]), "created_before": _iso(WINDOW[1]), "limit": limit}
    return requests.get(f"{BASE}/v1/workspaces", params=params, headers=AUTH, timeout=30)


@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
def test_every_record_of_a_window_exactly_once_for_any_page_size(api, emulators, limit) -> None:
    truth = visible_events(source_config(), emulators / "cloud_app", *WINDOW, as_of=datetime.now(UTC))
    events, pages = fetch_all(*WINDOW, limit)
    assert [e["event_id"] for e in events] == [e["event_id"] for e in truth]
    assert events == truth
    assert pages == max(1, math.ceil(len(truth) / limit))
    assert len(truth) > 400  # the window holds enough to page through


def test_adjacent_windows_partition_the_records(api) -> None:
    middle = WINDOW[0] + timedelta(hours=2, minutes=17)
    left, _ = fetch_all(WINDOW[0], middle, 25)
    right, _ = fetch_all(middle, WINDOW[1], 25)
    whole, _ = fetch_all(*WINDOW, 25)
    assert left + right == whole


def test_dataset_has_the_mess_real_sources_have(emulators) -> None:
    from dev.cloud_app.generator import MESS_KINDS, WorkspaceGenerator

    day = list(
        WorkspaceGenerator(source_config()).events(datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC))
    )
    kinds = {kind for event in day for kind in event.mess}
    assert kinds == set(MESS_KINDS)
    workspaces = [e.workspace["workspace_id"] for e in day]
    assert len(workspaces) > len(set(workspaces))  # several events for one workspace


def test_token_is_required(api) -> None:
    response = requests.get(f"{BASE}/v1/workspaces", params={"created_after": "x", "created_before": "y"}, timeout=5)
    assert response.status_code == 401
    assert response.json()["detail"]["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"created_after": "yesterday", "created_before": "2026-11-03T00:00:00Z"}, "not ISO 8601"),
        ({"created_after": "2026-11-03T00:00:00", "created_before": "2026-11-03T01:00:00Z"}, "time zone"),
        ({"created_after": "2026-11-03T01:00:00Z", "created_before": "2026-11-03T00:00:00Z"}, "must be after"),
        ({"created_after": "2026-11-03T00:00:00Z", "created_before": "2026-11-03T01:00:00Z", "cursor": "zz"}, "cursor"),
    ],
)
def test_bad_parameters_get_a_clear_400(api, params, message) -> None:
    response = requests.get(f"{BASE}/v1/workspaces", params=params, headers=AUTH, timeout=5)
    assert response.status_code == 400
    assert message in response.json()["detail"]["message"]


def test_cursor_cannot_be_replayed_on_another_window(api) -> None:
    cursor = _list(limit=5).json()["next_cursor"]
    params = {
        "created_after": _iso(WINDOW[0]),
        "created_before": _iso(WINDOW[1] + timedelta(hours=1)),
        "cursor": cursor,
    }
    response = requests.get(f"{BASE}/v1/workspaces", params=params, headers=AUTH, timeout=5)
    assert response.status_code == 400
    assert "another window" in response.json()["detail"]["message"]


def test_rate_limit_fault_answers_429_with_retry_after_then_recovers(api) -> None:
    _fault(kind="rate_limit", count=2, retry_after=7)
    first, second, third = _list(), _list(), _list()
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "7"


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_fault(api, status) -> None:
    _fault(kind="server_error", status=status)
    assert [_list().status_code, _list().status_code] == [status, 200]


def test_slow_fault_delays_the_response(api) -> None:
    _fault(kind="slow", delay=1.5)
    started = time.monotonic()
    assert _list().status_code == 200
    assert time.monotonic() - started >= 1.5


def test_truncated_page_is_not_valid_json(api) -> None:
    _fault(kind="truncate")
    response = _list()
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert _list().json()["data"]


def test_created_workspace_is_listed_in_its_window(api, emulators) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    owner = {"email": "Ada@Lovelace.io", "first_name": "Ada", "last_name": "Lovelace", "company_name": "Lovelace"}
    body = {"plan": "professional", "seats": 12, "owner": owner}
    created = requests.post(f"{BASE}/v1/workspaces", json=body, headers=AUTH, timeout=5)
    assert created.status_code == 201
    event = created.json()
    events, _ = fetch_all(before, datetime.now(UTC) + timedelta(seconds=1), 100)
    assert event in events
    assert event["owner"]["email"] == "Ada@Lovelace.io"


def test_openapi_is_served(api) -> None:
    spec = requests.get(f"{BASE}/openapi.json", timeout=5).json()
    assert set(spec["paths"]) == {"/v1/workspaces"}
    assert {"get", "post"} == set(spec["paths"]["/v1/workspaces"])


RAW_WINDOW = (datetime(2026, 11, 2, 7, 0, tzinfo=UTC), datetime(2026, 11, 2, 7, 10, tzinfo=UTC))


def test_raw_events_are_served_verbatim_in_their_window_and_paged_exactly(api, emulators) -> None:
    """Injected records, whatever they hold, come back exactly as given, in order, on every page size;
    records outside the window do not; deleting them by key restores the generated window."""
    generated = visible_events(source_config(), emulators / "cloud_app", *RAW_WINDOW, as_of=datetime.now(UTC))
    first = generated[0]
    bodies = [
        "{not json",  # a string stands for non-JSON text
        None,
        42,
        [1, {"nested": True}],
        {"event_id": "x", "seats": "twelve", "name": "nul\u0000 and lone \ud800 surrogate"},
        {**first, "plan": "platinum"},  # same sort key as a generated event: served right after it
    ]
    at = ["2026-11-02T07:00:00Z", "2026-11-02T07:03:00+00:00", "2026-11-02T07:03:00.000Z",
          "2026-11-02T07:09:59.999Z", "2026-11-02T07:05:00Z", first["created_at"]]  # fmt: skip
    outside = [{"created_at": "2026-11-02T07:10:00Z", "body": "after"}, {"created_at": "2026-11-02T06:59:59.999Z",
                                                                          "body": "before"}]  # fmt: skip
    injected = [{"created_at": t, "body": b} for t, b in zip(at, bodies, strict=True)] + outside
    # requests sends JSON with ASCII escapes, so even a lone surrogate travels as "\ud800".
    response = requests.post(f"{BASE}/_admin/raw_events", json=injected, headers=AUTH, timeout=10)
    assert response.status_code == 201, response.text
    keys = [k["key"] for k in response.json()]
    assert [k["created_at"] for k in response.json()][:3] == ["2026-11-02T07:00:00.000Z", "2026-11-02T07:03:00.000Z",
                                                              "2026-11-02T07:03:00.000Z"]  # fmt: skip
    try:
        truth = visible_events(source_config(), emulators / "cloud_app", *RAW_WINDOW, as_of=datetime.now(UTC))
        assert len(truth) == len(generated) + len(bodies)
        assert [b for b in truth if b not in generated] == [bodies[i] for i in (0, 5, 1, 2, 4, 3)]
        assert truth[truth.index(first) + 1] == bodies[5]
        for limit in (1, 4, 1000):
            events, pages = fetch_all(*RAW_WINDOW, limit)
            assert events == truth, limit  # json.loads of each page: bodies survive byte for byte
            assert pages == max(1, math.ceil(len(truth) / limit))
        assert "\ud800" in fetch_all(*RAW_WINDOW, 1000)[0][truth.index(bodies[4])]["name"]
        # Bad input for the injection endpoint itself.
        bad = requests.post(f"{BASE}/_admin/raw_events", json=[{"created_at": "yesterday", "body": 1}],
                            headers=AUTH, timeout=5)  # fmt: skip
        assert bad.status_code == 400
        assert (
            requests.post(f"{BASE}/_admin/raw_events", json=[{"body": 1}], headers=AUTH, timeout=5).status_code == 422
        )
        assert requests.post(f"{BASE}/_admin/raw_events", json=[], timeout=5).status_code == 401
    finally:
        deleted = requests.delete(f"{BASE}/_admin/raw_events", params={"key": keys}, headers=AUTH, timeout=10)
    assert deleted.json() == {"deleted": len(injected)}
    assert fetch_all(*RAW_WINDOW, 1000)[0] == generated
    assert "/_admin/raw_events" not in requests.get(f"{BASE}/openapi.json", timeout=5).json()["paths"]
