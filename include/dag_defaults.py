"""Defaults every DAG shares: ownership, retries with backoff, and a task time limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

OWNER = "data-platform"


def default_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=30),
    }
    args.update(overrides)
    return args
