"""The run page: what one activation run did to Salesforce, per account manager, from the run's own record.

Served inside Airflow by ``plugins/activation_run_page.py`` (a "What this run did" tab on every run of
``activate_salesforce``), on a laptop and on Astro alike. It reads nothing but the run record
(``run_record.py``: the gate's change plan and held-back signups, each sync's Hightouch run, the lead
conversion), so it shows what the run measured and did at the time, not what Salesforce holds today.

``build_page`` shapes the records (pure, unit-tested); ``render`` fills the template; ``read_steps`` is the one
query. The account managers' table counts what the run planned for each owner (the gate's change plan: records
to create, records moving to them); each sync's own line says how much of it Hightouch wrote.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from include.activation.run_record import CONVERSION_STEP, GATE_STEP, run_log_table

if TYPE_CHECKING:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

TEMPLATE = "run_page.html.j2"
OBJECTS = ("Account", "Contact", "Opportunity", "Task")
PLURALS = {"Account": "accounts", "Contact": "contacts", "Opportunity": "opportunities", "Task": "tasks"}
NO_OWNER = "(no owner)"
# Why an account got its owner (the accounts mart's owner_source), in words.
OWNER_REASONS = {
    "account_owner": "owner of the existing account",
    "assigned_before": "kept the owner it already had",
    "lead_owner": "owner of the person's lead",
    "roster": "account manager roster (region rotation)",
    "default_owner": "default owner (no roster match)",
}
HELD_REASONS = {
    "account_deleted": "sales deleted the company's account",
    "contact_deleted": "sales deleted the person's contact",
}


@dataclass(frozen=True)
class SyncLine:
    slug: str
    status: str
    hightouch_run_id: str | None
    planned: Mapping[str, int]
    successful: Mapping[str, int]
    failed: Mapping[str, int]
    error: str | None
    link: str | None


@dataclass
class ManagerView:
    owner: str
    created: Counter[str] = field(default_factory=Counter)  # object -> records to create for them
    moved_in: int = 0  # existing records moving to them
    moved_out: int = 0  # existing records moving away from them
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (account, why this owner)
    contacts: list[str] = field(default_factory=list)


@dataclass
class RunPage:
    dag_id: str
    run_id: str
    recorded: bool  # False: the run wrote no record (not an activation run, or it stopped before the gate)
    approval: str | None = None
    approved_by: str | None = None
    reasons: list[str] = field(default_factory=list)
    syncs: list[SyncLine] = field(default_factory=list)
    managers: list[ManagerView] = field(default_factory=list)
    conversions: Mapping[str, Any] = field(default_factory=dict)
    failed_leads: list[Mapping[str, Any]] = field(default_factory=list)
    held_signups: list[Mapping[str, Any]] = field(default_factory=list)
    planned_totals: Counter[str] = field(default_factory=Counter)

    @property
    def not_in_salesforce(self) -> bool:
        return bool(
            self.held_signups
            or self.failed_leads
            or any(s.status != "success" for s in self.syncs)
            or self.approval in {"rejected", "timed out", "waiting"}
        )


def _counts(value: Any) -> dict[str, int]:
    return {k: int(v or 0) for k, v in dict(value or {}).items()}


def build_page(dag_id: str, run_id: str, steps: Iterable[Mapping[str, Any]]) -> RunPage:
    """Shape a run's step records (``{step, status, outcome}``, the last try of each) into the page."""
    by_step = {step["step"]: step for step in steps}
    page = RunPage(dag_id, run_id, recorded=bool(by_step))
    gate = by_step.pop(GATE_STEP, None)
    conversion = by_step.pop(CONVERSION_STEP, None)
    if gate:
        outcome = gate["outcome"]
        page.approval, page.approved_by = gate["status"], outcome.get("by")
        page.reasons = list(outcome.get("reasons") or [])
        page.held_signups = sorted(outcome.get("held_signups") or [], key=lambda s: s.get("email") or "")
        page.managers = _managers(outcome.get("changes") or [])
        for change in outcome.get("changes") or []:
            page.planned_totals[change["change_kind"]] += 1
    for slug, step in sorted(by_step.items()):
        outcome = step["outcome"]
        page.syncs.append(
            SyncLine(
                slug=slug,
                status=step["status"],
                hightouch_run_id=outcome.get("run_id"),
                planned=_counts(outcome.get("planned_rows")),
                successful=_counts(outcome.get("successful_rows")),
                failed=_counts(outcome.get("failed_rows")),
                error=outcome.get("error"),
                link=(outcome.get("links") or {}).get("Hightouch run"),
            )
        )
    if conversion:
        outcome = conversion["outcome"]
        page.conversions = {k: outcome.get(k, 0) for k in ("planned", "successful", "already_converted", "failed")}
        page.failed_leads = [lead for lead in outcome.get("leads") or [] if lead.get("outcome") == "failed"]
    return page


def _managers(changes: Iterable[Mapping[str, Any]]) -> list[ManagerView]:
    views: dict[str, ManagerView] = defaultdict(lambda: ManagerView(""))
    for change in changes:
        owner = change.get("planned_owner_username") or change.get("planned_owner_id") or NO_OWNER
        kind, obj = change["change_kind"], change["salesforce_object"]
        if obj not in OBJECTS or kind not in {"create", "owner_change"}:
            continue
        view = views[owner]
        view.owner = owner
        if kind == "create":
            view.created[obj] += 1
            if obj == "Account":
                reason = OWNER_REASONS.get(change.get("owner_reason") or "", "")
                view.accounts.append((change.get("record_label") or change["record_key"], reason))
            elif obj == "Contact":
                view.contacts.append(change.get("record_label") or change["record_key"])
        else:
            view.moved_in += 1
            previous = change.get("current_owner_username") or change.get("current_owner_id") or NO_OWNER
            views[previous].owner = previous
            views[previous].moved_out += 1
    for view in views.values():
        view.accounts.sort()
        view.contacts.sort()
    return sorted(views.values(), key=lambda v: (-sum(v.created.values()) - v.moved_in, v.owner.lower()))


def render(page: RunPage, run_url: str) -> str:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE).render(
        page=page, run_url=run_url, objects=OBJECTS, plurals=PLURALS, held_reasons=HELD_REASONS
    )


# --- the edge: the warehouse ----------------------------------------------------------------------------------


def read_steps(warehouse: SnowflakeHook, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """The last try of each step the run recorded."""
    rows = warehouse.get_records(
        f"SELECT RECORD:step::VARCHAR, RECORD:status::VARCHAR, RECORD:outcome, RECORD:try_number::INTEGER"
        f" FROM {run_log_table()} WHERE RECORD:dag_id::VARCHAR = %(dag_id)s AND RECORD:run_id::VARCHAR = %(run_id)s"
        " ORDER BY 1, 4",
        parameters={"dag_id": dag_id, "run_id": run_id},
    )
    last: dict[str, dict[str, Any]] = {}
    for step, status, outcome, _ in rows or []:
        last[step] = {
            "step": step,
            "status": status,
            "outcome": json.loads(outcome) if isinstance(outcome, str) else outcome,
        }
    return list(last.values())
