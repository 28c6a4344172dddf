"""Executes sync runs the way Hightouch does: query the model, diff against the last synced state,
send only the changes to Salesforce, keep per-row errors. One worker thread runs them in order."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dev.hightouch.destination import BATCH, DestinationUnavailable, SalesforceDestination
from dev.hightouch.store import Store
from dev.localcloud.warehouse import connect
from include.hightouch.syncs import Sync, SyncCatalogue

log = logging.getLogger("localcloud.hightouch")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _counts(added: int = 0, changed: int = 0, removed: int = 0) -> dict[str, int]:
    return {"addedCount": added, "changedCount": changed, "removedCount": removed}


def new_run() -> dict[str, Any]:
    """A run as ``SyncRun`` of the API reference shows it (the store adds its ``id``)."""
    return {
        "status": "queued",
        "error": None,
        "createdAt": now_iso(),
        "startedAt": None,
        "finishedAt": None,
        "querySize": 0,
        "completionRatio": 0.0,
        "plannedRows": _counts(),
        "successfulRows": _counts(),
        "failedRows": _counts(),
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass(frozen=True)
class Pacing:
    """How runs send rows to Salesforce: records a call (at most the collections limit) and a pause between calls.

    The defaults are Hightouch's behaviour; tests shrink the batches and add a pause (``/api/v1/_admin/pacing``)
    to stop Salesforce between two batches of one run.
    """

    batch_size: int = BATCH
    pause_seconds: float = 0.0


class ModelQueryError(RuntimeError):
    pass


def query_model(snowflake_host: str, snowflake_port: int, sync: Sync) -> list[dict[str, Any]]:
    """Read the columns the sync maps, and its primary key, from its model table (as table models do)."""
    columns = sorted(sync.columns | {sync.primary_key})
    sql = f"SELECT {', '.join(columns)} FROM {sync.model}"
    try:
        with connect(snowflake_port, "hightouch", host=snowflake_host, login_timeout=15, network_timeout=120) as conn:
            cursor = conn.cursor()
            cursor.execute(sql)
            names = [c[0].upper() for c in cursor.description]
            return [{n: _json_safe(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]
    except Exception as exc:
        raise ModelQueryError(f"Query failed: {exc}") from exc


def build_record(sync: Sync, row: dict[str, Any]) -> dict[str, Any]:
    record = {field: row[column] for column, field in sync.field_mapping.items()}
    for ref in sync.parent_references:
        value = row[ref.column]
        if value is not None:
            record[ref.relationship] = {"attributes": {"type": ref.object}, ref.external_id_field: value}
    return record


def row_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


class SyncRunner:
    def __init__(
        self,
        catalogue: SyncCatalogue,
        store: Store,
        snowflake_host: str,
        snowflake_port: int,
        destination: Callable[[], SalesforceDestination],
    ) -> None:
        self.catalogue = catalogue
        self.store = store
        self.snowflake_host = snowflake_host
        self.snowflake_port = snowflake_port
        self.destination = destination
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.pacing = Pacing()
        for run in store.unfinished_runs():  # the emulator restarted mid-run, as a Hightouch worker can
            run.update(status="interrupted", error="The sync run was interrupted", finishedAt=now_iso())
            store.save_run(run)
        threading.Thread(target=self._work, name="hightouch-runner", daemon=True).start()

    def trigger(self, sync_id: int, sync: Sync, full_resync: bool = False) -> dict[str, Any]:
        run = self.store.create_run(str(sync_id), new_run())
        self._queue.put({"run": run, "sync_id": str(sync_id), "sync": sync, "full_resync": full_resync})
        return run

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                self._execute(job["sync_id"], job["sync"], job["run"], job["full_resync"])
            except Exception as exc:
                log.exception("run %s crashed", job["run"]["id"])
                job["run"].update(status="failed", error=f"Internal error: {exc}", finishedAt=now_iso())
                self.store.save_run(job["run"])

    def _send(
        self, sync_id: str, sync: Sync, run: dict[str, Any], rows: list[tuple[str, dict[str, Any], str]]
    ) -> tuple[dict[str, str], list[tuple[str, str]], str | None]:
        """Write ``(key, record, hash)`` rows batch by batch; return (written key -> hash, row errors, fatal error).

        Each batch's successes are recorded as synced as soon as Salesforce confirms them, and the run's
        ``completionRatio`` moves on: if Salesforce becomes unreachable (or the emulator stops) mid-run, the rows
        already written are not sent again by the next run, and every row not written stays in the diff.
        """
        written: dict[str, str] = {}
        errors: list[tuple[str, str]] = []
        if not rows:
            return written, errors, None
        pacing = self.pacing
        destination = self.destination()
        done = 0
        for start in range(0, len(rows), pacing.batch_size):
            if start and pacing.pause_seconds:
                time.sleep(pacing.pause_seconds)
            batch = rows[start : start + pacing.batch_size]
            try:
                results = destination.write(
                    sync.destination_object, sync.mode, sync.external_id_field, [record for _, record, _ in batch]
                )
            except DestinationUnavailable as exc:
                errors += [(key, str(exc)) for key, _, _ in rows[start:]]
                return written, errors, str(exc)
            batch_written = {key: digest for (key, _, digest), result in zip(batch, results, strict=True) if result.ok}
            errors += [
                (key, result.error or "unknown error")
                for (key, _, _), result in zip(batch, results, strict=True)
                if not result.ok
            ]
            self.store.record_synced(sync_id, batch_written, [])
            written |= batch_written
            done += len(batch)
            run.update(completionRatio=round(done / len(rows), 4))
            self.store.save_run(run)
        return written, errors, None

    def _execute(self, sync_id: str, sync: Sync, run: dict[str, Any], full_resync: bool) -> None:
        store = self.store
        run.update(status="querying", startedAt=now_iso())
        store.save_run(run)
        try:
            rows = query_model(self.snowflake_host, self.snowflake_port, sync)
        except ModelQueryError as exc:
            run.update(status="failed", error=str(exc), finishedAt=now_iso())
            store.save_run(run)
            return

        keys = [str(row[sync.primary_key]) for row in rows]
        duplicates = sorted({k for k in keys if keys.count(k) > 1}) if len(set(keys)) != len(keys) else []
        if duplicates:
            run.update(
                status="failed",
                querySize=len(rows),
                error=f"Model has duplicate primary keys ({sync.primary_key}): {', '.join(duplicates[:5])}",
                finishedAt=now_iso(),
            )
            store.save_run(run)
            return

        previous = {} if full_resync else store.synced_hashes(sync_id)
        current = {key: build_record(sync, row) for key, row in zip(keys, rows, strict=True)}
        hashes = {key: row_hash(record) for key, record in current.items()}
        added = [k for k in current if k not in previous]
        changed = [k for k in current if k in previous and previous[k] != hashes[k]]
        removed = [k for k in previous if k not in current]
        run.update(
            status="processing", querySize=len(rows), plannedRows=_counts(len(added), len(changed), len(removed))
        )
        store.save_run(run)

        to_write = added + changed
        written, errors, fatal = self._send(sync_id, sync, run, [(key, current[key], hashes[key]) for key in to_write])
        # Removed rows are left in Salesforce (Hightouch's default for upserts) and no longer tracked.
        store.record_synced(sync_id, {}, removed)
        store.add_row_errors(run["id"], errors)

        failed_keys = {k for k, _ in errors}
        run.update(
            successfulRows=_counts(sum(k in written for k in added), sum(k in written for k in changed), len(removed)),
            failedRows=_counts(sum(k in failed_keys for k in added), sum(k in failed_keys for k in changed), 0),
            completionRatio=1.0,
            finishedAt=now_iso(),
        )
        if fatal and not written:
            run.update(status="failed", error=fatal)
        elif errors and not written:
            run.update(status="failed", error=f"All {len(errors)} rows failed; first: {errors[0][0]}: {errors[0][1]}")
        elif errors:
            reason = fatal or f"first: {errors[0][0]}: {errors[0][1]}"
            run.update(status="warning", error=f"{len(errors)} of {len(to_write)} rows failed; {reason}")
        else:
            run.update(status="success")
        store.save_run(run)
