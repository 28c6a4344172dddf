"""Assets the DAGs hand to each other: ingestion produces them, activation is scheduled on them.

Named by their warehouse table; a name (not a ``snowflake://`` URI) because the URI form needs the
account, which differs per deployment.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetAll

RAW_CLOUD_APP_WORKSPACES = Asset(name="raw.cloud_app.workspaces")
RAW_SALESFORCE = Asset(name="raw.salesforce")

#: Every ingestion activation waits for: the one place a new source is added. ``activate_salesforce`` runs when
#: each of them has delivered since its last run (ACTIVATION_TRIGGER), and its hourly safety-net run reads their
#: last deliveries (include/safety_net.py).
INGESTED_ASSETS: tuple[Asset, ...] = (RAW_CLOUD_APP_WORKSPACES, RAW_SALESFORCE)
ACTIVATION_TRIGGER = AssetAll(*INGESTED_ASSETS)
