"""An incoming webhook, Slack- and Mattermost-compatible, that records every message it accepts.

What it claims about the real services (and tests rely on):

- Slack, "Sending messages using incoming webhooks" (https://api.slack.com/messaging/webhooks): the app POSTs a
  JSON body to the webhook URL; ``text`` is the message (with ``blocks``/``attachments`` as alternatives); the
  answer is HTTP 200 with the body ``ok``; a body that is not JSON is HTTP 400 ``invalid_payload`` and a message
  with no text (nor blocks or attachments) HTTP 400 ``no_text`` ("Handling errors" on that page).
- Mattermost, "Incoming webhooks" (https://developers.mattermost.com/integrate/webhooks/incoming/): URLs are
  ``https://<server>/hooks/<generated key>``; the same JSON payload (``text``, optional ``channel``,
  ``username``, ``icon_url``, ``attachments``) is accepted, "Slack-compatible"; an unknown key is an error.

So the sink serves ``POST /hooks/{key}`` (the Mattermost form of the URL; the key the local cloud generates is
the only one it knows), and for tests ``GET``/``DELETE /_admin/webhook-messages`` (every accepted message, in
arrival order, with its key and arrival time). Messages persist in SQLite beside the emulator's other state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

#: The one webhook key of the local cloud (its URL is the ``alerts_webhook`` connection's password).
WEBHOOK_KEY = "localcloud-alerts"


class MessageStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, key TEXT, received_at TEXT, body TEXT)"
        )
        self._db.commit()

    def add(self, key: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO messages (key, received_at, body) VALUES (?, ?, ?)",
                (key, datetime.now(UTC).isoformat(), json.dumps(body)),
            )
            self._db.commit()

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT key, received_at, body FROM messages ORDER BY id").fetchall()
        return [{"key": key, "received_at": at, "body": json.loads(body)} for key, at, body in rows]

    def clear(self) -> int:
        with self._lock:
            deleted = self._db.execute("DELETE FROM messages").rowcount
            self._db.commit()
        return deleted


def webhook_router(state_dir: Path, admin: Any) -> APIRouter:
    """The sink's routes; ``admin`` is the dependency that guards the ``/_admin`` ones."""
    store = MessageStore(state_dir / "webhook_messages.sqlite")
    router = APIRouter()

    @router.post("/hooks/{key}", include_in_schema=False)
    async def receive(key: str, request: Request) -> PlainTextResponse:
        if key != WEBHOOK_KEY:
            return PlainTextResponse("no_service", status_code=404)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(body, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        if not (body.get("text") or body.get("blocks") or body.get("attachments")):
            return PlainTextResponse("no_text", status_code=400)
        store.add(key, body)
        return PlainTextResponse("ok")

    @router.get("/_admin/webhook-messages", dependencies=[Depends(admin)], include_in_schema=False)
    def messages() -> list[dict[str, Any]]:
        return store.all()

    @router.delete("/_admin/webhook-messages", dependencies=[Depends(admin)], include_in_schema=False)
    def clear() -> dict[str, int]:
        return {"deleted": store.clear()}

    return router
