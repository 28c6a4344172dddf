"""Read what the run page needs: the interval's signups and the accounts mart from the local warehouse, and
the records Salesforce holds now, through the same ``salesforce_crm`` connection the DAGs use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from unittest import mock

from dev.localcloud.services import trust_local_ca
from dev.localcloud.settings import CloudSettings
from dev.localcloud.warehouse import connect
from include.settings import raw_table, warehouse_names

SIGNUPS_SQL = """
select
    record:payload:workspace_id::varchar as workspace_id,
    record:payload:workspace_name::varchar as workspace_name,
    record:payload:created_at::varchar as created_at,
    record:payload:owner:email::varchar as email,
    record:payload:owner:first_name::varchar as first_name,
    record:payload:owner:last_name::varchar as last_name,
    record:payload:owner:company_name::varchar as company,
    record:payload:plan::varchar as plan,
    record:payload:seats::integer as seats
from {table}
where record:interval_start::timestamp_tz = %(interval_start)s::timestamp_tz
"""

OWNER_SOURCES_SQL = "select account_external_id, owner_source from {database}.MARTS.SYNC_SALESFORCE_ACCOUNTS"

# Per object, the fields the page reads. Leads only when converted: a converted lead marks its contact.
SOQL = {
    "User": "SELECT Id, Name FROM User",
    "Account": "SELECT Id, Name, Website, OwnerId, Dwh_External_Id__c, CreatedDate, LastModifiedDate FROM Account",
    "Contact": "SELECT Id, Email, OwnerId, AccountId, CreatedDate, LastModifiedDate FROM Contact",
    "Opportunity": (
        "SELECT Id, Name, AccountId, OwnerId, StageName, Amount, CreatedDate, LastModifiedDate FROM Opportunity"
    ),
    "Task": "SELECT Id, Subject, WhoId, OwnerId, ActivityDate, CreatedDate, LastModifiedDate FROM Task",
    "Lead": "SELECT Id, IsConverted, ConvertedContactId FROM Lead WHERE IsConverted = true",
}


def _rows(cursor: Any) -> list[dict[str, Any]]:
    columns = [c[0].lower() for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def warehouse_rows(settings: CloudSettings, interval_start: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The raw signup events of the interval, and account external id -> the routing rule of its owner."""
    trust_local_ca(settings)
    conn = connect(settings.snowflake_port, "localcloud", database=warehouse_names().raw_database, login_timeout=5)
    with conn:
        cursor = conn.cursor()
        cursor.execute(SIGNUPS_SQL.format(table=raw_table("CLOUD_APP.WORKSPACES")), {"interval_start": interval_start})
        signups = _rows(cursor)
        cursor.execute(OWNER_SOURCES_SQL.format(database=warehouse_names().analytics_database))
        sources = {row["account_external_id"]: row["owner_source"] for row in _rows(cursor)}
    return signups, sources


def salesforce_records(cloud_env: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Every record the page may follow a signup to, per object (deleted ones left out, as `query` does)."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    from include.connections import SALESFORCE

    with mock.patch.dict(os.environ, cloud_env):
        client = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()
        return {name: client.query_all(soql)["records"] for name, soql in SOQL.items()}
