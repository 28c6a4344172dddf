"""Fixes for upstream bugs the pipeline runs into, each applied by one plugin and each deleted once upstream fixes it.

Clearing a task of an activate_salesforce run (the gate's "clear it to ask again", or re-running a failed model's
task) fails on Airflow 3.3.2 while the run's DeadlineAlert is pending: the API server answers HTTP 500 with
``TypeError: unsupported type for timedelta seconds component: dict``. Clearing moves the run's ``queued_at`` and
re-computes its pending ``DAGRUN_QUEUED_AT`` deadlines (``airflow.models.taskinstance.
_recalculate_dagrun_queued_at_deadlines``), which reads the alert's stored interval as seconds, while Airflow 3.3
stores it serialized (``{"__classname__": "datetime.timedelta", "__version__": 2, "__data__": 2700.0}``: the
``deadline_alert.interval`` column). ``fix_deadline_recalculation_on_clear`` replaces that function with the same
one reading the interval through ``airflow.sdk.serde``; ``plugins/upstream_fixes.py`` applies it in every process
that loads plugins (the API server, where the UI and the REST API clear). The CLI (``airflow tasks clear``) does
not load plugins: clear from the UI or the REST API, or once the run's deadline has passed. (Deadline alerts, and
that DAGRUN_QUEUED_AT counts from when the run was queued:
https://airflow.apache.org/docs/apache-airflow/stable/howto/deadline-alerts.html)

The replaced function and the models its copy reads are listed in include/upstream_internals.py: an upgrade that
changes them fails a test, and then the fix is either adapted or, once Airflow reads the interval itself (a unit
test says so), deleted with its plugin.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: The upstream functions a fix replaced, by name (tests call them to see whether upstream still needs the fix).
REPLACED: dict[str, Callable[..., Any]] = {}


def deadline_interval(stored: Any) -> timedelta:
    """A DeadlineAlert's interval as stored in the metadata database (seconds, or serialized), as a timedelta."""
    if isinstance(stored, dict):
        from airflow.sdk.serde import deserialize

        stored = deserialize(stored)
    if isinstance(stored, timedelta):
        return stored
    if isinstance(stored, int | float) and not isinstance(stored, bool):
        return timedelta(seconds=stored)
    raise TypeError(f"a DeadlineAlert interval this fix cannot read: {stored!r}")


def recalculate_dagrun_queued_at_deadlines(dagrun: Any, new_queued_at: datetime, session: Session) -> None:
    """Airflow 3.3.2's ``_recalculate_dagrun_queued_at_deadlines``, reading the interval with ``deadline_interval``."""
    from airflow.models.deadline import Deadline, ReferenceModels
    from airflow.models.deadline_alert import DeadlineAlert as DeadlineAlertModel
    from sqlalchemy import false, select

    results = session.execute(
        select(Deadline, DeadlineAlertModel)
        .join(DeadlineAlertModel, Deadline.deadline_alert_id == DeadlineAlertModel.id)
        .where(
            Deadline.dagrun_id == dagrun.id,
            Deadline.missed == false(),
            DeadlineAlertModel.reference[ReferenceModels.REFERENCE_TYPE_FIELD].as_string()
            == ReferenceModels.DagRunQueuedAtDeadline.__name__,
        )
    ).all()
    for deadline, deadline_alert in results:
        deadline.deadline_time = new_queued_at + deadline_interval(deadline_alert.interval)
        log.debug("Deadline %s of %s.%s moved to %s", deadline.id, dagrun.dag_id, dagrun.run_id, deadline.deadline_time)
    # No flush or commit: the caller's transaction (the clear) commits it, as upstream's function leaves it.


def fix_deadline_recalculation_on_clear() -> bool:
    """Apply the fix when the installed Airflow still has the broken function; True when it was applied."""
    from airflow.models import taskinstance

    name = "_recalculate_dagrun_queued_at_deadlines"
    current = getattr(taskinstance, name, None)
    if current is recalculate_dagrun_queued_at_deadlines:
        return True
    if current is None:  # gone upstream: the internals test names it
        return False
    REPLACED[name] = current
    setattr(taskinstance, name, recalculate_dagrun_queued_at_deadlines)
    return True
