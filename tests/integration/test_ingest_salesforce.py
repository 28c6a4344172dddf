"""The Salesforce mirror DAG against the Salesforce emulator: full first load, incremental changes by
SystemModstamp, re-runs that replace their interval instead of duplicating it, and deletions and merges, which
only Salesforce's queryAll resource returns."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from include.connections import SALESFORCE, SNOWFLAKE
from include.salesforce.mirror import OBJECTS, by_name
from include.settings import raw_table
from tests.integration.conftest import TEST_PORTS, dags_test
from tests.integration.salesforce_fixtures import merge, results

pytestmark = pytest.mark.long_running(minutes=1.3)


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
    """Every record of the object the mirror should hold: with the recycle bin's (queryAll), where it has one."""
    recycle_bin = "IsDeleted" in by_name(name).fields
    return {r["Id"] for r in sf.query_all(f"SELECT Id FROM {name}", include_deleted=recycle_bin)["records"]}


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
        assert raw, f"{obj.name}: the org has records, so the mirror must have loaded some"
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


def _raw_versions(warehouse, table: str, interval_start: str) -> dict[str, dict[str, object]]:
    """Id -> (IsDeleted, MasterRecordId, AccountId) of the versions one interval loaded."""
    rows = warehouse.get_records(
        "SELECT RECORD:payload:Id::VARCHAR, RECORD:payload:IsDeleted::BOOLEAN, RECORD:payload:MasterRecordId::VARCHAR, "
        f"RECORD:payload:AccountId::VARCHAR FROM {table} WHERE RECORD:interval_start::VARCHAR = %(s)s",
        parameters={"s": interval_start},
    )
    return {r[0]: {"IsDeleted": r[1], "MasterRecordId": r[2], "AccountId": r[3]} for r in rows}


def test_deletions_and_merges_reach_the_raw_tables(dag_env, hooks) -> None:
    """A Lead, a Contact and an Account deleted in Salesforce, and an Account merged into another: the next interval
    loads them with IsDeleted = true (the merged-away one naming its master in MasterRecordId), and the contact the
    merge moved with its new AccountId. `query` never returns the recycle bin: only queryAll does."""
    sf, warehouse = hooks
    lead = sf.Lead.create({"LastName": "Deleted", "Company": "Mirror Deletions", "Email": "gone@mirror-del.io"})["id"]
    contact = sf.Contact.create({"LastName": "Deleted", "Email": "gone@mirror-del.io"})["id"]
    account = sf.Account.create({"Name": "Mirror Deleted Account"})["id"]
    master = sf.Account.create({"Name": "Mirror Merge Master"})["id"]
    merged = sf.Account.create({"Name": "Mirror Merged Away"})["id"]
    moved = sf.Contact.create({"LastName": "Moved", "AccountId": merged})["id"]
    lead_master = sf.Lead.create({"LastName": "Kept", "Company": "Mirror Lead Merge", "Email": "k@lead-merge.io"})["id"]
    lead_merged = sf.Lead.create({"LastName": "Dup", "Company": "Mirror Lead Merge", "Email": "k@lead-merge.io"})["id"]
    live_end = _next_boundary(datetime.now(UTC)) + timedelta(minutes=30)  # after the intervals the tests above used
    dags_test(dag_env, "ingest_salesforce", live_end)
    live = {
        name: _raw_versions(warehouse, raw_table(table), (live_end - timedelta(minutes=15)).isoformat())
        for name, table in (("Lead", "SALESFORCE.LEADS"), ("Contact", "SALESFORCE.CONTACTS"),
                            ("Account", "SALESFORCE.ACCOUNTS"))
    }  # fmt: skip
    assert {live["Lead"][lead]["IsDeleted"], live["Contact"][contact]["IsDeleted"]} == {False}
    assert live["Account"][account]["IsDeleted"] is False

    sf.Lead.delete(lead)
    sf.Contact.delete(contact)
    sf.Account.delete(account)
    soap = f"https://localhost:{TEST_PORTS['LOCALCLOUD_SALESFORCE_PORT']}/services/Soap/u/59.0"
    status, answer = merge(
        sf.session_id, ("Account", {"Id": master}, [merged]), ("Lead", {"Id": lead_master}, [lead_merged]), url=soap
    )
    assert status == 200
    assert [r["success"] for r in results(answer, "mergeResponse")] == [True, True]
    assert not sf.query_all(f"SELECT Id FROM Account WHERE Id IN ('{account}', '{merged}')")["records"], "query: gone"

    deleted_end = live_end + timedelta(minutes=15)
    dags_test(dag_env, "ingest_salesforce", deleted_end)
    start = (deleted_end - timedelta(minutes=15)).isoformat()
    leads = _raw_versions(warehouse, raw_table("SALESFORCE.LEADS"), start)
    contacts = _raw_versions(warehouse, raw_table("SALESFORCE.CONTACTS"), start)
    accounts = _raw_versions(warehouse, raw_table("SALESFORCE.ACCOUNTS"), start)
    assert leads.get(lead, {}).get("IsDeleted") is True, leads.get(lead)
    assert contacts.get(contact, {}).get("IsDeleted") is True, contacts.get(contact)
    assert accounts.get(account, {}).get("IsDeleted") is True, accounts.get(account)
    assert accounts.get(merged) == {"IsDeleted": True, "MasterRecordId": master, "AccountId": None}
    assert accounts[master]["IsDeleted"] is False, "a merge modifies the master too"
    assert contacts[moved] == {"IsDeleted": False, "MasterRecordId": None, "AccountId": master}
    assert leads[lead_merged]["IsDeleted"] is True
    assert leads[lead_merged]["MasterRecordId"] == lead_master, "leads merge too: the mirror keeps the master"
    for obj in OBJECTS:
        assert set(_raw_ids(warehouse, obj.table)) == _crm_ids(sf, obj.name), obj.name


def test_records_gone_from_the_recycle_bin_are_reconciled_as_deleted(dag_env, hooks) -> None:
    """An account mirrored live, then deleted and purged (emptyRecycleBin: queryAll never shows it): the mirror
    cannot see the deletion; the daily reconciliation lands a tombstone, its last mirrored version with
    IsDeleted = true, and the warehouse no longer holds it as live. A re-run of the day replaces its tombstones."""
    from include.salesforce.mirror import by_name as mirrored
    from include.salesforce.reconciliation import TABLE, warehouse_live_ids
    from tests.integration.salesforce_fixtures import empty_recycle_bin

    sf, warehouse = hooks
    kept = sf.Account.create({"Name": "Reconcile Kept", "Website": "https://kept.example"})["id"]
    purged = sf.Account.create({"Name": "Reconcile Purged", "Website": "https://purged.example"})["id"]
    end = _next_boundary(datetime.now(UTC)) + timedelta(hours=2)  # after the intervals the tests above used
    dags_test(dag_env, "ingest_salesforce", end)
    assert {kept, purged} <= set(warehouse_live_ids(warehouse, mirrored("Account")))

    sf.Account.delete(purged)
    soap = f"https://localhost:{TEST_PORTS['LOCALCLOUD_SALESFORCE_PORT']}/services/Soap/u/59.0"
    status, answer = empty_recycle_bin(sf.session_id, purged, url=soap)
    assert (status, [r["success"] for r in results(answer, "emptyRecycleBinResponse")]) == (200, [True])
    dags_test(dag_env, "ingest_salesforce", end + timedelta(minutes=15))
    assert purged in warehouse_live_ids(warehouse, mirrored("Account")), "the mirror cannot see a purge"

    day_end = end.replace(hour=5, minute=0) + timedelta(days=1)
    for _ in range(2):  # the second run of the same day replaces the first one's tombstones
        dags_test(dag_env, "reconcile_salesforce_deletions", day_end)
    tombstones = warehouse.get_records(
        f"SELECT RECORD:payload:Id::VARCHAR, RECORD:payload:IsDeleted::BOOLEAN, RECORD:payload:Website::VARCHAR "
        f"FROM {raw_table(TABLE)} WHERE RECORD:object::VARCHAR = 'Account'"
    )
    assert [row for row in tombstones if row[0] == purged] == [(purged, True, "https://purged.example")]
    assert kept not in {row[0] for row in tombstones}
    live = warehouse_live_ids(warehouse, mirrored("Account"))
    assert purged not in live
    assert kept in live
