"""
### Monitor Hightouch syncs

Daily (`HIGHTOUCH_MONITOR_SCHEDULE`, default 06:00 UTC), lists **every** sync in the Hightouch workspace
(connection `hightouch_default`) with its recent runs and checks that each sync's **last finished run
succeeded**. Syncs also run on Hightouch's own schedules or by hand, so a failed sync is not always a red task
in `activate_salesforce`; this DAG is the daily net under all of them.

Unhealthy: the last finished run is `failed`, `warning` (some rows never reached Salesforce), `cancelled` or
`interrupted`, or the sync has no finished run at all (never ran). A run still in progress is not judged: the
run before it decides.

On any unhealthy sync the task logs a warning per sync, posts one message to Slack if the `slack_alerts`
connection exists (an `http` connection to an incoming webhook, see `include/hightouch/monitoring.py`), and
**fails, so the DAG run is red**: the failure shows in the Airflow UI, in failure callbacks and in any alerting
built on DAG run state, even where Slack is not configured. It fails without retries (a retry would not heal a
sync and would post the alert again); errors reaching Hightouch's API are retried as usual.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

from include.connections import HIGHTOUCH, SLACK_ALERTS
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
    def check_sync_health() -> list[dict[str, Any]]:
        """Every sync's verdict (XCom); fails, after alerting, if any sync is unhealthy."""
        from include.hightouch.monitoring import check_and_alert

        return check_and_alert(hightouch_conn_id=HIGHTOUCH, slack_conn_id=SLACK_ALERTS)

    check_sync_health()


monitor_hightouch_syncs()
