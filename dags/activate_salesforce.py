"""
### Activate Salesforce: dbt decides, Hightouch acts

Steps 3 and 4 of the lead-to-Salesforce workflow. Runs once **both** new workspaces and a fresh Salesforce
mirror have landed since its last run (the `raw.cloud_app.workspaces` and `raw.salesforce` Assets), so new
signups are always matched against a CRM mirror at least as new as they are and one ingestion cycle gives one
activation run; and at least hourly, as a safety net when an ingestion is down (that run builds nothing
when both ingestions delivered within the hour: `include/safety_net.py`).

1. **transform** — the dbt project, rendered by Cosmos from its manifest: staging, intermediate (matching
   signups to leads, contacts and accounts; owner routing) and one mart per Salesforce action.
   `transform.dbt_build` runs one `dbt build`; each model's task (the model with its tests) shows that
   model's result and dbt output as soon as dbt reports it, from the triggerer; a retry re-runs that model
   alone (docs/cosmos-execution-mode.md). **A failing test fails its model's task and stops every sync.**
2. **sync_*** — one Hightouch sync per mart, by slug, each after the syncs whose records it references
   (`depends_on` in `include/hightouch/syncs.yaml`): accounts and the keys of matched accounts → contacts
   and opportunities → lead conversions and outreach tasks. Each task waits for its run, logs and returns
   (XCom) the planned, successful and failed row counts, and fails on a `warning` or `failed` run with the
   run id and Hightouch's error.

Every external id is derived from a business key (domain, email), so re-running changes nothing that is
already in Salesforce: a second run plans 0 rows in every sync. One active run at a time.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from include import safety_net
from include.assets import RAW_CLOUD_APP_WORKSPACES, RAW_SALESFORCE
from include.dag_defaults import default_args
from include.hightouch.operator import HightouchSyncOperator
from include.hightouch.syncs import default_syncs
from include.transform import cosmos_config


@dag(
    dag_id="activate_salesforce",
    schedule=AssetOrTimeSchedule(
        # No start_date and run_immediately=0: switching the DAG on waits for the assets or the next full hour,
        # instead of starting a timer run at once (which would race the first ingestions).
        timetable=CronTriggerTimetable("0 * * * *", timezone="UTC", run_immediately=timedelta(0)),
        assets=(RAW_CLOUD_APP_WORKSPACES & RAW_SALESFORCE),
    ),
    catchup=False,
    max_active_runs=1,  # syncs diff against the previous run's state: never two at once
    dagrun_timeout=timedelta(minutes=90),
    default_args=default_args(),
    tags=["activation", "dbt", "hightouch", "salesforce"],
    doc_md=__doc__,
)
def activate_salesforce() -> None:
    transform = cosmos_config.dbt_task_group(
        "transform",
        select=cosmos_config.ACTIVATION_SELECT,
        exclude=cosmos_config.ACTIVATION_EXCLUDE,
        # A failing data test fails the same way twice: one quick retry re-checks just that node.
        default_args={**default_args(), "retries": 1, "retry_delay": timedelta(seconds=10)},
        # The hourly run builds nothing when both ingestions triggered their own runs within the hour.
        pre_execute=safety_net.skip_when_nothing_to_do,
        inlets=list(safety_net.INGESTED_ASSETS),
    )

    catalogue = default_syncs()
    sync_tasks = {
        sync.slug: HightouchSyncOperator(task_id=f"sync_{sync.slug.replace('-', '_')}", sync_slug=sync.slug)
        for sync in catalogue.syncs
    }
    for sync in catalogue.syncs:
        upstream = [sync_tasks[slug] for slug in sync.depends_on] or [transform]
        for task in upstream:
            task >> sync_tasks[sync.slug]


activate_salesforce()
