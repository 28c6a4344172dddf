"""Find the records Salesforce no longer has and mark them deleted in the warehouse.

The mirror sees a deletion only while the record is in the recycle bin (``queryAll`` returns it with
``IsDeleted = true``). Salesforce keeps a deleted record there 15 days at most, purges it earlier when the bin is
full, and a hard delete or an emptied bin skips it (SOAP API, ``emptyRecycleBin()``:
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_emptyrecyclebin.htm; REST,
``queryAll``: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm).
Such a record would stay live in the warehouse forever. So, once a day, every Id the warehouse holds as live is
compared with the Ids Salesforce still has (``queryAll`` with ``IsDeleted = false``: live records, archived
activities included, which plain ``query`` leaves out), and each one Salesforce no longer has gets a *tombstone*
in ``SALESFORCE.RECONCILED_DELETIONS``: the record's Id with ``IsDeleted = true``, stamped when the absence was
seen. dbt staging reads the tombstones beside the mirrored versions (macro ``salesforce_records``), so such a
record is deleted from then on, exactly like one the mirror saw in the recycle bin; a record restored later comes
back with a newer ``SystemModstamp`` and is live again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from include.landing import PartWriter, clear_prefix, interval_prefix
from include.salesforce.mirror import OBJECTS, MirroredObject
from include.settings import raw_table
from include.warehouse.loading import replace_interval

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

TABLE = "SALESFORCE.RECONCILED_DELETIONS"
PREFIX_ROOT = "salesforce/reconciled_deletions"
REASON = "not returned by Salesforce (queryAll, IsDeleted = false): purged from the recycle bin or hard-deleted"


def reconciled_objects() -> tuple[MirroredObject, ...]:
    """The mirrored objects that can be deleted (they have IsDeleted; User is deactivated, LeadStatus is a
    snapshot read whole on every run)."""
    return tuple(obj for obj in OBJECTS if obj.includes_deleted and not obj.snapshot)


def salesforce_datetime(moment: datetime) -> str:
    """The instant as Salesforce writes SystemModstamp (2026-11-25T16:42:10.000+0000), so it orders with them."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def missing_ids(warehouse_live: Iterable[str], salesforce_live: Iterable[str]) -> list[str]:
    """Ids the warehouse holds as live that Salesforce does not have (compared on the 15-character Id prefix, so
    a 15- and an 18-character form of one Id are the same record)."""
    present = {record_id[:15] for record_id in salesforce_live}
    return sorted(record_id for record_id in set(warehouse_live) if record_id[:15] not in present)


def tombstone(
    obj: MirroredObject, last_version: Mapping[str, Any], seen_at: datetime, envelope: Mapping[str, str]
) -> dict[str, Any]:
    """A record Salesforce no longer has, shaped like a mirrored deleted record: its last mirrored version (what
    staging needs to keep honouring the deletion, e.g. a deleted account's website) with IsDeleted = true, stamped
    when the absence was seen."""
    payload = {**last_version, "IsDeleted": True, "SystemModstamp": salesforce_datetime(seen_at)}
    return {**envelope, "object": obj.name, "reason": REASON, "payload": payload}


# Ids per query when reading the last versions of the missing records (an IN list of bind variables).
LAST_VERSIONS_BATCH = 500


def _newest_versions_sql(obj: MirroredObject, select: str, where: str = "") -> str:
    """The newest version of each record (mirrored or reconciled) that is live. The tombstones of the interval being
    replaced do not count, so a re-run of the interval finds the same records missing again, not none."""
    return f"""
        with versions as (
            select record:payload as payload from {obj.table}
            union all
            select record:payload from {raw_table(TABLE)}
            where record:object::varchar = %(object)s and record:interval_start::varchar != %(replacing)s
        ),
        newest as (
            select payload, coalesce(payload:IsDeleted::boolean, false) as is_deleted
            from versions
            {where}
            qualify row_number() over (
                partition by payload:Id::varchar
                order by payload:SystemModstamp::varchar desc, coalesce(payload:IsDeleted::boolean, false) desc
            ) = 1
        )
        select {select} from newest where not is_deleted
    """


def warehouse_live_ids(warehouse: SnowflakeHook, obj: MirroredObject, replacing: str | None = None) -> list[str]:
    """The Ids whose newest version in the warehouse is live (only Ids: the comparison reads no payloads)."""
    parameters = {"object": obj.name, "replacing": replacing or ""}
    rows = warehouse.get_records(_newest_versions_sql(obj, "payload:Id::varchar"), parameters=parameters)
    return [str(row[0]) for row in rows]


def last_versions(
    warehouse: SnowflakeHook, obj: MirroredObject, ids: Sequence[str], replacing: str | None = None
) -> dict[str, dict[str, Any]]:
    """Id -> the newest live version's payload, for ``ids`` only (the records found missing), in batches."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), LAST_VERSIONS_BATCH):
        batch = list(ids[start : start + LAST_VERSIONS_BATCH])
        names = [f"id_{n}" for n in range(len(batch))]
        where = f"where payload:Id::varchar in ({', '.join(f'%({name})s' for name in names)})"
        parameters = {"object": obj.name, "replacing": replacing or "", **dict(zip(names, batch, strict=True))}
        for (payload,) in warehouse.get_records(_newest_versions_sql(obj, "payload", where), parameters=parameters):
            record = json.loads(payload) if isinstance(payload, str) else dict(payload)
            found[str(record["Id"])] = record
    return found


def salesforce_live_ids(salesforce: Any, obj: MirroredObject) -> list[str]:
    """Every Id Salesforce still has for the object, the recycle bin left out."""
    records = salesforce.query_all_iter(f"SELECT Id FROM {obj.name} WHERE IsDeleted = false", include_deleted=True)
    return [str(record["Id"]) for record in records]


@dataclass
class ReconciliationResult:
    prefix: str
    missing: dict[str, int] = field(default_factory=dict)  # object -> records Salesforce no longer has
    loaded: int = 0


def reconcile(
    salesforce: Any,
    s3: S3Hook,
    warehouse: SnowflakeHook,
    bucket: str,
    interval_start: datetime,
    interval_end: datetime,
    now: datetime | None = None,
) -> ReconciliationResult:
    """Compare every reconciled object's Ids and land a tombstone for each missing record; re-running the interval
    replaces its tombstones."""
    seen_at = now or datetime.now(UTC)
    prefix = interval_prefix(PREFIX_ROOT, interval_start, interval_end)
    envelope = {"interval_start": interval_start.isoformat(), "interval_end": interval_end.isoformat()}
    result = ReconciliationResult(prefix)
    clear_prefix(s3, bucket, prefix)
    writer = PartWriter(s3, bucket, prefix)
    for obj in reconciled_objects():
        # The warehouse first: a record created in Salesforce after this read cannot be taken for a missing one.
        replacing = envelope["interval_start"]
        live_in_warehouse = warehouse_live_ids(warehouse, obj, replacing)
        missing = missing_ids(live_in_warehouse, salesforce_live_ids(salesforce, obj))
        versions = last_versions(warehouse, obj, missing, replacing)
        for record_id in missing:
            writer.add(tombstone(obj, versions[record_id], seen_at, envelope))
        result.missing[obj.name] = len(missing)
    writer.flush()
    result.loaded = replace_interval(
        warehouse, raw_table(TABLE), prefix, interval_start=envelope["interval_start"], parts=writer.parts
    )
    return result
