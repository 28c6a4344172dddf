"""The gate before Salesforce: thresholds from the environment, the verdict, what the approver reads."""

from __future__ import annotations

import pytest

from include.activation.change_gate import (
    GateThresholds,
    SyncPlan,
    approval_body,
    plans_from_counts,
    reasons_to_stop,
)

LIMITS = GateThresholds(max_changed=200, max_changed_share=0.25, min_changed_for_share=20, max_created=2000,
                        max_conversions=500)  # fmt: skip


def test_counts_become_one_plan_per_sync() -> None:
    rows = [
        ("salesforce-accounts", "Account", "create", 3, 40),
        ("salesforce-accounts", "Account", "owner_change", 30, 40),
        ("salesforce-accounts", "Account", "update", 2, 40),
        ("lead-conversion", "Lead", "convert", 4, 90),
    ]
    assert plans_from_counts(rows) == [
        SyncPlan("lead-conversion", "Lead", conversions=4, object_records=90),
        SyncPlan("salesforce-accounts", "Account", created=3, owner_changes=30, updated=2, object_records=40),
    ]


def test_reassigning_most_accounts_stops_the_run() -> None:
    plan = SyncPlan("salesforce-accounts", "Account", owner_changes=30, updated=2, object_records=40)
    assert reasons_to_stop([plan], LIMITS) == [
        "salesforce-accounts would change 32 of 40 Account records (80%, more than 25%)"
    ]


def test_every_threshold_is_its_own_reason() -> None:
    plans = [
        SyncPlan("salesforce-contacts", "Contact", created=2001, updated=201, object_records=100000),
        SyncPlan("lead-conversion", "Lead", conversions=501, object_records=600),
    ]
    assert reasons_to_stop(plans, LIMITS) == [
        "salesforce-contacts would change 201 existing Contact records (more than 200)",
        "salesforce-contacts would create 2001 Contact records (more than 2000)",
        "lead-conversion would convert 501 leads (more than 500)",
    ]


@pytest.mark.parametrize(
    "plan",
    [
        SyncPlan("salesforce-accounts", "Account", owner_changes=19, object_records=20),  # few, though 95%
        SyncPlan("salesforce-accounts", "Account", owner_changes=25, object_records=100),  # 25%: not more
        SyncPlan("salesforce-accounts", "Account", created=2000, object_records=0),
        SyncPlan("lead-conversion", "Lead", conversions=500, object_records=500),
    ],
)
def test_at_or_below_the_thresholds_the_run_goes_on(plan: SyncPlan) -> None:
    assert reasons_to_stop([plan], LIMITS) == []


def test_thresholds_come_from_the_environment_with_clear_errors(monkeypatch) -> None:
    assert GateThresholds.from_env() == GateThresholds()
    monkeypatch.setenv("SALESFORCE_GATE_MAX_CHANGED", "5")
    monkeypatch.setenv("SALESFORCE_GATE_MAX_CHANGED_SHARE", "0.5")
    assert GateThresholds.from_env() == GateThresholds(max_changed=5, max_changed_share=0.5)
    monkeypatch.setenv("SALESFORCE_GATE_MAX_CHANGED", "many")
    with pytest.raises(ValueError, match=r"SALESFORCE_GATE_MAX_CHANGED='many' is not a number"):
        GateThresholds.from_env()
    monkeypatch.setenv("SALESFORCE_GATE_MAX_CHANGED", "5")
    monkeypatch.setenv("SALESFORCE_GATE_MAX_CHANGED_SHARE", "2")
    with pytest.raises(ValueError, match=r"SALESFORCE_GATE_MAX_CHANGED_SHARE='2' is out of range \(0-1\)"):
        GateThresholds.from_env()


def test_the_approver_reads_why_the_counts_and_a_sample() -> None:
    plans = [SyncPlan("salesforce-accounts", "Account", created=1, owner_changes=30, object_records=40)]
    sample = [{"sync_slug": "salesforce-accounts", "record_key": "acct-1", "change_kind": "owner_change",
               "current_owner_username": "avery@example.com", "planned_owner_username": "queue@example.com",
               "changed_fields": "owner_id"}]  # fmt: skip
    body = approval_body(plans, ["salesforce-accounts would change 30 of 40 Account records"], sample)
    assert "- salesforce-accounts would change 30 of 40 Account records" in body
    assert "| salesforce-accounts | Account | 40 | 1 | 30 | 30 | 0 |" in body
    assert "| salesforce-accounts | acct-1 | owner_change | avery@example.com | queue@example.com | owner_id |" in body
    assert body.endswith("reject to write nothing (the run fails and alerts).")
