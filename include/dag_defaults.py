"""Defaults every DAG shares: ownership, retries with backoff, and a task time limit."""

from __future__ import annotations

import re
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


def safe_key(value: str) -> str:
    """A run id or timestamp as an S3-key- and stage-path-safe token (no ':', '+', spaces or '=')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", value).strip("_")
