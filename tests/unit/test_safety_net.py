"""The hourly safety-net run of activate_salesforce does work only when an ingestion has not delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from include.assets import INGESTED_ASSETS
from include.safety_net import WINDOW, nothing_to_do, skip_when_nothing_to_do

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


class _Events:
    """An asset's events as ``context["inlet_events"][asset]`` gives them (airflow.sdk InletEventsAccessor)."""

    def __init__(self, timestamps: list[datetime]) -> None:
        self.timestamps, self.query = timestamps, {}

    def ascending(self, ascending: bool = True) -> _Events:
        self.query["ascending"] = ascending
        return self

    def limit(self, limit: int) -> _Events:
        self.query["limit"] = limit
        return self

    def _selected(self) -> list[datetime]:
        ordered = sorted(self.timestamps, reverse=not self.query.get("ascending", True))
        return ordered[: self.query.get("limit", len(ordered))]

    def __len__(self) -> int:
        return len(self._selected())

    def __getitem__(self, index: int):
        return SimpleNamespace(timestamp=self._selected()[index])


def _context(run_type: str, deliveries: dict[str, list[datetime]]) -> dict:
    events = {asset: _Events(deliveries.get(asset.name, [])) for asset in INGESTED_ASSETS}
    return {"dag_run": SimpleNamespace(run_type=run_type, run_after=TICK), "inlet_events": events}


def test_the_build_task_skips_a_redundant_hourly_run_reading_only_the_newest_event_of_each_asset() -> None:
    old = TICK - timedelta(days=3)
    context = _context("scheduled", {asset.name: [old, RECENT] for asset in INGESTED_ASSETS})
    with pytest.raises(AirflowSkipException, match="nothing to catch up"):
        skip_when_nothing_to_do(context)
    for events in context["inlet_events"].values():
        assert events.query == {"ascending": False, "limit": 1}


def test_the_build_task_runs_an_hourly_run_when_an_ingestion_has_not_delivered() -> None:
    context = _context("scheduled", {"raw.salesforce": [RECENT]})
    skip_when_nothing_to_do(context)  # no exception: the build runs
