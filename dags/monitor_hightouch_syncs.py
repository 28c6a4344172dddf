"""
### Monitor Hightouch syncs

Daily (`HIGHTOUCH_MONITOR_SCHEDULE`, default 06:00 UTC), checks that every sync of
`include/hightouch/syncs.yaml` (the syncs the pipeline runs) exists in the Hightouch workspace (connection
`hightouch_default`) and that its **last finished run succeeded**. Syncs can also be run by hand, so a failed
sync is not always a red task in `activate_salesforce`; this DAG is the daily net under all of them.

Each sync is judged by what the Hightouch API documents: the sync's own `status` (the latest run's outcome) and
`lastRunAt`; its recent runs (the last 7 days, read in full, never relying on the API's listing order) only
explain a verdict or, while a run is in progress, say how the previous run ended.

Unhealthy: the sync is missing from the workspace, or its last finished run is `failed`, `warning` (some rows
never reached Salesforce), `cancelled` or `interrupted`, or it never ran. A run still in progress is not judged:
the run before it decides. **Disabled** syncs are skipped (listed in the log, not judged: `preflight` reports
them). Syncs in the workspace that are not in `syncs.yaml` are listed in their own log section, not judged.

On any unhealthy sync the task logs a warning per sync, posts one message listing them through the pipeline's
alert notifier (`include/alerts.py`: the `alerts_webhook` connection, Slack or Mattermost), and **fails, so the
DAG run is red**: the failure shows in the Airflow UI and in any alerting built on DAG run state, even where no
webhook is configured. It fails without retries (a retry would not heal a
sync and would post the alert again); errors reaching Hightouch's API are retried as usual.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

from include.connections import ALERTS_WEBHOOK, HIGHTOUCH
from include.dag_defaults import default_args


@dag(
    dag_id="monitor_hightouch_syncs",
    schedule=os.environ.get("HIGHTOUCH_MONITOR_SCHEDULE", "0 6 * * *"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args=default_args(execution_timeout=timedelta(minutes=10)),
    tags=["monitoring", "hightouch", "reverse-etl"],
    doc_md=__doc__,
)
def monitor_hightouch_syncs() -> None:
    @task
    def check_sync_health() -> dict[str, Any]:
        """The catalogue's verdicts, skipped and outside syncs (XCom); fails, after alerting, on any unhealthy."""
        from include.hightouch.monitoring import check_and_alert

        return check_and_alert(hightouch_conn_id=HIGHTOUCH, alerts_conn_id=ALERTS_WEBHOOK)

    check_sync_health()


monitor_hightouch_syncs()
