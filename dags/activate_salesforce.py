"""
### Activate Salesforce: dbt decides, Hightouch acts

Steps 3 and 4 of the lead-to-Salesforce workflow. Runs once **both** new workspaces and a fresh Salesforce
mirror have landed since its last run (the `raw.cloud_app.workspaces` and `raw.salesforce` Assets), so new
signups are always matched against a CRM mirror at least as new as they are and one ingestion cycle gives one
activation run; and at least hourly, as a safety net when an ingestion is down (that run builds nothing
when both ingestions delivered within the hour: `include/safety_net.py`). The safety net's cron is
`ACTIVATION_SAFETY_NET_SCHEDULE` (default `0 * * * *`); empty turns it off, and the Assets alone trigger runs.

1. **transform** — the dbt project, rendered by Cosmos from its manifest: staging, intermediate (matching
   signups to leads, contacts and accounts; owner routing), one mart per Hightouch sync and the lead
   conversions mart. `transform.dbt_build` runs one `dbt build`; each model's task (the model with its tests)
   shows that model's result and dbt output as soon as dbt reports it, from the triggerer; a retry re-runs
   that model alone (docs/cosmos-execution-mode.md). **A failing test fails its model's task and stops every
   sync.**
2. **approve_salesforce_changes** — the gate before any Salesforce write: counts what each sync and the lead
   conversion would create or change (the `salesforce_change_plan` model) and, above the thresholds of
   `include/activation/change_gate.py`, waits for a person to approve in the Airflow UI (Required actions);
   a rejection or no answer fails it and nothing is written. Below them it passes in a second or two.
3. **sync_*** — one Hightouch sync per mart, by slug, each after the syncs whose records it references
   (`depends_on` in `include/hightouch/syncs.yaml`): accounts and the keys of matched accounts → contacts
   and opportunities → outreach tasks. Each task waits for its run, logs and returns (XCom) the planned,
   successful and failed row counts, and fails on a `warning` or `failed` run with the run id and
   Hightouch's error.
4. **convert_salesforce_leads** — after the contacts sync: each open lead of a person who signed up is
   converted into their contact and its account with Salesforce's SOAP `convertLead()` (no opportunity;
   the pipeline opens its own), as the `salesforce_lead_conversions` mart decides, 100 leads a call. Like a
   Hightouch run it logs each lead that failed with Salesforce's error, returns (XCom) the planned, converted,
   already-converted and failed counts, and fails at the end if a lead failed.

**Alerts**: each failed task posts one message (include/alerts.py) and so does a run that has not finished
`ACTIVATION_DEADLINE_MINUTES` (default 45) after it was queued, i.e. after the ingestions of its interval landed:
signups must reach Salesforce within that time of their interval closing.

Every external id is derived from a business key (domain, email), so re-running changes nothing that is
already in Salesforce: a second run plans 0 rows in every sync and converts no lead (a converted lead leaves
the mart once the mirror has seen it; one converted in between counts as done). One active run at a time.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import AssetOrTimeSchedule, AsyncCallback, CronTriggerTimetable, DeadlineAlert, DeadlineReference, dag

from include import alerts, safety_net
from include.activation.change_gate import SalesforceChangeGate
from include.assets import ACTIVATION_TRIGGER, INGESTED_ASSETS
from include.connections import SALESFORCE, SNOWFLAKE
from include.dag_defaults import default_args
from include.hightouch.operator import HightouchSyncOperator
from include.hightouch.syncs import default_syncs
from include.lineage import lineage_task
from include.transform import cosmos_config

SAFETY_NET_SCHEDULE = os.environ.get("ACTIVATION_SAFETY_NET_SCHEDULE", "0 * * * *")


@dag(
    dag_id="activate_salesforce",
    schedule=AssetOrTimeSchedule(
        # No start_date and run_immediately=0: switching the DAG on waits for the assets or the next timer
        # time, instead of starting a timer run at once (which would race the first ingestions).
        timetable=CronTriggerTimetable(SAFETY_NET_SCHEDULE, timezone="UTC", run_immediately=timedelta(0)),
        assets=ACTIVATION_TRIGGER,
    )
    if SAFETY_NET_SCHEDULE
    else ACTIVATION_TRIGGER,
    catchup=False,
    max_active_runs=1,  # syncs diff against the previous run's state: never two at once
    dagrun_timeout=timedelta(minutes=90),
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=float(os.environ.get("ACTIVATION_DEADLINE_MINUTES", "45"))),
        callback=AsyncCallback(alerts.missed_deadline_callback),
        name="signups reach Salesforce",
    ),
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
        inlets=list(INGESTED_ASSETS),
    )

    gate = SalesforceChangeGate(task_id="approve_salesforce_changes", warehouse_conn_id=SNOWFLAKE)
    transform >> gate

    catalogue = default_syncs()
    sync_tasks = {
        sync.slug: HightouchSyncOperator(task_id=f"sync_{sync.slug.replace('-', '_')}", sync_slug=sync.slug)
        for sync in catalogue.syncs
    }
    for sync in catalogue.syncs:
        upstream = [sync_tasks[slug] for slug in sync.depends_on] or [gate]
        for upstream_task in upstream:
            upstream_task >> sync_tasks[sync.slug]

    @lineage_task(multiple_outputs=False)  # one XCom, as the syncs return (a dict return type would split it by key)
    def convert_salesforce_leads(**context: Any) -> dict[str, Any]:
        """The leads of the salesforce_lead_conversions mart, converted with convertLead() (see conversion.py)."""
        from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include import lineage
        from include.activation.run_record import CONVERSION_STEP, record_step
        from include.salesforce import conversion

        salesforce = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn()
        warehouse = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
        lineage.report(
            context["task"],
            inputs=[lineage.warehouse_dataset(conversion.mart_table(), lineage.snowflake_namespace())],
            outputs=[lineage.salesforce_dataset(sobject) for sobject in conversion.WRITES],
        )
        return dict(
            conversion.run(
                salesforce,
                warehouse,
                record=lambda status, outcome: record_step(warehouse, context, CONVERSION_STEP, status, outcome),
            )
        )

    # Into the contact the contacts sync has just written.
    sync_tasks["salesforce-contacts"] >> convert_salesforce_leads()


activate_salesforce()
