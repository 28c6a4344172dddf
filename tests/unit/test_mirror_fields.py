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
        (table,) = re.findall(r"source\('salesforce',\s*'(\w+)'\)", sql)
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
    assert set(fields) == {"User", "Account", "Lead", "Contact", "Opportunity", "Task"}
    for name, selected in fields.items():
        soql = mirror.build_soql(mirror.by_name(name), mirror.EPOCH, datetime(2026, 1, 1, tzinfo=UTC))
        assert soql.startswith(f"SELECT {', '.join(selected)} FROM {name} ")
    custom = {(name, f) for name, selected in fields.items() for f in selected if f.endswith("__c")}
    # Every custom field the mirror needs is one the syncs write too (docs/fork-this-template.md lists them).
    assert {f for _, f in custom} <= {"Dwh_External_Id__c", "Workspace_Id__c"}, custom


@pytest.mark.parametrize("field", ["Region__c", "LastModifiedDate"])
def test_fields_nothing_reads_are_not_mirrored(field: str) -> None:
    assert all(field not in obj.fields for obj in mirror.OBJECTS)


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
