"""Mirror Salesforce objects into the warehouse, incrementally by ``SystemModstamp``.

Each run reads, per object, every record modified since the high-water mark (the newest ``SystemModstamp``
already in the raw table) minus a small overlap, up to the run's data-interval end. The overlap re-reads
records committed with a slightly older timestamp after the last run looked; the duplicates it creates are
resolved in dbt staging (latest version per Id). Records stream to S3 part by part (bounded memory).
A *snapshot* object (LeadStatus: a handful of setup rows) is read whole on every run and replaces its raw table.

Objects that can be deleted (they have ``IsDeleted``) are read through the ``queryAll`` resource: ``query``
leaves out every record in the recycle bin, so a deletion would never reach the warehouse and the record would
stay live there forever. ``queryAll`` returns deleted records with ``IsDeleted = true``, and records merged away
with ``MasterRecordId`` naming the record they were merged into; a deletion changes ``SystemModstamp``, so the
incremental filter picks it up. Salesforce keeps deleted records for 15 days (then the recycle bin is emptied
and ``queryAll`` no longer sees them): the mirror must run within that time of a deletion.
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_queryall.htm
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_getdeleted_getdeletedresult.htm
(deletedDate "is obtained using the SystemModstamp system field")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from include.landing import PartWriter, clear_prefix, interval_prefix
from include.settings import raw_table
from include.warehouse.loading import replace_interval

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

OVERLAP = timedelta(minutes=5)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# Fields the mirror itself needs, whatever staging reads: the record key and the high-water mark it filters on.
MIRROR_OWN_FIELDS = ("Id", "SystemModstamp")


@dataclass(frozen=True)
class MirroredObject:
    name: str  # sObject API name
    raw_table: str  # schema.table in the raw database (one VARIANT column)
    # Exactly the fields the pipeline uses: what the object's dbt staging model reads from the payload, plus
    # MIRROR_OWN_FIELDS (tests/unit/test_mirror_fields.py keeps the two in step). Every field here must exist
    # and be readable on the org, or the object's SOQL fails: add one only together with its staging column.
    fields: tuple[str, ...]
    # Read whole on every run, replacing the raw table: for setup objects whose rows vanish without a trace. A Lead
    # Status value removed from the picklist takes its LeadStatus row with it, and LeadStatus has no IsDeleted
    # (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_leadstatus.htm).
    snapshot: bool = False

    @property
    def includes_deleted(self) -> bool:
        """Read through ``queryAll``: the object has a recycle bin (User has none: users are deactivated)."""
        return "IsDeleted" in self.fields

    @property
    def table(self) -> str:
        """Full name in the configured raw database (SNOWFLAKE_RAW_DATABASE), resolved when used."""
        return raw_table(self.raw_table)

    @property
    def prefix_root(self) -> str:
        return f"salesforce/{self.name.lower()}"


OBJECTS: tuple[MirroredObject, ...] = (
    MirroredObject("User", "SALESFORCE.USERS", (
        "Id", "CreatedDate", "SystemModstamp", "Username", "Email", "FirstName", "LastName", "Alias", "IsActive",
        "Title",
    )),
    MirroredObject("Account", "SALESFORCE.ACCOUNTS", (
        "Id", "IsDeleted", "MasterRecordId", "CreatedDate", "SystemModstamp", "Dwh_External_Id__c", "Name",
        "Website", "Type", "Industry", "OwnerId", "BillingCountry", "NumberOfEmployees",
    )),
    MirroredObject("Lead", "SALESFORCE.LEADS", (
        "Id", "IsDeleted", "MasterRecordId", "CreatedDate", "SystemModstamp", "Dwh_External_Id__c", "Workspace_Id__c",
        "FirstName", "LastName", "Company", "Email", "Status", "LeadSource", "OwnerId", "IsConverted",
        "ConvertedContactId", "ConvertedAccountId", "Country",
    )),
    MirroredObject("Contact", "SALESFORCE.CONTACTS", (
        "Id", "IsDeleted", "MasterRecordId", "CreatedDate", "SystemModstamp", "Dwh_External_Id__c",
        "Workspace_Id__c", "FirstName", "LastName", "Email", "AccountId", "OwnerId", "LeadSource", "MailingCountry",
    )),
    MirroredObject("Opportunity", "SALESFORCE.OPPORTUNITIES", (
        "Id", "IsDeleted", "CreatedDate", "SystemModstamp", "Dwh_External_Id__c", "Workspace_Id__c", "Name",
        "StageName", "CloseDate", "Amount", "AccountId", "OwnerId", "Type",
    )),
    MirroredObject("Task", "SALESFORCE.TASKS", (
        "Id", "IsDeleted", "CreatedDate", "SystemModstamp", "Dwh_External_Id__c", "Subject", "Status", "Priority",
        "ActivityDate", "WhoId", "WhatId", "OwnerId",
    )),
    MirroredObject("LeadStatus", "SALESFORCE.LEAD_STATUSES", (
        "Id", "SystemModstamp", "ApiName", "IsConverted", "SortOrder",
    ), snapshot=True),
)  # fmt: skip


def mirrored_fields() -> dict[str, tuple[str, ...]]:
    """sObject -> the fields the mirror selects: what a preflight checks against Salesforce's describe."""
    return {obj.name: obj.fields for obj in OBJECTS}


def by_name(name: str) -> MirroredObject:
    for obj in OBJECTS:
        if obj.name == name:
            return obj
    raise KeyError(f"not a mirrored object: {name}")


def soql_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_soql(obj: MirroredObject, since: datetime, until: datetime) -> str:
    return (
        f"SELECT {', '.join(obj.fields)} FROM {obj.name} "
        f"WHERE SystemModstamp >= {soql_datetime(since)} AND SystemModstamp < {soql_datetime(until)} "
        "ORDER BY SystemModstamp, Id"
    )


def high_water_mark(hook: SnowflakeHook, obj: MirroredObject, before: datetime) -> datetime | None:
    """Newest SystemModstamp already mirrored that is older than ``before`` (re-runs look back, not ahead)."""
    row = hook.get_first(
        f"SELECT MAX(RECORD:payload:SystemModstamp::VARCHAR) FROM {obj.table} "
        "WHERE RECORD:interval_end::VARCHAR <= %(before)s",
        parameters={"before": before.astimezone(UTC).isoformat()},
    )
    if not row or row[0] is None:
        return None
    return datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


@dataclass
class MirrorResult:
    object: str
    since: str
    until: str
    prefix: str
    extracted: int = 0
    parts: int = 0
    loaded: int = 0


def keyed_as_selected(records: Iterable[dict[str, Any]], fields: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Each record without its ``attributes``, every field under the name the mirror selected it by.

    Field API names are case-insensitive in SOQL, so an org whose field is ``DWH_External_ID__c`` answers a query for
    ``Dwh_External_Id__c``, but a record can carry the org's own capitals, and staging reads the landed JSON by path,
    which Snowflake matches case-sensitively
    (https://docs.snowflake.com/en/user-guide/querying-semistructured#traversing-semi-structured-data).
    Landing every key as selected makes the warehouse independent of how the org capitalises its fields."""
    selected = {name.lower(): name for name in fields}
    for record in records:
        yield {selected.get(k.lower(), k): v for k, v in record.items() if k != "attributes"}


def extract(salesforce: Any, obj: MirroredObject, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
    """The object's records modified in [since, until), deleted and merged-away ones included where it has them
    (simple-salesforce's ``include_deleted`` sends the SOQL to ``queryAll``; the pages after the first follow
    ``nextRecordsUrl``, which carries on the same ``queryAll`` result)."""
    records = salesforce.query_all_iter(build_soql(obj, since, until), include_deleted=obj.includes_deleted)
    return keyed_as_selected(records, obj.fields)


def mirror_object(
    salesforce: Any,
    s3: S3Hook,
    warehouse: SnowflakeHook,
    bucket: str,
    obj: MirroredObject,
    interval_start: datetime,
    interval_end: datetime,
) -> MirrorResult:
    """Extract, land and load one object for one data interval; re-running the interval replaces its rows.

    The query reads up to the interval's end or now, whichever is later. Salesforce keeps only a record's
    current version, so a re-run of a past interval cannot fetch the version it loaded the first time: bounded
    by the interval's end, it would drop every record modified since (and the marts would then re-create
    accounts that exist). Newer versions read early are read again by the next interval; staging keeps one.
    """
    mark = None if obj.snapshot else high_water_mark(warehouse, obj, interval_start)
    since = (mark - OVERLAP) if mark else EPOCH
    until = max(interval_end, datetime.now(UTC) + timedelta(seconds=1))  # SOQL compares whole seconds
    prefix = interval_prefix(obj.prefix_root, interval_start, interval_end)
    result = MirrorResult(obj.name, since.isoformat(), until.isoformat(), prefix)
    envelope = {
        "object": obj.name,
        "interval_start": interval_start.isoformat(),
        "interval_end": interval_end.isoformat(),
    }
    clear_prefix(s3, bucket, prefix)
    writer = PartWriter(s3, bucket, prefix)
    for record in extract(salesforce, obj, since, until):
        writer.add({**envelope, "payload": record})
        result.extracted += 1
    writer.flush()
    result.parts = writer.parts
    result.loaded = replace_interval(
        warehouse,
        obj.table,
        prefix,
        interval_start=None if obj.snapshot else envelope["interval_start"],
        parts=writer.parts,
    )
    if result.loaded != result.extracted:
        raise RuntimeError(f"{obj.name}: extracted {result.extracted} records but loaded {result.loaded}")
    return result
