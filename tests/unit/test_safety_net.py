"""The hourly safety-net run of activate_salesforce does work only when an ingestion has not delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from include.safety_net import WINDOW, nothing_to_do

TICK = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
RECENT = TICK - timedelta(minutes=7)


def test_an_hourly_run_after_both_ingestions_delivered_has_nothing_to_do() -> None:
    reason = nothing_to_do("scheduled", TICK, {"raw.salesforce": RECENT, "raw.cloud_app.workspaces": RECENT})
    assert reason is not None
    assert "raw.salesforce at 08:53:00" in reason


@pytest.mark.parametrize(
    "deliveries",
    [
        {"raw.salesforce": RECENT, "raw.cloud_app.workspaces": TICK - WINDOW - timedelta(seconds=1)},
        {"raw.salesforce": RECENT, "raw.cloud_app.workspaces": None},
        {"raw.salesforce": None, "raw.cloud_app.workspaces": None},
    ],
)
def test_an_hourly_run_works_when_an_ingestion_is_late_or_never_delivered(deliveries) -> None:
    assert nothing_to_do("scheduled", TICK, deliveries) is None


@pytest.mark.parametrize("run_type", ["asset_triggered", "manual", "backfill"])
def test_asset_triggered_and_manual_runs_always_work(run_type: str) -> None:
    assert nothing_to_do(run_type, TICK, {"raw.salesforce": RECENT, "raw.cloud_app.workspaces": RECENT}) is None
