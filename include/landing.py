"""Landing raw records in S3 as gzip-compressed newline-delimited JSON (what the COPY file format reads)."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook


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
