"""Persistent state of the Hightouch emulator: runs, per-row errors, each sync's last synced rows, and the
workspace's changes to the catalogue (syncs disabled, scheduled or removed; models pointed at another table)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TERMINAL = ("success", "warning", "failed", "cancelled", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS row_errors (
    run_id INTEGER NOT NULL,
    primary_key TEXT NOT NULL,
    message TEXT NOT NULL
);
-- What the destination holds after the last successful write of each row: the base of the next diff.
CREATE TABLE IF NOT EXISTS synced_rows (
    sync_id TEXT NOT NULL,
    primary_key TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    PRIMARY KEY (sync_id, primary_key)
);
-- Changes made through the API (PATCH) or the admin endpoints, over the catalogue: kind is 'sync' or 'model'.
CREATE TABLE IF NOT EXISTS overrides (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
"""
# Run ids start high so they never look like sync ids in logs.
_FIRST_RUN_ID = 50_000


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        if self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0:
            self._db.execute(
                "INSERT OR REPLACE INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (_FIRST_RUN_ID - 1,)
            )
        self._db.commit()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise

    def create_run(self, sync_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._tx() as db:
            cursor = db.execute("INSERT INTO runs (sync_id, body) VALUES (?, '{}')", (sync_id,))
            run = {**body, "id": cursor.lastrowid}
            db.execute("UPDATE runs SET body = ? WHERE id = ?", (json.dumps(run), cursor.lastrowid))
        return run

    def save_run(self, run: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET body = ? WHERE id = ?", (json.dumps(run), int(run["id"])))

    def run(self, sync_id: str, run_id: str | int) -> dict[str, Any] | None:
        if not str(run_id).isdigit():
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM runs WHERE id = ? AND sync_id = ?", (int(run_id), sync_id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def runs(self, sync_id: str) -> list[dict[str, Any]]:
        """Every run of a sync, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM runs WHERE sync_id = ? ORDER BY id", (sync_id,)).fetchall()
        return [json.loads(body) for (body,) in rows]

    def latest_run(self, sync_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM runs WHERE sync_id = ? ORDER BY id DESC LIMIT 1", (sync_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def overrides(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM overrides WHERE kind = ?", (kind,)).fetchall()
        return {key: json.loads(body) for key, body in rows}

    def set_override(self, kind: str, key: str, body: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO overrides VALUES (?, ?, ?)", (kind, key, json.dumps(body)))

    def clear_overrides(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM overrides")

    def unfinished_runs(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM runs ORDER BY id").fetchall()
        return [run for run in (json.loads(body) for (body,) in rows) if run["status"] not in TERMINAL]

    def add_row_errors(self, run_id: str, errors: list[tuple[str, str]]) -> None:
        with self._tx() as db:
            db.executemany("INSERT INTO row_errors VALUES (?, ?, ?)", [(int(run_id), pk, msg) for pk, msg in errors])

    def row_errors(self, run_id: str) -> list[dict[str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT primary_key, message FROM row_errors WHERE run_id = ? ORDER BY primary_key", (int(run_id),)
            ).fetchall()
        return [{"primaryKey": pk, "message": msg} for pk, msg in rows]

    def synced_hashes(self, sync_id: str) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT primary_key, row_hash FROM synced_rows WHERE sync_id = ?", (sync_id,)
            ).fetchall()
        return dict(rows)

    def record_synced(self, sync_id: str, written: dict[str, str], removed: list[str]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO synced_rows VALUES (?, ?, ?)", [(sync_id, pk, h) for pk, h in written.items()]
            )
            db.executemany(
                "DELETE FROM synced_rows WHERE sync_id = ? AND primary_key = ?", [(sync_id, pk) for pk in removed]
            )
