"""Landing raw records in S3 as gzip-compressed newline-delimited JSON (what the COPY file format reads)."""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

# Records per landed object: a writer buffers one part at a time, so this bounds a task's memory.
PART_SIZE = 5_000


def encode_ndjson_gz(records: Iterable[dict[str, Any]]) -> tuple[bytes, int]:
    """Records as gzip NDJSON bytes, and how many there were. ``mtime=0`` keeps the bytes deterministic."""
    buffer = io.BytesIO()
    count = 0
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        for record in records:
            gz.write(json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode())
            gz.write(b"\n")
            count += 1
    return buffer.getvalue(), count


def write_ndjson_gz(hook: S3Hook, bucket: str, key: str, records: Iterable[dict[str, Any]]) -> int:
    """Write one object, replacing any previous version (re-runs overwrite the same key). Returns the count."""
    if not key.endswith(".json.gz"):
        raise ValueError(f"landing keys end in .json.gz so the stage's file format matches: {key!r}")
    body, count = encode_ndjson_gz(records)
    hook.load_bytes(body, key=key, bucket_name=bucket, replace=True)
    return count


def interval_key(start: datetime, end: datetime) -> str:
    """``20261103T001500Z_20261103T003000Z``: sortable, and safe in S3 keys and stage paths."""
    return f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}_{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def safe_key(value: str) -> str:
    """A run id or timestamp as an S3-key- and stage-path-safe token (no ':', '+', spaces or '=')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", value).strip("_")


def interval_prefix(root: str, start: datetime, end: datetime) -> str:
    """``<root>/YYYY/MM/DD/HH/<interval>/`` (no key=value folders: include/warehouse/loading.py says why)."""
    return f"{root}/{start.astimezone(UTC):%Y/%m/%d/%H}/{interval_key(start, end)}/"


class PartWriter:
    """Accumulates records and writes ``part-NNNN.json.gz`` objects of ``part_size`` records."""

    def __init__(self, hook: S3Hook, bucket: str, prefix: str, part_size: int = PART_SIZE) -> None:
        if part_size < 1:
            raise ValueError(f"part_size must be 1 or more: {part_size}")
        self._hook, self._bucket, self._prefix, self._size = hook, bucket, prefix, part_size
        self._buffer: list[dict[str, Any]] = []
        self.parts = 0

    def add(self, record: dict[str, Any]) -> None:
        self._buffer.append(record)
        if len(self._buffer) >= self._size:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            write_ndjson_gz(self._hook, self._bucket, f"{self._prefix}part-{self.parts:04d}.json.gz", self._buffer)
            self.parts += 1
            self._buffer = []


def clear_prefix(hook: S3Hook, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` (a re-run with fewer parts must leave no stale ones)."""
    keys = hook.list_keys(bucket_name=bucket, prefix=prefix) or []
    if keys:
        hook.delete_objects(bucket=bucket, keys=keys)
    return len(keys)
