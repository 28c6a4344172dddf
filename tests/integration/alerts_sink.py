"""What the local cloud's alerts webhook (dev/chat/sink.py) has received, for tests of the messages."""

from __future__ import annotations

from typing import Any

import requests

from dev.localcloud.settings import CLOUD_APP_TOKEN
from tests.integration.conftest import TEST_PORTS

MESSAGES = f"http://127.0.0.1:{TEST_PORTS['LOCALCLOUD_CLOUD_APP_PORT']}/_admin/webhook-messages"
HEADERS = {"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}


def clear_alerts() -> None:
    requests.delete(MESSAGES, headers=HEADERS, timeout=10).raise_for_status()


def alert_texts() -> list[str]:
    response = requests.get(MESSAGES, headers=HEADERS, timeout=10)
    response.raise_for_status()
    return [message["body"]["text"] for message in response.json()]


def alerts_about(fragment: str) -> list[str]:
    """The messages whose first line names ``fragment`` (e.g. ``"activate_salesforce.sync_x"``)."""
    return [text for text in alert_texts() if fragment in text.splitlines()[0]]


def fields(text: str) -> dict[str, Any]:
    """The ``Label: value`` lines of a message before its error, by label."""
    head = text.split("\nError:\n", 1)[0]
    pairs = (line.split(": ", 1) for line in head.splitlines() if ": " in line)
    return {label: value for label, value in pairs}
