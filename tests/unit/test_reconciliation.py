"""The daily reconciliation of Ids: which records Salesforce no longer has, and how they are marked deleted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from include.salesforce.mirror import by_name
from include.salesforce.reconciliation import (
    LAST_VERSIONS_BATCH,
    last_versions,
    missing_ids,
    reconciled_objects,
    salesforce_datetime,
    tombstone,
)


def test_every_deletable_mirrored_object_is_reconciled() -> None:
    assert [obj.name for obj in reconciled_objects()] == ["Account", "Lead", "Contact", "Opportunity", "Task"]


def test_a_record_live_in_the_warehouse_but_not_in_salesforce_is_missing() -> None:
    warehouse = ["001000000000001AAA", "001000000000002AAA", "001000000000003AAA"]
    salesforce = ["001000000000001AAA", "001000000000003", "001000000000009AAA"]  # 15- and 18-character forms
    assert missing_ids(warehouse, salesforce) == ["001000000000002AAA"]
    assert missing_ids([], salesforce) == []


def test_a_tombstone_is_the_last_version_deleted_and_ordered_after_it() -> None:
    last = {
        "Id": "001A",
        "IsDeleted": False,
        "Website": "https://acme.io",
        "SystemModstamp": "2026-11-25T16:42:10.000+0000",
    }
    seen = datetime(2026, 12, 1, 5, 0, 3, 250000, tzinfo=UTC)
    record = tombstone(by_name("Account"), last, seen, {"interval_start": "s", "interval_end": "e"})
    assert record["payload"] == {**last, "IsDeleted": True, "SystemModstamp": "2026-12-01T05:00:03.250+0000"}
    assert (record["object"], record["interval_start"]) == ("Account", "s")
    assert record["payload"]["SystemModstamp"] > last["SystemModstamp"], "staging orders versions by this text"
    assert salesforce_datetime(seen) == "2026-12-01T05:00:03.250+0000"


class _Warehouse:
    """Answers each query with the payloads of the Ids bound to it, and records the queries."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, dict]] = []

    def get_records(self, sql: str, parameters: dict) -> list[tuple[str]]:
        self.queries.append((sql, parameters))
        ids = [value for name, value in parameters.items() if name.startswith("id_")]
        return [(json.dumps({"Id": record_id, "Name": f"n-{record_id}"}),) for record_id in ids]


def test_the_last_versions_of_the_missing_records_are_read_in_bound_batches() -> None:
    ids = [f"001{n:015d}" for n in range(LAST_VERSIONS_BATCH * 2 + 1)]
    warehouse = _Warehouse()
    versions = last_versions(warehouse, by_name("Account"), ids, replacing="2026-12-01T05:00:00+00:00")
    assert list(versions) == ids
    assert versions[ids[-1]] == {"Id": ids[-1], "Name": f"n-{ids[-1]}"}
    batch_sizes = [len([k for k in p if k.startswith("id_")]) for _, p in warehouse.queries]
    assert batch_sizes == [LAST_VERSIONS_BATCH, LAST_VERSIONS_BATCH, 1]
    assert all(ids[0] not in sql for sql, _ in warehouse.queries), "Ids are bound, never spliced into the SQL"
    assert {p["replacing"] for _, p in warehouse.queries} == {"2026-12-01T05:00:00+00:00"}
