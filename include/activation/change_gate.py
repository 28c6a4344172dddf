"""The gate before Salesforce: above a threshold of changes, a person approves before anything is written.

dbt's ``salesforce_change_plan`` model lists every record the run's syncs (and the lead conversion) would create
or change, compared with the mirrored Salesforce state. The gate task reads its counts per sync (one small
query), judges them against the thresholds below (pure functions, unit-tested) and:

- below every threshold: logs the counts and ends at once, green (the run goes on to the syncs);
- above one: waits at Airflow's human-in-the-loop approval (``ApprovalOperator``, "Required actions" in the
  Airflow UI) showing the counts, why it stopped and a sample of the changes, and posts an alert linking to it.
  Approve: the syncs run. Reject, or no answer within ``SALESFORCE_GATE_RESPONSE_MINUTES``: the task fails
  (which alerts), every sync and the lead conversion are upstream_failed, nothing is written.

Thresholds (environment variables; README, "The gate before Salesforce"), per sync:

- ``SALESFORCE_GATE_MAX_CHANGED`` (default 200): existing records a sync would change (owner or another field);
- ``SALESFORCE_GATE_MAX_CHANGED_SHARE`` (default 0.25): the same as a share of the object's live records,
  counted from ``SALESFORCE_GATE_MIN_CHANGED_FOR_SHARE`` (default 20) changed records, so a young org with a
  handful of accounts does not stop on every manager change;
- ``SALESFORCE_GATE_MAX_CREATED`` (default 2000): new records a sync would create;
- ``SALESFORCE_GATE_MAX_CONVERSIONS`` (default 500): leads to convert.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk.exceptions import AirflowFailException

from include.activation.run_record import GATE_STEP, MAX_RECORDED_CHANGES, last_outcome, record_step
from include.lineage import ReportsLineage
from include.settings import warehouse_names

if TYPE_CHECKING:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
    from airflow.sdk import Context

log = logging.getLogger(__name__)

PLAN_MODEL = "MARTS.SALESFORCE_CHANGE_PLAN"
HELD_MODEL = "MARTS.ACTIVATION_HELD_SIGNUPS"
CONVERSION = "lead-conversion"
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class GateThresholds:
    max_changed: int = 200
    max_changed_share: float = 0.25
    min_changed_for_share: int = 20
    max_created: int = 2000
    max_conversions: int = 500
    response_minutes: int = 60

    @classmethod
    def from_env(cls) -> GateThresholds:
        """The thresholds the deployment sets (defaults above); a bad value is a clear error at DAG parse."""
        return cls(
            max_changed=_number(
                "SALESFORCE_GATE_MAX_CHANGED", os.environ.get("SALESFORCE_GATE_MAX_CHANGED", "200"), int
            ),
            max_changed_share=_number(
                "SALESFORCE_GATE_MAX_CHANGED_SHARE", os.environ.get("SALESFORCE_GATE_MAX_CHANGED_SHARE", "0.25"), float
            ),
            min_changed_for_share=_number(
                "SALESFORCE_GATE_MIN_CHANGED_FOR_SHARE",
                os.environ.get("SALESFORCE_GATE_MIN_CHANGED_FOR_SHARE", "20"),
                int,
            ),
            max_created=_number(
                "SALESFORCE_GATE_MAX_CREATED", os.environ.get("SALESFORCE_GATE_MAX_CREATED", "2000"), int
            ),
            max_conversions=_number(
                "SALESFORCE_GATE_MAX_CONVERSIONS", os.environ.get("SALESFORCE_GATE_MAX_CONVERSIONS", "500"), int
            ),
            response_minutes=_number(
                "SALESFORCE_GATE_RESPONSE_MINUTES", os.environ.get("SALESFORCE_GATE_RESPONSE_MINUTES", "60"), int
            ),
        )


def _number(name: str, raw: str, kind: type[int] | type[float]) -> Any:
    """``raw`` as a non-negative number (a share: at most 1), or a ValueError naming the variable."""
    share = kind is float
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a{'' if kind is int else ' decimal'} number") from None
    if value < 0 or (share and value > 1):
        raise ValueError(f"{name}={raw!r} is out of range ({'0-1' if share else '>= 0'})")
    return value


@dataclass(frozen=True)
class SyncPlan:
    """What one sync (or the lead conversion) would do to its object."""

    sync_slug: str
    salesforce_object: str
    created: int = 0
    owner_changes: int = 0
    updated: int = 0
    conversions: int = 0
    object_records: int = 0

    @property
    def changed(self) -> int:
        """Existing records the sync would change."""
        return self.owner_changes + self.updated


def plans_from_counts(rows: Iterable[Sequence[Any]]) -> list[SyncPlan]:
    """``(sync_slug, salesforce_object, change_kind, count, object_records)`` rows -> one plan per sync."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for slug, salesforce_object, kind, count, object_records in rows:
        entry = counts.setdefault((slug, salesforce_object), {"object_records": int(object_records or 0)})
        key = {"create": "created", "owner_change": "owner_changes", "update": "updated", "convert": "conversions"}
        entry[key[kind]] = entry.get(key[kind], 0) + int(count)
    return [SyncPlan(slug, obj, **values) for (slug, obj), values in sorted(counts.items())]


def reasons_to_stop(plans: Iterable[SyncPlan], limits: GateThresholds) -> list[str]:
    """Why the run must wait for a person, one sentence per crossed threshold; empty when it may go on."""
    reasons = []
    for plan in plans:
        name = f"{plan.sync_slug} would"
        if plan.changed > limits.max_changed:
            reasons.append(
                f"{name} change {plan.changed} existing {plan.salesforce_object} records"
                f" (more than {limits.max_changed})"
            )
        elif plan.changed >= limits.min_changed_for_share and plan.object_records:
            share = plan.changed / plan.object_records
            if share > limits.max_changed_share:
                reasons.append(
                    f"{name} change {plan.changed} of {plan.object_records} {plan.salesforce_object} records"
                    f" ({share:.0%}, more than {limits.max_changed_share:.0%})"
                )
        if plan.created > limits.max_created:
            reasons.append(
                f"{name} create {plan.created} {plan.salesforce_object} records (more than {limits.max_created})"
            )
        if plan.conversions > limits.max_conversions:
            reasons.append(f"{name} convert {plan.conversions} leads (more than {limits.max_conversions})")
    return reasons


def summary_line(plan: SyncPlan) -> str:
    if plan.sync_slug == CONVERSION:
        return f"{plan.sync_slug}: {plan.conversions} leads to convert"
    return (
        f"{plan.sync_slug} ({plan.salesforce_object}, {plan.object_records} live): {plan.created} to create,"
        f" {plan.changed} to change ({plan.owner_changes} owner changes)"
    )


def approval_body(plans: Sequence[SyncPlan], reasons: Sequence[str], sample: Sequence[Mapping[str, Any]]) -> str:
    """The Markdown the approver reads in Airflow: why it stopped, the counts, a sample of the changes."""
    lines = ["**Why this run stopped**", "", *(f"- {reason}" for reason in reasons), "", "**Planned changes**", ""]
    lines += [
        "| Sync | Object | Live records | Create | Change | of which owner | Convert |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {p.sync_slug} | {p.salesforce_object} | {p.object_records} | {p.created} | {p.changed}"
        f" | {p.owner_changes} | {p.conversions} |"
        for p in plans
    ]
    if sample:
        lines += ["", f"**Sample of the changes to existing records** (first {len(sample)})", ""]
        lines += ["| Sync | Record | Change | Owner now | Owner after | Fields |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {row['sync_slug']} | {row['record_key']} | {row['change_kind']}"
            f" | {row.get('current_owner_username') or row.get('current_owner_id') or ''}"
            f" | {row.get('planned_owner_username') or row.get('planned_owner_id') or ''}"
            f" | {row.get('changed_fields') or ''} |"
            for row in sample
        ]
    lines += ["", "Approve to let the syncs write these changes; reject to write nothing (the run fails and alerts)."]
    return "\n".join(lines)


# --- the edge: the warehouse ----------------------------------------------------------------------------------


def plan_table() -> str:
    return f"{warehouse_names().analytics_database}.{PLAN_MODEL}"


CHANGE_COLUMNS = ["sync_slug", "salesforce_object", "record_key", "record_label", "change_kind", "current_owner_id",
                  "current_owner_username", "planned_owner_id", "planned_owner_username", "owner_reason",
                  "changed_fields"]  # fmt: skip
HELD_COLUMNS = ["email", "first_name", "last_name", "workspace_id", "company_domain", "held_back_reason"]


def read_changes(warehouse: SnowflakeHook, limit: int) -> list[dict[str, Any]]:
    """Every planned change (up to ``limit``), for the run record."""
    rows = warehouse.get_records(
        f"SELECT {', '.join(CHANGE_COLUMNS)} FROM {plan_table()} ORDER BY SYNC_SLUG, RECORD_KEY LIMIT {int(limit)}"
    )
    return [dict(zip(CHANGE_COLUMNS, row, strict=True)) for row in rows or []]


def read_held_signups(warehouse: SnowflakeHook, limit: int) -> list[dict[str, Any]]:
    """The signups held back because sales deleted their record (the activation_held_signups mart)."""
    table = f"{warehouse_names().analytics_database}.{HELD_MODEL}"
    rows = warehouse.get_records(f"SELECT {', '.join(HELD_COLUMNS)} FROM {table} ORDER BY EMAIL LIMIT {int(limit)}")
    return [dict(zip(HELD_COLUMNS, row, strict=True)) for row in rows or []]


def read_plan(warehouse: SnowflakeHook) -> tuple[list[SyncPlan], list[dict[str, Any]]]:
    """Counts per sync and kind, and a sample of changes to existing records (owner changes first)."""
    counts = warehouse.get_records(
        f"SELECT SYNC_SLUG, SALESFORCE_OBJECT, CHANGE_KIND, COUNT(*), MAX(OBJECT_RECORDS) FROM {plan_table()}"
        " GROUP BY 1, 2, 3"
    )
    columns = ["sync_slug", "record_key", "change_kind", "current_owner_username", "planned_owner_username",
               "changed_fields"]  # fmt: skip
    sample = warehouse.get_records(
        f"SELECT {', '.join(columns)} FROM {plan_table()} WHERE CHANGE_KIND IN ('owner_change', 'update')"
        f" ORDER BY CHANGE_KIND, SYNC_SLUG, RECORD_KEY LIMIT {SAMPLE_SIZE}"
    )
    return plans_from_counts(counts or []), [dict(zip(columns, row, strict=True)) for row in sample or []]


class SalesforceChangeGate(ReportsLineage, ApprovalOperator):
    """Approval before the syncs, asked only when the change plan crosses a threshold (see the module)."""

    ui_color = "#FFB74D"

    def __init__(self, *, warehouse_conn_id: str, **kwargs: Any) -> None:
        from include.alerts import ApprovalRequestNotifier

        self.warehouse_conn_id = warehouse_conn_id
        self.thresholds = GateThresholds.from_env()
        super().__init__(
            subject="Approve the Salesforce changes of this activation run",
            response_timeout=timedelta(minutes=self.thresholds.response_minutes),
            notifiers=[ApprovalRequestNotifier()],
            **kwargs,
        )

    def execute(self, context: Context) -> Any:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include import lineage

        warehouse = SnowflakeHook(snowflake_conn_id=self.warehouse_conn_id)
        namespace = lineage.snowflake_namespace(self.warehouse_conn_id)
        lineage.report(self, inputs=[lineage.warehouse_dataset(plan_table(), namespace)])
        plans, sample = read_plan(warehouse)
        for plan in plans:
            self.log.info("Planned: %s", summary_line(plan))
        reasons = reasons_to_stop(plans, self.thresholds)
        self._measured = {
            "plans": [asdict(plan) for plan in plans],
            "reasons": reasons,
            "changes": read_changes(warehouse, MAX_RECORDED_CHANGES),
            "held_signups": read_held_signups(warehouse, MAX_RECORDED_CHANGES),
        }
        if not reasons:
            self.log.info("Below every threshold (%s): no approval needed", self.thresholds)
            self._record(context, "not needed", self._measured)
            return {"approval": "not needed", "plans": self._measured["plans"]}
        for reason in reasons:
            self.log.warning("Approval needed: %s", reason)
        self._record(context, "waiting", self._measured)
        self.body = approval_body(plans, reasons, sample)
        self.hitl_summary_extra["reasons"] = reasons
        return self._ask(context)

    def _ask(self, context: Context) -> None:
        """What ``HITLOperator.execute`` does, but waiting deferred on a trigger that only keeps time.

        Airflow 3.3.2 re-queues a task parked in AWAITING_INPUT a second after parking (so it would run and ask
        again), and the provider's ``HITLTrigger`` races the response API: both resume the task from the same answer
        and the second resume retries it. Here the response API alone resumes the task with the answer
        (``handle_event_submit`` on the deferred task); the trigger fires only when ``response_timeout`` passes.
        An answer within a second or so of the request, before the scheduler has processed the deferral, can be
        taken by Airflow 3.3's scheduler for a task "killed externally": the task is retried and asks again.
        """
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger
        from airflow.sdk.execution_time.hitl import upsert_hitl_detail
        from airflow.sdk.timezone import utcnow

        upsert_hitl_detail(
            ti_id=context["task_instance"].id,
            options=self.options,
            subject=self.subject,
            body=self.body,
            defaults=self.defaults,
            multiple=self.multiple,
            params=self.serialized_params,
            assigned_users=self.assigned_users,
        )
        deadline = utcnow() + timedelta(minutes=self.thresholds.response_minutes)
        self.hitl_summary_extra["timeout_datetime"] = deadline.isoformat()
        self.log.info("Waiting for a response until %s", deadline.isoformat())
        for notifier in self.notifiers:
            notifier(context)
        self.defer(trigger=DateTimeTrigger(moment=deadline), method_name="execute_complete")

    def execute_complete(self, context: Context, event: Any) -> Any:
        measured = self._last_measured(context)
        if not isinstance(event, dict) or "chosen_options" not in event or event.get("timedout"):
            self._record(context, "timed out", measured)
            raise AirflowFailException(
                f"No one approved the Salesforce changes within {self.thresholds.response_minutes} minutes"
                ": nothing was written to Salesforce. Look at the change plan"
                " (this task's log), fix what is wrong or raise the thresholds, and clear this task to ask again."
            )
        choice = (event.get("chosen_options") or [""])[0]
        who = (event.get("responded_by_user") or {}).get("name") or "someone"
        if choice == self.REJECT:
            self._record(context, "rejected", {**measured, "by": who})
            raise AirflowFailException(
                f"{who} rejected the Salesforce changes: nothing was written to Salesforce. Fix what is wrong (the"
                " change plan is in this task's log), then clear this task to ask again."
            )
        self.log.info("%s approved the Salesforce changes", who)
        self._record(context, "approved", {**measured, "by": who})
        return super().execute_complete(context, event)

    def _record(self, context: Context, decision: str, measured: Mapping[str, Any]) -> None:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        warehouse = SnowflakeHook(snowflake_conn_id=self.warehouse_conn_id)
        record_step(warehouse, context, GATE_STEP, decision, {"approval": decision, **measured})

    def _last_measured(self, context: Context) -> dict[str, Any]:
        """What this try measured before it waited (its record: the task resumes in a new process)."""
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        return last_outcome(SnowflakeHook(snowflake_conn_id=self.warehouse_conn_id), context, GATE_STEP)
