"""Ingestion of cloud app workspaces, against the emulator's ground truth: pagination, retries, validation,
and the DAG itself (`airflow dags test`) with re-runs, a backfill and faults switched on."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from dev.cloud_app.app import visible_events
from dev.localcloud.settings import CLOUD_APP_TOKEN
from include.cloud_app.client import RetryableResponse, RetryPolicy, SourceApiError, WorkspaceEventsClient
from include.connections import CLOUD_APP_API
from include.settings import raw_table
from tests.integration.conftest import TEST_PORTS, dags_test, source_config

pytestmark = pytest.mark.long_running(minutes=1.2)

BASE = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_CLOUD_APP_PORT']}"
AUTH = {"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}
FAST = RetryPolicy(attempts=6, initial_wait=0.05, max_wait=5)
# The source's mess that must be quarantined, by the generator's own labels (independent of our validator).
QUARANTINED_MESS = {
    "missing_email": "missing_email",
    "invalid_email": "invalid_email",
    "compact_offset": "invalid_timestamp",
}


def _fault(**fault) -> None:
    requests.post(f"{BASE}/_admin/faults", json=fault, headers=AUTH, timeout=5).raise_for_status()


@pytest.fixture
def source(emulators):
    requests.delete(f"{BASE}/_admin/faults", headers=AUTH, timeout=5).raise_for_status()
    yield emulators / "cloud_app"
    requests.delete(f"{BASE}/_admin/faults", headers=AUTH, timeout=5)


def _truth(state_dir, start: datetime, end: datetime) -> list[dict]:
    return visible_events(source_config(), state_dir, start, end, as_of=datetime.now(UTC))


def _client(page_size: int = 25) -> WorkspaceEventsClient:
    return WorkspaceEventsClient.from_connection(CLOUD_APP_API, page_size=page_size, policy=FAST)


WINDOW = (datetime(2026, 11, 4, 9, 0, tzinfo=UTC), datetime(2026, 11, 4, 10, 0, tzinfo=UTC))


@pytest.mark.parametrize("page_size", [1, 13, 1000])
def test_client_pages_through_every_record_once(source, page_size) -> None:
    client = _client(page_size)
    events = [e for page in client.pages(*WINDOW) for e in page]
    truth = _truth(source, *WINDOW)
    assert [e["event_id"] for e in events] == [e["event_id"] for e in truth]
    assert client.requests_made == max(1, -(-len(truth) // page_size))


def test_client_honours_retry_after_on_429(source) -> None:
    _fault(kind="rate_limit", count=2, retry_after=1)
    client = _client(100)
    started = time.monotonic()
    events = [e for page in client.pages(*WINDOW) for e in page]
    assert time.monotonic() - started >= 2.0  # waited exactly what the server asked, twice
    assert client.retries == 2
    assert len(events) == len(_truth(source, *WINDOW))


def test_client_survives_5xx_and_a_truncated_page(source) -> None:
    _fault(kind="server_error", count=2, status=503)
    _fault(kind="truncate", count=1)
    _fault(kind="server_error", count=1, status=500)
    client = _client(30)
    events = [e for page in client.pages(*WINDOW) for e in page]
    assert client.retries == 4
    assert [e["event_id"] for e in events] == [e["event_id"] for e in _truth(source, *WINDOW)]


def test_client_gives_up_after_its_attempts(source) -> None:
    _fault(kind="server_error", count=6, status=503)
    with pytest.raises(RetryableResponse, match="503"):
        list(_client().pages(*WINDOW))


def test_client_does_not_retry_a_bad_token(source) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    client = WorkspaceEventsClient(HttpHook(method="GET", http_conn_id=CLOUD_APP_API), "wrong-token", policy=FAST)
    with pytest.raises(SourceApiError, match="401"):
        list(client.pages(*WINDOW))
    assert client.requests_made == 1


# --- the DAG, run by `airflow dags test` ---------------------------------------------------------------


def _warehouse():
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    return SnowflakeHook(snowflake_conn_id=SNOWFLAKE)


def _interval_rows(start: datetime) -> list[str]:
    rows = _warehouse().get_records(
        f"SELECT RECORD:payload:event_id::VARCHAR FROM {raw_table('CLOUD_APP.WORKSPACES')} "
        "WHERE RECORD:interval_start::VARCHAR = %(s)s ORDER BY 1",
        parameters={"s": start.isoformat()},
    )
    return [r[0] for r in rows]


def _quarantine_reasons(start: datetime) -> Counter:
    rows = _warehouse().get_records(
        f"SELECT RECORD:reason::VARCHAR FROM {raw_table('CLOUD_APP.WORKSPACES_QUARANTINE')} "
        "WHERE RECORD:interval_start::VARCHAR = %(s)s",
        parameters={"s": start.isoformat()},
    )
    return Counter(r[0] for r in rows)


def _expected(state_dir, start: datetime, end: datetime) -> tuple[list[str], Counter]:
    """Ground truth from the generator's own mess labels, not from the pipeline's validator."""
    from dev.cloud_app.generator import WorkspaceGenerator

    labels = {e.event_id: e.mess for e in WorkspaceGenerator(source_config()).events(start, end)}
    valid, reasons = [], Counter()
    for event in _truth(state_dir, start, end):
        bad = [QUARANTINED_MESS[m] for m in labels.get(event["event_id"], ()) if m in QUARANTINED_MESS]
        if bad:
            reasons[bad[0]] += 1
        else:
            valid.append(event["event_id"])
    return sorted(valid), reasons


INTERVAL_END = datetime(2026, 11, 5, 14, 15, tzinfo=UTC)  # the run of logical date 14:15 owns [14:00, 14:15)


# Before the quick DAG tests: `make test` hands a worker its next module while the last two tests of this one run.
def test_faults_during_the_run_lose_and_duplicate_nothing(dag_env, source) -> None:
    end = datetime(2026, 11, 7, 18, 30, tzinfo=UTC)
    _fault(kind="rate_limit", count=1, retry_after=1)
    _fault(kind="server_error", count=2, status=503)
    _fault(kind="truncate", count=1)
    _fault(kind="server_error", count=1, status=500)
    result = dags_test(dag_env, "ingest_cloud_workspaces", end)
    assert "(5 retries)" in result.stdout + result.stderr
    start = end - timedelta(minutes=15)
    valid, reasons = _expected(source, start, end)
    assert _interval_rows(start) == valid
    assert _quarantine_reasons(start) == reasons


def test_dag_loads_exactly_the_ground_truth_and_reruns_change_nothing(dag_env, source) -> None:
    start = INTERVAL_END - timedelta(minutes=15)
    valid, reasons = _expected(source, start, INTERVAL_END)
    assert len(valid) > 30
    assert reasons  # the interval holds quarantinable mess

    dags_test(dag_env, "ingest_cloud_workspaces", INTERVAL_END)
    assert _interval_rows(start) == valid
    assert _quarantine_reasons(start) == reasons
    log = _warehouse().get_records(
        f"SELECT EXTRACTED, VALID, QUARANTINED, LOADED FROM {raw_table('CLOUD_APP.INGESTION_LOG')} "
        "WHERE INTERVAL_START = %(s)s",
        parameters={"s": start.isoformat()},
    )
    total = len(valid) + sum(reasons.values())
    assert log == [(total, len(valid), sum(reasons.values()), len(valid))]

    dags_test(dag_env, "ingest_cloud_workspaces", INTERVAL_END)  # a forced re-run of the same interval
    assert _interval_rows(start) == valid
    assert _quarantine_reasons(start) == reasons


def test_backfill_of_several_intervals_loads_their_union(dag_env, source) -> None:
    ends = [datetime(2026, 11, 6, 8, 15, tzinfo=UTC) + timedelta(minutes=15 * n) for n in range(3)]
    for end in ends:
        dags_test(dag_env, "ingest_cloud_workspaces", end)
    for end in ends:
        assert _interval_rows(end - timedelta(minutes=15)) == _expected(source, end - timedelta(minutes=15), end)[0]
    first, last = ends[0] - timedelta(minutes=15), ends[-1]
    union = _warehouse().get_first(
        f"SELECT COUNT(*), COUNT(DISTINCT RECORD:payload:event_id) FROM {raw_table('CLOUD_APP.WORKSPACES')} "
        "WHERE RECORD:payload:created_at::TIMESTAMP_TZ >= %(a)s::TIMESTAMP_TZ "
        "AND RECORD:payload:created_at::TIMESTAMP_TZ < %(b)s::TIMESTAMP_TZ",
        parameters={"a": first.isoformat(), "b": last.isoformat()},
    )
    expected = len(_expected(source, first, last)[0])
    assert union == (expected, expected)
