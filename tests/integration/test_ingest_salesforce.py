"""The Salesforce mirror DAG against the Salesforce emulator: full first load, incremental changes by
SystemModstamp, and re-runs that replace their interval instead of duplicating it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from include.connections import SALESFORCE, SNOWFLAKE
from include.salesforce.mirror import OBJECTS
from include.settings import raw_table
from tests.integration.conftest import dags_test


def _next_boundary(moment: datetime) -> datetime:
    """The first 15-minute boundary strictly after ``moment`` (a run's data interval ends there)."""
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor + timedelta(minutes=15)


@pytest.fixture(scope="module")
def hooks(dag_env):
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn(), SnowflakeHook(snowflake_conn_id=SNOWFLAKE)


def _crm_ids(sf, name: str) -> set[str]:
    return {r["Id"] for r in sf.query_all(f"SELECT Id FROM {name}")["records"]}


def _raw_ids(warehouse, table: str, interval_start: str | None = None) -> Counter:
    sql = f"SELECT RECORD:payload:Id::VARCHAR FROM {table}"
    if interval_start:
        sql += " WHERE RECORD:interval_start::VARCHAR = %(s)s"
    rows = warehouse.get_records(sql, parameters={"s": interval_start} if interval_start else None)
    return Counter(r[0] for r in rows)


def test_mirror_loads_every_object_then_only_changes(dag_env, hooks) -> None:
    sf, warehouse = hooks
    first_end = _next_boundary(datetime.now(UTC) + timedelta(minutes=1))
    dags_test(dag_env, "ingest_salesforce", first_end)
    for obj in OBJECTS:
        raw = _raw_ids(warehouse, obj.table)
        assert set(raw) == _crm_ids(sf, obj.name), obj.name
        # Other tests may have mirrored before (raw keeps each run's versions); this run's own load is exact.
        own = _raw_ids(warehouse, obj.table, (first_end - timedelta(minutes=15)).isoformat())
        assert max(own.values(), default=1) == 1, f"{obj.name}: one row per record in a load"

    # A change made after the first run shows up in the next interval (which starts from the high-water
    # mark minus the overlap), with its new values.
    lead = sf.query("SELECT Id FROM Lead ORDER BY CreatedDate LIMIT 1")["records"][0]["Id"]
    sf.Lead.update(lead, {"Status": "Working - Contacted"})
    new = sf.Account.create({"Name": "Mirror Test Account"})["id"]
    second_end = first_end + timedelta(minutes=15)
    dags_test(dag_env, "ingest_salesforce", second_end)
    second_start = (second_end - timedelta(minutes=15)).isoformat()
    in_second = warehouse.get_records(
        "SELECT RECORD:object::VARCHAR, RECORD:payload:Id::VARCHAR, RECORD:payload:Status::VARCHAR "
        f"FROM {raw_table('SALESFORCE.LEADS')} WHERE RECORD:interval_start::VARCHAR = %(s)s",
        parameters={"s": second_start},
    )
    assert ("Lead", lead, "Working - Contacted") in in_second
    assert new in _raw_ids(warehouse, raw_table("SALESFORCE.ACCOUNTS"))
    for obj in OBJECTS:
        assert set(_raw_ids(warehouse, obj.table)) == _crm_ids(sf, obj.name), obj.name

    # Re-running the second interval replaces its rows: nothing doubles.
    before = {obj.table: _raw_ids(warehouse, obj.table) for obj in OBJECTS}
    dags_test(dag_env, "ingest_salesforce", second_end)
    assert {obj.table: _raw_ids(warehouse, obj.table) for obj in OBJECTS} == before


def test_rerunning_a_past_interval_keeps_records_modified_since(dag_env, hooks) -> None:
    """Salesforce has only a record's current version: a re-run must load it, not drop the record."""
    import time

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.connections import LANDING_S3
    from include.salesforce.mirror import by_name, mirror_object
    from include.settings import landing_bucket

    sf, warehouse = hooks
    account = sf.Account.create({"Name": "Rerun Survivor"})["id"]
    end = datetime.now(UTC) + timedelta(seconds=1)
    start = end - timedelta(minutes=15)
    time.sleep(2)  # the interval is over

    def rerun() -> dict[str, str]:
        mirror_object(sf, S3Hook(aws_conn_id=LANDING_S3), warehouse, landing_bucket(), by_name("Account"), start, end)
        rows = warehouse.get_records(
            f"SELECT RECORD:payload:Id::VARCHAR, RECORD:payload:Name::VARCHAR FROM {raw_table('SALESFORCE.ACCOUNTS')} "
            "WHERE RECORD:interval_start::VARCHAR = %(s)s AND RECORD:payload:Id::VARCHAR = %(id)s",
            parameters={"s": start.isoformat(), "id": account},
        )
        return dict(rows)

    assert rerun() == {account: "Rerun Survivor"}
    sf.Account.update(account, {"Name": "Rerun Survivor (renamed after the interval)"})
    assert rerun() == {account: "Rerun Survivor (renamed after the interval)"}, "the re-run dropped the record"
