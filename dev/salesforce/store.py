"""Records, Id counters, sessions and query cursors in SQLite, with an in-memory working set.

Everything is read at start-up and written through on commit, so reads (SOQL scans every record of an
object) never touch the disk. One re-entrant lock serialises requests: a composite request holds it
from its first record to its commit, which is what makes ``allOrNone`` all-or-nothing.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dev.salesforce.ids import checksum, make_id
from dev.salesforce.schema import sobject
from dev.salesforce.values import format_datetime, parse_datetime

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, sobject TEXT NOT NULL, fields TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (prefix TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, user_id TEXT NOT NULL, issued_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (
    locator TEXT PRIMARY KEY, batch_size INTEGER NOT NULL, total INTEGER NOT NULL, used_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cursor_pages (
    locator TEXT NOT NULL, page INTEGER NOT NULL, records TEXT NOT NULL, PRIMARY KEY (locator, page)
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
CURSOR_PREFIX = "01g"  # the key prefix of real query locators
CURSOR_IDLE_SECONDS = 15 * 60  # Salesforce drops a query cursor after 15 minutes without use


@dataclass(frozen=True)
class Record:
    """One sObject row. Never mutated once stored: writers build a new Record, so rollback can restore."""

    sobject: str
    fields: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.fields["Id"])

    @property
    def deleted(self) -> bool:
        return bool(self.fields.get("IsDeleted"))


@dataclass(frozen=True)
class Page:
    """Up to one batch of a query result, from some offset on; ``total`` is the whole result's size."""

    records: list[dict[str, Any]]
    total: int


class Store:
    def __init__(self, path: Path) -> None:
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._by_id: dict[str, Record] = {}
        self._by_object: dict[str, dict[str, Record]] = {}
        self._unique: dict[tuple[str, str, str], str] = {}
        for record_id, object_name, fields in self._db.execute("SELECT id, sobject, fields FROM records ORDER BY id"):
            self._place(record_id, Record(object_name, json.loads(fields)))
        self._counters = dict(self._db.execute("SELECT prefix, value FROM counters").fetchall())
        self._tokens = dict(self._db.execute("SELECT token, user_id FROM tokens").fetchall())
        stamps = [parse_datetime(r.fields["SystemModstamp"]) for r in self._by_id.values()]
        self._last_stamp = max((s for s in stamps if s), default=datetime.min.replace(tzinfo=UTC))

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # --- records -----------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return not self._by_id

    def get(self, record_id: str) -> Record | None:
        return self._by_id.get(record_id)

    def records(self, object_name: str) -> list[Record]:
        """Every record of the object, deleted ones included, in creation order."""
        return list(self._by_object.get(object_name, {}).values())

    def find_unique(self, object_name: str, field_key: str, value: str) -> Record | None:
        """The live record holding ``value`` in a unique field; matching ignores case, as Salesforce's does."""
        record_id = self._unique.get((object_name, field_key, value.casefold()))
        return self._by_id[record_id] if record_id else None

    def find_all(self, object_name: str, field_key: str, value: str) -> list[Record]:
        """Every live record holding ``value`` (ignoring case), for fields that are not unique."""
        wanted = value.casefold()
        return [
            r
            for r in self.records(object_name)
            if not r.deleted and r.fields.get(field_key) is not None and str(r.fields[field_key]).casefold() == wanted
        ]

    def reindex(self) -> None:
        """Rebuild the unique-value index, after the org's schema changed which fields are unique."""
        with self.lock:
            self._unique.clear()
            for record_id, record in self._by_id.items():
                for key in self._unique_keys(record):
                    self._unique[key] = record_id

    def _unique_keys(self, record: Record) -> list[tuple[str, str, str]]:
        if record.deleted:
            return []  # deleted records release their unique values
        object_type = sobject(record.sobject)
        if object_type is None:
            return []  # an object the org's schema no longer has
        return [
            (record.sobject, f.key, str(record.fields[f.key]).casefold())
            for f in object_type.unique_fields
            if record.fields.get(f.key) is not None
        ]

    def _place(self, record_id: str, record: Record | None) -> None:
        old = self._by_id.get(record_id)
        if old is not None:
            for key in self._unique_keys(old):
                self._unique.pop(key, None)
        if record is None:
            self._by_id.pop(record_id, None)
            if old is not None:
                self._by_object[old.sobject].pop(record_id, None)
            return
        self._by_id[record_id] = record
        self._by_object.setdefault(record.sobject, {})[record_id] = record
        for key in self._unique_keys(record):
            self._unique[key] = record_id

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Changes become visible at once (later records of a request see earlier ones) and durable on exit."""
        with self.lock:
            now = datetime.now(UTC)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # Salesforce keeps milliseconds
            self._last_stamp = max(now, self._last_stamp)  # never let the clock make SystemModstamp go back
            tx = Transaction(self, format_datetime(self._last_stamp))
            try:
                yield tx
                self._commit(tx)
            except BaseException:
                tx.rollback()  # also when the disk write fails: memory must not run ahead of the file
                raise

    def _commit(self, tx: Transaction) -> None:
        changed = tx.changed()
        rows = [
            (rid, self._by_id[rid].sobject, json.dumps(self._by_id[rid].fields))
            for rid in changed
            if rid in self._by_id
        ]
        removed = [(rid,) for rid in changed if rid not in self._by_id]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM records WHERE id = ?", removed)
            self._db.executemany(
                "INSERT INTO records (id, sobject, fields) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET sobject = excluded.sobject, fields = excluded.fields",
                rows,
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO counters (prefix, value) VALUES (?, ?)", list(self._counters.items())
            )

    def _next_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return make_id(prefix, self._counters[prefix])

    # --- settings (the org's customisation) --------------------------------------------------------

    def setting(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def save_setting(self, name: str, value: str | None) -> None:
        with self.lock, self._db:
            if value is None:
                self._db.execute("DELETE FROM settings WHERE name = ?", (name,))
            else:
                self._db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))

    # --- sessions ----------------------------------------------------------------------------------

    def save_token(self, token: str, user_id: str, issued_at: str) -> None:
        with self.lock, self._db:
            self._db.execute(
                "INSERT INTO tokens (token, user_id, issued_at) VALUES (?, ?, ?)", (token, user_id, issued_at)
            )
            self._tokens[token] = user_id

    def token_user(self, token: str) -> str | None:
        return self._tokens.get(token)

    # --- query cursors -----------------------------------------------------------------------------

    def save_cursor(self, rows: list[dict[str, Any]], batch_size: int) -> str:
        """Keep a query result for queryMore, a batch per row, so each page reads only its own rows."""
        with self.lock, self._db:
            self._db.execute("BEGIN")
            idle_since = time.time() - CURSOR_IDLE_SECONDS
            self._db.execute(
                "DELETE FROM cursor_pages WHERE locator IN (SELECT locator FROM cursors WHERE used_at < ?)",
                (idle_since,),
            )
            self._db.execute("DELETE FROM cursors WHERE used_at < ?", (idle_since,))
            # A locator is unguessable, like Salesforce's, so one client cannot page through another's result.
            locator = CURSOR_PREFIX + secrets.token_hex(6).upper()
            locator += checksum(locator)
            self._db.execute(
                "INSERT INTO cursors (locator, batch_size, total, used_at) VALUES (?, ?, ?, ?)",
                (locator, batch_size, len(rows), time.time()),
            )
            self._db.executemany(
                "INSERT INTO cursor_pages (locator, page, records) VALUES (?, ?, ?)",
                [
                    (locator, start // batch_size, json.dumps(rows[start : start + batch_size]))
                    for start in range(0, len(rows), batch_size)
                ],
            )
        return locator

    def read_cursor(self, locator: str, offset: int) -> Page | None:
        """The batch starting at ``offset`` (any offset, as Salesforce allows), or None if there is none."""
        with self.lock, self._db:
            row = self._db.execute("SELECT batch_size, total, used_at FROM cursors WHERE locator = ?", (locator,))
            found = row.fetchone()
            if found is None or found[2] < time.time() - CURSOR_IDLE_SECONDS or not 0 <= offset < found[1]:
                return None
            batch_size, total = found[0], found[1]
            first, last = offset // batch_size, (min(offset + batch_size, total) - 1) // batch_size
            pages = self._db.execute(
                "SELECT records FROM cursor_pages WHERE locator = ? AND page BETWEEN ? AND ? ORDER BY page",
                (locator, first, last),
            )
            rows = [record for (page,) in pages for record in json.loads(page)]
            self._db.execute("UPDATE cursors SET used_at = ? WHERE locator = ?", (time.time(), locator))
        start = offset - first * batch_size
        return Page(rows[start : start + batch_size], total)

    def drop_cursor(self, locator: str) -> None:
        with self.lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM cursor_pages WHERE locator = ?", (locator,))
            self._db.execute("DELETE FROM cursors WHERE locator = ?", (locator,))


class Transaction:
    """The writes of one request: ``now`` is its single timestamp, as in a Salesforce transaction.

    Every write is logged with the record as it was before, so the transaction can roll back whole or
    to a savepoint (a composite subrequest, one lead of a convertLead call, one merge request).
    """

    def __init__(self, store: Store, now: str) -> None:
        self.now = now
        self._store = store
        self._log: list[tuple[str, Record | None]] = []

    def new_id(self, prefix: str) -> str:
        return self._store._next_id(prefix)

    def put(self, record: Record) -> None:
        self._log.append((record.id, self._store.get(record.id)))
        self._store._place(record.id, record)

    def remove(self, record_id: str) -> None:
        """Delete the row outright (setup objects have no recycle bin)."""
        self._log.append((record_id, self._store.get(record_id)))
        self._store._place(record_id, None)

    def changed(self) -> list[str]:
        return list(dict.fromkeys(record_id for record_id, _ in self._log))

    def savepoint(self) -> int:
        return len(self._log)

    def rollback(self, savepoint: int = 0) -> None:
        """Undo the writes made since ``savepoint`` (all of them by default). Ids handed out stay used,
        as Salesforce never reuses one either."""
        while len(self._log) > savepoint:
            record_id, before = self._log.pop()
            self._store._place(record_id, before)
