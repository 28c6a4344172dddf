"""The hourly safety-net run of ``activate_salesforce`` works only when an ingestion has not delivered.

Activation runs when every ingestion has landed (include/assets.INGESTED_ASSETS), and also every hour, for when
one of them is down: then the hourly run still matches the signups that did land against the last mirror. When all
delivered within the hour, each delivery already triggered its own activation run, and the hourly one would only redo
their work: its ``dbt build`` task skips, and with it every node task and sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowSkipException

from include.assets import INGESTED_ASSETS

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The safety net's own period (the DAG's cron): a delivery older than this has not been activated by its own run.
WINDOW = timedelta(hours=1)
SCHEDULED = "scheduled"  # Airflow's run type of a run from the time part of the schedule


def nothing_to_do(run_type: str, run_after: datetime, last_deliveries: Mapping[str, datetime | None]) -> str | None:
    """Why this run has nothing to do, or None when it must run.

    Only a scheduled (hourly) run can be redundant; an Asset-triggered or manual run always runs.
    """
    if run_type != SCHEDULED:
        return None
    late = [name for name, at in last_deliveries.items() if at is None or run_after - at > WINDOW]
    if late:
        return None
    delivered = ", ".join(f"{name} at {at:%H:%M:%S}" for name, at in last_deliveries.items() if at is not None)
    return (
        f"hourly safety-net run with nothing to catch up: every ingestion delivered within {WINDOW} ({delivered}), "
        "and each delivery triggered its own activation run"
    )


def skip_when_nothing_to_do(context: Context) -> None:
    """``pre_execute`` hook of the dbt build task (which needs ``inlets=INGESTED_ASSETS`` to read the events)."""
    dag_run = context["dag_run"]
    inlet_events: Any = context["inlet_events"]
    last: dict[str, datetime | None] = {}
    for asset in INGESTED_ASSETS:
        newest = inlet_events[asset].ascending(False).limit(1)
        last[asset.name] = newest[0].timestamp if len(newest) else None
    run_after = getattr(dag_run, "run_after", None) or datetime.now(UTC)
    reason = nothing_to_do(str(dag_run.run_type), run_after, last)
    if reason:
        raise AirflowSkipException(reason)
