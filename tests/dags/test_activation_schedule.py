"""activate_salesforce runs when both ingestions delivered, plus a timer run as a safety net that
ACTIVATION_SAFETY_NET_SCHEDULE sets (hourly by default) or turns off (empty). Checked on the DAG as the scheduler
reads it: serialized by the dag-processor, then deserialized."""

from __future__ import annotations

from pathlib import Path

import pytest

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "activate_salesforce.py"
INGESTIONS = {"raw.cloud_app.workspaces", "raw.salesforce"}


def _scheduled_activation(monkeypatch, safety_net: str | None):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    if safety_net is None:
        monkeypatch.delenv("ACTIVATION_SAFETY_NET_SCHEDULE", raising=False)
    else:
        monkeypatch.setenv("ACTIVATION_SAFETY_NET_SCHEDULE", safety_net)
    bag = DagBag(dag_folder=str(DAG_FILE), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    return DagSerialization.from_dict(DagSerialization.to_dict(bag.dags["activate_salesforce"]))


def _waits_for_every_ingestion(timetable) -> None:
    from airflow.serialization.definitions.assets import SerializedAssetAll

    condition = timetable.asset_condition
    assert type(condition) is SerializedAssetAll, f"activation must wait for all ingestions, not {type(condition)}"
    assert {asset.name for asset in condition.objects} >= INGESTIONS


@pytest.mark.parametrize(("safety_net", "cron"), [(None, "0 * * * *"), ("30 */4 * * *", "30 */4 * * *")])
def test_the_safety_net_runs_on_its_cron_beside_the_assets(monkeypatch, safety_net: str | None, cron: str) -> None:
    from airflow.timetables.assets import AssetOrTimeSchedule

    timetable = _scheduled_activation(monkeypatch, safety_net).timetable
    assert type(timetable) is AssetOrTimeSchedule
    assert timetable.timetable.summary == cron
    _waits_for_every_ingestion(timetable)


def test_an_empty_safety_net_schedule_leaves_only_the_assets(monkeypatch) -> None:
    from airflow.timetables.simple import AssetTriggeredTimetable

    timetable = _scheduled_activation(monkeypatch, "").timetable
    assert type(timetable) is AssetTriggeredTimetable
    _waits_for_every_ingestion(timetable)
