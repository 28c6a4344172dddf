"""Defaults every DAG shares: ownership, retries with backoff, a task time limit, and the failure alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from include.alerts import task_failure_alert

OWNER = "data-platform"


def default_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=30),
        # One message per failed task (after its last try) to the alerts webhook: include/alerts.py.
        "on_failure_callback": [task_failure_alert()],
    }
    args.update(overrides)
    return args
