"""What each activation run did to Salesforce, recorded in the warehouse by the run itself.

One record per step and try in ``<raw database>.ACTIVATION.RUN_LOG`` (one VARIANT column, like every raw table;
dbt documents it as the source ``activation.run_log`` and types it in ``stg_activation__run_log``):

- ``approval-gate``: the change plan the run measured (counts per sync, every planned change up to
  ``MAX_RECORDED_CHANGES``), the signups held back because sales deleted their record, and the decision (not
  needed, approved by whom, rejected, timed out);
- one per Hightouch sync: its run id, status, planned / successful / failed row counts and Hightouch's error;
- ``lead-conversion``: the counts and each lead's result (converted into which contact and account, or the error).

So "what did the pipeline do to Salesforce last week" is a query, and the run page (``plugins/``) reads it.
A step writes its record once per try (a re-run of the same try replaces it). Recording never fails the step: a
sync that reached Salesforce stays green when the warehouse is briefly unreachable (the error is logged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from include.settings import raw_table

if TYPE_CHECKING:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

log = logging.getLogger(__name__)

TABLE = "ACTIVATION.RUN_LOG"
GATE_STEP = "approval-gate"
CONVERSION_STEP = "lead-conversion"
#: A mass change is summarised by its counts; the record keeps this many of its rows (a VARIANT holds 16 MB).
MAX_RECORDED_CHANGES = 5000


def run_log_table() -> str:
    return raw_table(TABLE)


def step_record(context: Mapping[str, Any], step: str, status: str, outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The record of one step's try, from the task's context (pure)."""
    ti = context["ti"]
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "try_number": ti.try_number,
        "step": step,
        "status": status,
        "recorded_at": datetime.now(UTC).isoformat(),
        "outcome": dict(outcome),
    }


def record_step(
    warehouse: SnowflakeHook, context: Mapping[str, Any], step: str, status: str, outcome: Mapping[str, Any]
) -> bool:
    """Write the step's record (replacing this try's, if any); False, with the error logged, when it could not."""
    if "ti" not in context:  # run outside Airflow (a test calling execute directly): nothing to key it by
        return False
    record = step_record(context, step, status, outcome)
    key = {"run_id": record["run_id"], "step": step, "try_number": record["try_number"]}
    table = run_log_table()
    try:
        warehouse.run(
            [
                f"DELETE FROM {table} WHERE RECORD:run_id::VARCHAR = %(run_id)s AND RECORD:step::VARCHAR = %(step)s"
                " AND RECORD:try_number::INTEGER = %(try_number)s",
                f"INSERT INTO {table} SELECT PARSE_JSON(%(record)s)",
            ],
            parameters={**key, "record": json.dumps(record, default=str)},
        )
    except Exception as error:  # noqa: BLE001 - see the module docstring
        log.error("Could not record %s of run %s in %s: %s", step, record["run_id"], table, error)
        return False
    log.info("Recorded %s (%s) in %s", step, status, table)
    return True


def last_outcome(warehouse: SnowflakeHook, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """The outcome this try of the step recorded last (empty when there is none)."""
    ti = context["ti"]
    rows = warehouse.get_records(
        f"SELECT RECORD:outcome FROM {run_log_table()} WHERE RECORD:run_id::VARCHAR = %(run_id)s"
        " AND RECORD:step::VARCHAR = %(step)s AND RECORD:try_number::INTEGER = %(try_number)s",
        parameters={"run_id": ti.run_id, "step": step, "try_number": ti.try_number},
    )
    if not rows:
        return {}
    value = rows[0][0]
    outcome = json.loads(value) if isinstance(value, str) else dict(value or {})
    outcome.pop("approval", None)
    return outcome
