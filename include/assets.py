"""Assets the DAGs hand to each other: ingestion produces them, activation is scheduled on them.

Named by their warehouse table; a name (not a ``snowflake://`` URI) because the URI form needs the
account, which differs per deployment.
"""

from __future__ import annotations

from airflow.sdk import Asset

RAW_CLOUD_APP_WORKSPACES = Asset(name="raw.cloud_app.workspaces")
RAW_SALESFORCE = Asset(name="raw.salesforce")
