"""The Salesforce mirror reads exactly the fields the pipeline uses: what dbt staging reads from the raw payload,
plus the fields the mirror itself filters and orders by. A field mirrored but never read is one more way for the
SOQL to fail on an org without it (a custom field, or one hidden by field-level security); a field read in
staging but not mirrored is silently null. Either drift fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from include.salesforce import mirror

STAGING = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging" / "salesforce"


def staging_reads() -> dict[str, set[str]]:
    """Raw table (e.g. SALESFORCE.LEADS) -> payload fields its staging models read (`record:payload:<Field>`): the
    object's model (live records) and, for some, its stg_salesforce__deleted_* model (records in the recycle bin)."""
    reads: dict[str, set[str]] = {}
    for model in sorted(STAGING.glob("stg_salesforce__*.sql")):
        sql = model.read_text()
        (table,) = re.findall(r"(?:source\('salesforce',|salesforce_records\()\s*'(\w+)'", sql)
        reads.setdefault(f"SALESFORCE.{table.upper()}", set()).update(re.findall(r"record:payload:(\w+)", sql))
    return reads


def test_the_mirror_reads_exactly_what_staging_reads_plus_its_own_system_fields() -> None:
    reads = staging_reads()
    assert set(reads) == {obj.raw_table for obj in mirror.OBJECTS}, "staging models for every mirrored object"
    for obj in mirror.OBJECTS:
        expected = reads[obj.raw_table] | set(mirror.MIRROR_OWN_FIELDS)
        assert set(obj.fields) == expected, (
            f"{obj.name}: mirrored but unread {sorted(set(obj.fields) - expected)}, "
            f"read but not mirrored {sorted(expected - set(obj.fields))}"
        )
        assert len(obj.fields) == len(set(obj.fields)), f"{obj.name}: a field is listed twice"


def test_the_user_query_does_not_select_an_undocumented_custom_field() -> None:
    """Region__c was selected and used nowhere: on an org without it the User SOQL failed and nothing mirrored."""
    soql = mirror.build_soql(mirror.by_name("User"), mirror.EPOCH, datetime(2026, 1, 1, tzinfo=UTC))
    assert "Region__c" not in soql


def test_the_field_list_is_exposed_as_data_for_a_preflight_check() -> None:
    fields = mirror.mirrored_fields()
    assert set(fields) == {"User", "Account", "Lead", "Contact", "Opportunity", "Task", "LeadStatus"}
    for name, selected in fields.items():
        soql = mirror.build_soql(mirror.by_name(name), mirror.EPOCH, datetime(2026, 1, 1, tzinfo=UTC))
        assert soql.startswith(f"SELECT {', '.join(selected)} FROM {name} ")
    custom = {(name, f) for name, selected in fields.items() for f in selected if f.endswith("__c")}
    # Every custom field the mirror needs is one the syncs write too (docs/fork-this-template.md lists them).
    assert {f for _, f in custom} <= {"Dwh_External_Id__c", "Workspace_Id__c"}, custom


@pytest.mark.parametrize("field", ["Region__c", "LastModifiedDate"])
def test_fields_nothing_reads_are_not_mirrored(field: str) -> None:
    assert all(field not in obj.fields for obj in mirror.OBJECTS)


class _RecordingWarehouse:
    """SnowflakeHook stand-in: records statements; the high-water mark is a day old; COPY loads every record."""

    def __init__(self, loaded: int) -> None:
        self.statements: list[str] = []
        self.loaded = loaded

    def get_first(self, sql: str, parameters: object = None) -> tuple:
        self.statements.append(sql)
        return ("2026-11-24T16:00:00.000+0000",)

    def run(self, sql: str, parameters: object = None, handler: object = None) -> object:
        self.statements.append(sql)
        if handler is None:
            return None
        rows = [("s3://b/part-0000.json.gz", "LOADED", self.loaded, 0, None)]
        cursor = type("Cursor", (), {"description": [(c,) for c in ("file", "status", "rows_loaded",
                                                                     "errors_seen", "first_error")],
                                     "fetchall": lambda _self: rows})()  # fmt: skip
        return handler(cursor)  # type: ignore[operator]


class _Landing:
    def list_keys(self, bucket_name: str, prefix: str) -> list[str]:
        return []

    def load_bytes(self, body: bytes, key: str, bucket_name: str, replace: bool) -> None:
        pass


class _Salesforce:
    def __init__(self, records: list[dict]) -> None:
        self.records = records
        self.soql: list[str] = []

    def query_all_iter(self, soql: str, **kwargs: object) -> list[dict]:
        self.soql.append(soql)
        return self.records


def test_lead_statuses_are_read_whole_and_replace_the_raw_table() -> None:
    """A Lead Status value removed from the picklist removes its LeadStatus row (no IsDeleted, no SystemModstamp
    change to see): an incremental read would keep a removed converted status in the warehouse forever."""
    statuses = [{"Id": "01J000000000001AAA", "ApiName": "Qualified", "IsConverted": True, "SortOrder": 1}]
    salesforce, warehouse = _Salesforce(statuses), _RecordingWarehouse(loaded=1)
    interval = (datetime(2026, 11, 25, 16, 0, tzinfo=UTC), datetime(2026, 11, 25, 16, 15, tzinfo=UTC))
    result = mirror.mirror_object(salesforce, _Landing(), warehouse, "b", mirror.by_name("LeadStatus"), *interval)  # type: ignore[arg-type]
    assert (result.extracted, result.loaded) == (1, 1)
    assert f"SystemModstamp >= {mirror.soql_datetime(mirror.EPOCH)} " in salesforce.soql[0], "no high-water mark"
    table = mirror.by_name("LeadStatus").table
    assert f"DELETE FROM {table}" in warehouse.statements, "the previous read is replaced whole"


def test_other_objects_stay_incremental() -> None:
    salesforce, warehouse = _Salesforce([]), _RecordingWarehouse(loaded=0)
    interval = (datetime(2026, 11, 25, 16, 0, tzinfo=UTC), datetime(2026, 11, 25, 16, 15, tzinfo=UTC))
    mirror.mirror_object(salesforce, _Landing(), warehouse, "b", mirror.by_name("Lead"), *interval)  # type: ignore[arg-type]
    assert "SystemModstamp >= 2026-11-24T15:55:00Z " in salesforce.soql[0], "high-water mark minus the overlap"
    assert not any(s == f"DELETE FROM {mirror.by_name('Lead').table}" for s in warehouse.statements)


class RecordingSalesforce:
    """Stands in for simple-salesforce's client: records how each query was sent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def query_all_iter(self, query: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append((query, kwargs))
        yield {"attributes": {"type": "Account"}, "Id": "001000000000001AAA", "IsDeleted": True}


@pytest.mark.parametrize("obj", mirror.OBJECTS, ids=lambda obj: obj.name)
def test_objects_with_a_recycle_bin_are_read_through_query_all(obj: mirror.MirroredObject) -> None:
    """`query` leaves deleted and merged-away records out; only `queryAll` returns them (with IsDeleted = true).
    simple-salesforce sends a SOQL to queryAll when ``include_deleted=True``. An object without IsDeleted (User:
    users are deactivated, never deleted) has no recycle bin: query."""
    client = RecordingSalesforce()
    records = list(mirror.extract(client, obj, mirror.EPOCH, datetime(2026, 1, 1, tzinfo=UTC)))
    assert records == [{"Id": "001000000000001AAA", "IsDeleted": True}], "attributes stripped, nothing else"
    ((_, kwargs),) = client.calls
    assert kwargs == {"include_deleted": "IsDeleted" in obj.fields}


def test_every_object_the_pipeline_writes_is_mirrored_with_its_deletions() -> None:
    assert {"Account", "Contact", "Lead", "Opportunity", "Task"} <= {
        obj.name for obj in mirror.OBJECTS if obj.includes_deleted
    }
    assert not mirror.by_name("User").includes_deleted


def test_merged_away_records_are_mirrored_with_their_master() -> None:
    """A merge deletes the losing Account, Contact or Lead and names the winner in MasterRecordId: staging needs it
    for the accounts and contacts this pipeline follows into a merge."""
    for name in ("Account", "Contact"):
        assert "MasterRecordId" in mirror.by_name(name).fields, name


def test_fields_land_under_the_names_the_mirror_selected_whatever_the_orgs_capitals() -> None:
    """SOQL matches field names without regard to case; Snowflake's VARIANT paths do not. A record carrying the org's
    own capitals (DWH_External_ID__c) lands as staging reads it (record:payload:Dwh_External_Id__c)."""
    obj = mirror.by_name("Account")
    client = _Salesforce(
        [{"attributes": {"type": "Account"}, "ID": "001A", "DWH_External_ID__c": "acct-1", "name": "Acme"}]
    )
    (record,) = mirror.extract(client, obj, mirror.EPOCH, datetime(2026, 1, 1, tzinfo=UTC))
    assert record == {"Id": "001A", "Dwh_External_Id__c": "acct-1", "Name": "Acme"}
