"""The fixes of upstream bugs (include/upstream_fixes.py): each one works, and each one is still needed.

When Airflow fixes a bug itself, ``test_..._is_still_broken_upstream`` fails and says so: then delete the fix, its
plugin and its lines in include/upstream_internals.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from include import upstream_fixes
from include.upstream_fixes import deadline_interval, fix_deadline_recalculation_on_clear

# The interval column of Airflow 3.3's deadline_alert table, for a DeadlineAlert(interval=timedelta(minutes=45)).
STORED = {"__classname__": "datetime.timedelta", "__version__": 2, "__data__": 2700.0}
QUEUED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Session:
    """The one query the recalculation makes: its (Deadline, DeadlineAlert) rows."""

    def __init__(self, rows: list[tuple[SimpleNamespace, SimpleNamespace]]) -> None:
        self.rows = rows

    def execute(self, statement):
        return SimpleNamespace(all=lambda: self.rows)


def _pending(interval) -> tuple[SimpleNamespace, SimpleNamespace]:
    return SimpleNamespace(id="d1", deadline_time=None), SimpleNamespace(interval=interval)


def _upstream():
    from airflow.models import taskinstance

    fix_deadline_recalculation_on_clear()
    return upstream_fixes.REPLACED["_recalculate_dagrun_queued_at_deadlines"], taskinstance


@pytest.mark.parametrize(
    "stored", [STORED, 2700, 2700.0, timedelta(minutes=45)], ids=["serialized", "int", "float", "timedelta"]
)
def test_a_stored_interval_reads_as_a_timedelta(stored) -> None:
    assert deadline_interval(stored) == timedelta(minutes=45)


@pytest.mark.parametrize("stored", [{"__classname__": "datetime.datetime", "__version__": 2, "__data__": 0}, "45m"])
def test_an_interval_it_cannot_read_is_a_clear_error(stored) -> None:
    with pytest.raises((TypeError, ValueError, ImportError)):
        deadline_interval(stored)


def test_clearing_moves_a_pending_queued_at_deadline_by_its_interval() -> None:
    _, taskinstance = _upstream()
    deadline, alert = _pending(STORED)
    dagrun = SimpleNamespace(id=1, dag_id="activate_salesforce", run_id="manual__1")
    taskinstance._recalculate_dagrun_queued_at_deadlines(dagrun, QUEUED, Session([(deadline, alert)]))
    assert deadline.deadline_time == QUEUED + timedelta(minutes=45)


FIXED_UPSTREAM = (
    "Airflow now reads a stored DeadlineAlert interval when a clear moves the deadline: delete the fix "
    "(include/upstream_fixes.py), plugins/upstream_fixes.py and their lines in include/upstream_internals.py"
)


def test_the_deadline_recalculation_on_clear_is_still_broken_upstream() -> None:
    original, _ = _upstream()
    deadline, alert = _pending(STORED)
    dagrun = SimpleNamespace(id=1, dag_id="activate_salesforce", run_id="manual__1")
    error = None
    try:
        original(dagrun, QUEUED, Session([(deadline, alert)]))
    except TypeError as raised:
        error = str(raised)
    assert error is not None, FIXED_UPSTREAM
    assert "timedelta" in error


def test_the_fix_is_applied_once() -> None:
    _, taskinstance = _upstream()
    assert fix_deadline_recalculation_on_clear()
    assert taskinstance._recalculate_dagrun_queued_at_deadlines is upstream_fixes.recalculate_dagrun_queued_at_deadlines
