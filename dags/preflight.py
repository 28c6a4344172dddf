"""
### Preflight: prove the set-up before the first run

Manual (no schedule). Trigger it after `astro deploy`, or after changing a connection, a Salesforce field or a
Hightouch sync: it runs the checks of `make preflight` inside the Deployment, through the very connections and
settings the pipeline uses (`aws_landing`, `snowflake_warehouse`, `salesforce_crm`, `hightouch_default`;
`LANDING_BUCKET`, `SNOWFLAKE_*`), one task per service:

- **S3**: put, list and delete a probe object under `preflight/` in the landing bucket.
- **Snowflake**: the connection's role and warehouse, the databases, schemas and raw tables the bootstrap creates,
  the landing file format and stage, the stage's storage integration (`DESC INTEGRATION`) and whether Snowflake
  can list the bucket through it, and the grants that let Hightouch's role (`SNOWFLAKE_HIGHTOUCH_ROLE`) read the
  marts.
- **Salesforce**: every field the mirror reads and the syncs write exists with the right type and is writable,
  `Dwh_External_Id__c` is an External ID and unique, every picklist value the marts send is active, a converted
  Lead Status exists, and the integration user may convert leads.
- **Hightouch**: the connection has no login; every sync of `include/hightouch/syncs.yaml` exists, reads its
  mart with its primary key, has no Hightouch schedule and is enabled.

Each task logs one line per check, `✓` or `✗` with the exact fix, and **fails** (without retries: a retry fixes
no set-up) when any of its checks fails. The checks themselves are in `include/preflight/`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from include.dag_defaults import default_args
from include.preflight.run import SERVICES, run_in_task

# What each service's task checks: its documentation in the Airflow UI.
CHECKED = {
    "s3": "Put, list and delete a probe object in the landing bucket.",
    "snowflake": "Role, warehouse, databases, schemas, stage, integration and Hightouch's grants.",
    "salesforce": "Fields, external ids, picklist values, converted status and the Convert Leads permission.",
    "hightouch": "The connection and every sync of syncs.yaml.",
}


@dag(
    dag_id="preflight",
    schedule=None,
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=20),
    default_args=default_args(retries=1, execution_timeout=timedelta(minutes=5)),
    tags=["preflight", "setup"],
    doc_md=__doc__,
)
def preflight() -> None:
    for service in SERVICES:  # independent tasks: one service's failure does not hide another's
        task(run_in_task, task_id=f"check_{service}", doc_md=CHECKED[service])(service)


preflight()
