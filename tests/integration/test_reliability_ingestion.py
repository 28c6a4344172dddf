"""Reliability of the ingestion DAGs, proven with exact counts against the source's ground truth:

1. re-running an interval (cloud app and Salesforce mirror) duplicates nothing;
2. source faults during a run (429 + Retry-After, 5xx, a response slower than the client's timeout, a
   truncated page) lose and duplicate nothing, and every one of them is retried;
3. every kind of bad input is quarantined with its reason while the good records of the same interval load,
   and none of the bad ones reaches the raw table (nor, through dbt, the Salesforce contacts mart).

Each scenario owns a 15-minute interval of 2026-11-09 that no other module uses; injected records and CRM
records carry RUN, so the assertions only look at this module's own data.
"""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from dev.localcloud.settings import CLOUD_APP_TOKEN
from include.cloud_app.extract import extract_interval
from include.connections import CLOUD_APP_API, SALESFORCE, SNOWFLAKE, env_var_name
from include.salesforce.mirror import OBJECTS
from include.settings import raw_table
from tests.conftest import TEST_STATE
from tests.integration.conftest import TEST_PORTS, dags_test, dbt_cli
from tests.integration.test_ingest_cloud_workspaces import _expected, _interval_rows, _quarantine_reasons

pytestmark = pytest.mark.long_running(minutes=2)

RUN = uuid.uuid4().hex[:6]
BASE = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_CLOUD_APP_PORT']}"
AUTH = {"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}

RERUN_END = datetime(2026, 11, 9, 6, 15, tzinfo=UTC)  # the run of logical date 06:15 owns [06:00, 06:15)
FAULTS_END = datetime(2026, 11, 9, 7, 15, tzinfo=UTC)
BAD_INPUT_END = datetime(2026, 11, 9, 10, 15, tzinfo=UTC)
CLIENT_TIMEOUT = 2  # seconds, through the connection's extra
SLOW = 5  # seconds the `slow` fault holds the response: longer than the client waits
WORKSPACES = raw_table("CLOUD_APP.WORKSPACES")
QUARANTINE = raw_table("CLOUD_APP.WORKSPACES_QUARANTINE")
INGESTION_LOG = raw_table("CLOUD_APP.INGESTION_LOG")


def _fault(**fault: Any) -> None:
    requests.post(f"{BASE}/_admin/faults", json=fault, headers=AUTH, timeout=5).raise_for_status()


@pytest.fixture(scope="module")
def source(emulators):
    """The cloud app API with no fault pending; every fault and injected record is gone at the end."""
    requests.delete(f"{BASE}/_admin/faults", headers=AUTH, timeout=5).raise_for_status()
    injected: list[str] = []
    yield emulators / "cloud_app", injected
    requests.delete(f"{BASE}/_admin/faults", headers=AUTH, timeout=5).raise_for_status()
    if injected:
        requests.delete(f"{BASE}/_admin/raw_events", params={"key": injected}, headers=AUTH, timeout=10)


@pytest.fixture(scope="module")
def warehouse(dag_env):
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return SnowflakeHook(snowflake_conn_id=SNOWFLAKE)


def _log_rows(warehouse, start: datetime) -> list[tuple]:
    return warehouse.get_records(
        f"SELECT EXTRACTED, VALID, QUARANTINED, LOADED, QUARANTINE_LOADED FROM {INGESTION_LOG} "
        "WHERE INTERVAL_START = %(s)s",
        parameters={"s": start.isoformat()},
    )


def _cloud_counts(warehouse, start: datetime) -> dict[str, tuple]:
    """(rows, distinct event ids) of the interval in the raw and quarantine tables, and its run-log rows."""
    counts = {}
    for table in (WORKSPACES, QUARANTINE):
        counts[table] = tuple(
            warehouse.get_first(
                f"SELECT COUNT(*), COUNT(DISTINCT RECORD:payload:event_id::VARCHAR) FROM {table} "
                "WHERE RECORD:interval_start::VARCHAR = %(s)s",
                parameters={"s": start.isoformat()},
            )
        )
    counts[INGESTION_LOG] = (len(_log_rows(warehouse, start)),)
    return counts


def _salesforce_counts(warehouse, start: datetime) -> dict[str, tuple[int, int]]:
    """Per mirrored table: (rows, distinct Id + SystemModstamp) of the interval."""
    return {
        obj.table: tuple(
            warehouse.get_first(
                "SELECT COUNT(*), COUNT(DISTINCT RECORD:payload:Id::VARCHAR || '@' || "
                f"RECORD:payload:SystemModstamp::VARCHAR) FROM {obj.table} "
                "WHERE RECORD:interval_start::VARCHAR = %(s)s",
                parameters={"s": start.isoformat()},
            )
        )
        for obj in OBJECTS
    }


# --- 1. re-runs ----------------------------------------------------------------------------------------


def test_rerunning_an_interval_duplicates_nothing(dag_env, source, warehouse) -> None:
    state_dir, _ = source
    start = RERUN_END - timedelta(minutes=15)
    valid, reasons = _expected(state_dir, start, RERUN_END)
    assert len(valid) > 10, "the interval holds valid records"
    assert reasons, "and quarantinable mess"
    quarantined = sum(reasons.values())

    # The Salesforce mirror: a future interval of its own (so no other module's interval is ever replaced),
    # with CRM records of this run modified inside it, so every run really loads rows.
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    sf = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()
    account = sf.Account.create({"Name": f"Reliability {RUN}"})["id"]
    lead = sf.Lead.create({"LastName": f"Rerun {RUN}", "Company": f"Reliability {RUN}"})["id"]
    now = datetime.now(UTC)
    sf_end = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + timedelta(days=1)
    sf_start = sf_end - timedelta(minutes=15)

    after = []
    for run in (1, 2):
        dags_test(dag_env, "ingest_cloud_workspaces", RERUN_END)
        dags_test(dag_env, "ingest_salesforce", sf_end)
        after.append((_cloud_counts(warehouse, start), _salesforce_counts(warehouse, sf_start)))
        assert _interval_rows(start) == valid, f"run {run}: exactly the interval's valid events"
        assert _quarantine_reasons(start) == reasons, f"run {run}"
        # The run log keeps one row per run, each with the same reconciled counts.
        assert _log_rows(warehouse, start) == [(len(valid) + quarantined, len(valid), quarantined, len(valid),
                                                quarantined)] * run  # fmt: skip

    (cloud1, sf1), (cloud2, sf2) = after
    assert cloud1[WORKSPACES] == cloud2[WORKSPACES] == (len(valid), len(valid))
    assert cloud1[QUARANTINE] == cloud2[QUARANTINE]
    assert cloud2[QUARANTINE] == (quarantined, quarantined)
    assert (cloud1[INGESTION_LOG], cloud2[INGESTION_LOG]) == ((1,), (2,))
    assert sf1 == sf2, "a re-run of the mirror's interval replaces its rows"
    for table, (rows, distinct) in sf2.items():
        assert rows == distinct, f"{table}: {rows} rows for {distinct} versions"
    for table, record_id in ((raw_table("SALESFORCE.ACCOUNTS"), account), (raw_table("SALESFORCE.LEADS"), lead)):
        assert sf2[table][0] >= 1
        own = warehouse.get_first(
            f"SELECT COUNT(*) FROM {table} WHERE RECORD:payload:Id::VARCHAR = %(id)s",
            parameters={"id": record_id},
        )[0]
        assert own == 1, f"{table}: this run's record mirrored once, not once per run"


# --- 2. source faults ----------------------------------------------------------------------------------


def test_source_faults_lose_and_duplicate_nothing(dag_env, source, warehouse) -> None:
    """A 502, a response slower than the connection's timeout, a truncated page and a 429 with Retry-After,
    all on the same run: each is retried, and the interval is exactly its ground truth."""
    state_dir, _ = source
    env = dict(dag_env)
    conn = json.loads(env[env_var_name(CLOUD_APP_API)])
    conn["extra"] = {**conn.get("extra", {}), "timeout": CLIENT_TIMEOUT}
    env[env_var_name(CLOUD_APP_API)] = json.dumps(conn)
    # Backoff grows with the attempt; the 429's wait is the server's Retry-After, so it goes last (cheapest).
    _fault(kind="server_error", count=1, status=502)
    _fault(kind="slow", count=1, delay=SLOW)
    _fault(kind="truncate", count=1)
    _fault(kind="rate_limit", count=1, retry_after=1)

    result = dags_test(env, "ingest_cloud_workspaces", FAULTS_END)
    output = result.stdout + result.stderr
    assert "(4 retries)" in output, "every fault cost exactly one retry"
    assert "Read timed out" in output, "the slow page timed out"
    assert f"read timeout={float(CLIENT_TIMEOUT)}" in output, "after the connection's timeout, not the default"
    assert requests.get(f"{BASE}/_admin/faults", headers=AUTH, timeout=5).json() == [], "every fault was consumed"

    start = FAULTS_END - timedelta(minutes=15)
    valid, reasons = _expected(state_dir, start, FAULTS_END)
    assert _interval_rows(start) == valid
    assert _quarantine_reasons(start) == reasons
    quarantined = sum(reasons.values())
    assert _log_rows(warehouse, start) == [(len(valid) + quarantined, len(valid), quarantined, len(valid),
                                            quarantined)]  # fmt: skip


# --- 3. bad input --------------------------------------------------------------------------------------


def _good(name: str, **changes: Any) -> dict[str, Any]:
    """A valid event of this run inside the bad-input interval; ``owner_x`` keys change the owner's ``x``."""
    record: dict[str, Any] = {
        "event_id": f"evt_r1{RUN}{name}_0",
        "event_type": "workspace_created",
        "created_at": "2026-11-09T10:05:00.000Z",
        "workspace_id": f"ws_r1{RUN}{name}",
        "workspace_name": f"Reliability {name}",
        "plan": "starter",
        "seats": 5,
        "region": "eu-west-1",
        "owner": {"user_id": f"usr_r1{RUN}{name}", "email": f"{name}.{RUN}@r1-{RUN}.io", "first_name": "Rel",
                  "last_name": "Iable", "company_name": f"R1 {RUN}"},
    }  # fmt: skip
    for key, value in changes.items():
        target, field = (record["owner"], key[6:]) if key.startswith("owner_") else (record, key)
        if value is KeyError:
            del target[field]
        else:
            target[field] = value
    return record


def _bad_inputs(first_generated: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    """(case, record as served, expected quarantine reason or None for a record that must load)."""
    duplicated = _good("gdup")
    return [
        ("invalid JSON text", f'{{"event_id": "evt_r1{RUN}json_0", "workspace_id": "ws_r1', "invalid_json"),
        ("a list, not an object", [f"r1-{RUN}", 2], "wrong_type"),
        ("a number, not an object", 42, "wrong_type"),
        ("null, not an object", None, "wrong_type"),
        ("no email", _good("bnoemail", owner_email=KeyError), "missing_email"),
        ("null email", _good("bnullemail", owner_email=None), "missing_email"),
        ("malformed email", _good("bmalformed", owner_email=f"bmalformed.{RUN}.at.example.com"), "invalid_email"),
        ("email with NUL", _good("bnul", owner_email=f"b\u0000nul.{RUN}@r1-{RUN}.io"), "invalid_email"),
        ("email with a control char", _good("bbell", owner_email=f"b\u0007bell.{RUN}@r1-{RUN}.io"), "invalid_email"),
        ("email with a zero-width space", _good("bzwsp", owner_email=f"bz\u200bwsp.{RUN}@r1-{RUN}.io"),
         "invalid_email"),
        ("email with a bidi override", _good("bbidi", owner_email=f"bbidi.{RUN}@\u202er1-{RUN}.io"), "invalid_email"),
        ("oversized email", _good("boversizedemail", owner_email="x" * 250 + f"@r1-{RUN}.io"), "oversized_field"),
        ("seats as a string", _good("bseatsstr", seats="12"), "wrong_type"),
        ("owner as a string", _good("bownerstr", owner=f"usr_{RUN}"), "wrong_type"),
        ("seats as a float", _good("bseatsfloat", seats=5.5), "wrong_type"),
        ("zero seats", _good("bzeroseats", seats=0), "invalid_value"),
        ("unknown plan", _good("bplan", plan="platinum"), "unknown_plan"),
        ("unknown event type", _good("btype", event_type="workspace_deleted"), "invalid_value"),
        ("NUL in a name", _good("bnulname", owner_first_name="Rel\u0000iable"), "invalid_value"),
        ("missing workspace id", _good("bnows", workspace_id=KeyError), "missing_field"),
        ("missing timestamp", _good("bnots", created_at=KeyError), "missing_field"),
        ("malformed timestamp", _good("bbadts", created_at="09/11/2026 10:05"), "invalid_timestamp"),
        ("timestamp without zone", _good("bnaivets", created_at="2026-11-09T10:05:00"), "invalid_timestamp"),
        ("future timestamp", _good("bfuture", created_at="2099-01-01T00:00:00Z"), "future_timestamp"),
        ("event outside the interval", _good("boutside", created_at="2026-11-09T09:59:59.999Z"), "outside_interval"),
        ("oversized name", _good("boversized", workspace_name="n" * 300), "oversized_field"),
        ("first of a duplicated event", duplicated, None),
        ("duplicate event id", copy.deepcopy(duplicated), "duplicate_event_id"),
        ("duplicate of a generated event", copy.deepcopy(first_generated), "duplicate_event_id"),
        ("unicode names", _good("gunicode", owner_first_name="Zoë Ñandú", owner_last_name="李小龍 Ήρα 🚀",
                                workspace_name="Søren's 👩\u200d💻 workspace"), None),
        ("upper-case padded email", _good("gpadded", owner_email=f"  GPADDED.{RUN}@R1-{RUN}.IO "), None),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def bad_input_run(dag_env, source, warehouse) -> dict[str, Any]:
    """Injects every bad input among the generated events of one interval and runs the ingestion once."""
    state_dir, injected = source
    start = BAD_INPUT_END - timedelta(minutes=15)
    valid, reasons = _expected(state_dir, start, BAD_INPUT_END)  # the generator's own, before injecting
    first_generated = _generated_events(state_dir, start)[0]
    cases = _bad_inputs(first_generated)
    sort_key = {"duplicate of a generated event": first_generated["created_at"]}  # served right after it
    payload = [{"created_at": sort_key.get(case, "2026-11-09T10:05:00Z"), "body": body} for case, body, _ in cases]
    response = requests.post(f"{BASE}/_admin/raw_events", json=payload, headers=AUTH, timeout=10)
    response.raise_for_status()
    injected += [k["key"] for k in response.json()]
    result = dags_test(dag_env, "ingest_cloud_workspaces", BAD_INPUT_END)
    return {"start": start, "valid": valid, "reasons": reasons, "cases": cases, "output": result.stdout}


def _generated_events(state_dir: Path, start: datetime) -> list[dict[str, Any]]:
    from dev.cloud_app.app import visible_events
    from tests.integration.conftest import source_config

    events = visible_events(source_config(), state_dir, start, start + timedelta(minutes=15), datetime.now(UTC))
    return [e for e in events if isinstance(e, dict) and not str(e.get("event_id", "")).startswith("evt_r1")]


def _records(warehouse, table: str, start: datetime) -> list[dict[str, Any]]:
    rows = warehouse.get_records(
        f"SELECT RECORD FROM {table} WHERE RECORD:interval_start::VARCHAR = %(s)s",
        parameters={"s": start.isoformat()},
    )
    return [json.loads(row[0]) for row in rows]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def test_every_bad_input_is_quarantined_with_its_reason(bad_input_run, warehouse) -> None:
    quarantine = _records(warehouse, QUARANTINE, bad_input_run["start"])
    # Identical bodies (a duplicate and its original) share a key: each key expects its cases' reasons.
    expected: dict[str, list[str]] = {}
    for _, body, reason in bad_input_run["cases"]:
        expected.setdefault(_key(body), []).extend([reason] if reason else [])
    for case, body, _ in bad_input_run["cases"]:
        rows = [r for r in quarantine if _key(r["payload"]) == _key(body)]
        assert sorted(r["reason"] for r in rows) == sorted(expected[_key(body)]), (
            f"{case}: {[(r['reason'], r['detail']) for r in rows]}"
        )
        assert all(r["detail"] for r in rows), f"{case}: a reason comes with a detail"
    # Nothing else was quarantined: the generator's own mess plus exactly the injected bad inputs.
    injected = Counter(reason for _, _, reason in bad_input_run["cases"] if reason)
    assert Counter(r["reason"] for r in quarantine) == bad_input_run["reasons"] + injected
    assert len(injected) >= 10, "at least ten kinds of bad input"


def test_good_records_of_the_interval_load_and_the_run_reconciles(bad_input_run, warehouse) -> None:
    start = bad_input_run["start"]
    good = sorted(body["event_id"] for _, body, reason in bad_input_run["cases"] if reason is None)
    assert _interval_rows(start) == sorted(bad_input_run["valid"] + good)
    loaded = {r["payload"]["event_id"]: r["payload"] for r in _records(warehouse, WORKSPACES, start)}
    for case, body, reason in bad_input_run["cases"]:
        if reason is None:
            assert loaded[body["event_id"]] == body, f"{case}: landed exactly as it came"
    quarantined = sum(bad_input_run["reasons"].values()) + sum(1 for *_, reason in bad_input_run["cases"] if reason)
    valid = len(bad_input_run["valid"]) + len(good)
    assert _log_rows(warehouse, start) == [(valid + quarantined, valid, quarantined, valid, quarantined)]


def test_no_bad_record_reaches_the_raw_table(bad_input_run, warehouse) -> None:
    """Across every interval, this run's workspaces in RAW are exactly the good ones, each once."""
    rows = warehouse.get_records(
        "SELECT RECORD:payload:workspace_id::VARCHAR, RECORD:payload:owner:email::VARCHAR "
        f"FROM {WORKSPACES} WHERE RECORD:payload:workspace_id::VARCHAR LIKE %(p)s "
        "OR RECORD:payload:owner:email::VARCHAR LIKE %(e)s",
        parameters={"p": f"ws_r1{RUN}%", "e": f"%{RUN}%"},
    )
    good = [body for _, body, reason in bad_input_run["cases"] if reason is None]
    assert sorted(rows) == sorted((b["workspace_id"], b["owner"]["email"]) for b in good)


def test_no_bad_email_reaches_the_salesforce_contacts_mart(bad_input_run, dag_env) -> None:
    """dbt builds the contacts sync's lineage (seeds, staging, intermediate, the mart) into a database of its own
    over the same raw tables (the shared ANALYTICS is untouched): the good people are there, no bad email is."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    database = f"ANALYTICS_R1_{RUN}".upper()
    env = {**dag_env, "SNOWFLAKE_ANALYTICS_DATABASE": database}
    # Models and seeds only: the data tests read every module's rows (and other marts); this asks what the mart
    # holds. Its enforced contract is still checked when it is built.
    dbt = dbt_cli("build", "--select", "+sync_salesforce_contacts", "--exclude", "resource_type:test", env=env,
                  under=TEST_STATE / f"dbt-r1-{RUN}")  # fmt: skip
    assert dbt.returncode == 0, dbt.stdout[-3000:]
    emails = {
        row[0]
        for row in SnowflakeHook(snowflake_conn_id=SNOWFLAKE).get_records(
            f"SELECT LOWER(EMAIL) FROM {database}.MARTS.SYNC_SALESFORCE_CONTACTS WHERE EMAIL LIKE %(e)s",
            parameters={"e": f"%{RUN}%"},
        )
    }
    good = {b["owner"]["email"].strip().lower() for _, b, reason in bad_input_run["cases"] if reason is None}
    assert emails == good


# --- landing: what the extraction writes for inputs the warehouse cannot see --------------------------


class _MemoryS3:
    """The three S3Hook calls the extraction makes, in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def list_keys(self, bucket_name: str, prefix: str) -> list[str]:
        return [k for k in self.objects if k.startswith(prefix)]

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key)

    def load_bytes(self, body: bytes, key: str, bucket_name: str, replace: bool) -> None:
        self.objects[key] = body

    def landed(self, prefix: str) -> list[dict[str, Any]]:
        return [json.loads(line) for k, v in sorted(self.objects.items()) if prefix in k
                for line in gzip.decompress(v).splitlines()]  # fmt: skip


def _extract(records: list[Any]) -> tuple[Any, _MemoryS3]:
    s3 = _MemoryS3()
    start = BAD_INPUT_END - timedelta(minutes=15)
    return extract_interval([records], s3, "landing", start, BAD_INPUT_END), s3  # type: ignore[arg-type]


def test_an_event_embedded_as_a_json_string_lands_as_an_object() -> None:
    result, s3 = _extract([json.dumps(_good("gembedded"))])
    assert (result.valid, result.quarantined) == (1, {})
    assert [r["payload"]["event_id"] for r in s3.landed("workspaces/")] == [f"evt_r1{RUN}gembedded_0"]


def test_a_lone_surrogate_is_quarantined_without_stopping_the_interval() -> None:
    bad = _good("bsurrogate", owner_email=f"b\ud800surrogate.{RUN}@r1-{RUN}.io")
    result, s3 = _extract([bad, _good("gafter")])
    assert (result.valid, result.quarantined) == (1, {"invalid_email": 1})
    assert [r["reason"] for r in s3.landed("workspaces_quarantine/")] == ["invalid_email"]


def test_the_lone_surrogate_is_caught_by_the_contract() -> None:
    """The part the contract owns: the record is quarantined with a reason, with an encodable detail."""
    from include.cloud_app.schema import classify

    start = BAD_INPUT_END - timedelta(minutes=15)
    bad = _good("bsurrogate", owner_email=f"b\ud800surrogate.{RUN}@r1-{RUN}.io")
    event, reason, detail = classify(bad, start, BAD_INPUT_END, datetime.now(UTC))
    assert (event, reason) == (None, "invalid_email")
    assert "lone surrogate" in detail
    detail.encode()  # the detail is landed: it must be encodable
