"""The Airflow connection ids every DAG uses: the one place to rename them.

Values are never in code: they come from ``AIRFLOW_CONN_<ID>`` environment variables (the local cloud
generates them in ``.local/localcloud.env``) or from the deployment's secrets backend. README's
"Connections" section lists what each needs for a real account.
"""

from __future__ import annotations

from typing import Final

#: S3 bucket where raw extracts land (``aws`` connection; locally rclone's S3 API).
LANDING_S3: Final = "aws_landing"
#: The warehouse (``snowflake`` connection; locally fakesnow over HTTPS).
SNOWFLAKE: Final = "snowflake_warehouse"
#: The product's HTTP API that lists new workspaces (``http`` connection, token in the password).
CLOUD_APP_API: Final = "cloud_app_api"
#: The CRM (``salesforce`` connection, read by the Salesforce mirror).
SALESFORCE: Final = "salesforce_crm"
#: Reverse ETL (``http`` connection as airflow-provider-hightouch expects; token in the password).
HIGHTOUCH: Final = "hightouch_default"
#: Optional incoming webhook for alerts, Slack or Mattermost (``slackwebhook`` connection, the webhook URL in the
#: password; include/alerts.py); not in ALL: without it alerts go to the task log.
ALERTS_WEBHOOK: Final = "alerts_webhook"

ALL: Final = (LANDING_S3, SNOWFLAKE, CLOUD_APP_API, SALESFORCE, HIGHTOUCH)


def env_var_name(conn_id: str) -> str:
    """The environment variable Airflow reads for ``conn_id``."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"
