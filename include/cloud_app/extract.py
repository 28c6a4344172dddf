"""Extract one data interval of workspace events to S3: valid records and quarantined ones, with counts.

Keys are deterministic per interval, and the interval's prefixes are cleared first, so a re-run replaces
exactly the objects of its own interval. Records are buffered one part at a time (bounded memory).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from include.cloud_app.schema import QuarantineReason, classify
from include.landing import PART_SIZE, PartWriter, clear_prefix, interval_prefix

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

RAW_PREFIX = "cloud_app/workspaces"
QUARANTINE_PREFIX = "cloud_app/workspaces_quarantine"


@dataclass
class ExtractionResult:
    interval_start: str
    interval_end: str
    raw_prefix: str
    quarantine_prefix: str
    extracted: int = 0
    valid: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    raw_parts: int = 0
    quarantine_parts: int = 0
    pages: int = 0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def reconciles(self) -> bool:
        return self.extracted == self.valid + self.quarantined_total


def _records(pages: Iterable[list[Any]], result: ExtractionResult) -> Iterator[Any]:
    for page in pages:
        result.pages += 1
        yield from page


def extract_interval(
    pages: Iterable[list[Any]],
    hook: S3Hook,
    bucket: str,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    part_size: int = PART_SIZE,
) -> ExtractionResult:
    """Validate every record of the interval's pages and land it in the raw or the quarantine prefix."""
    now = now or datetime.now(UTC)
    result = ExtractionResult(
        interval_start=start.astimezone(UTC).isoformat(),
        interval_end=end.astimezone(UTC).isoformat(),
        raw_prefix=interval_prefix(RAW_PREFIX, start, end),
        quarantine_prefix=interval_prefix(QUARANTINE_PREFIX, start, end),
    )
    clear_prefix(hook, bucket, result.raw_prefix)
    clear_prefix(hook, bucket, result.quarantine_prefix)
    raw = PartWriter(hook, bucket, result.raw_prefix, part_size)
    quarantine = PartWriter(hook, bucket, result.quarantine_prefix, part_size)
    envelope = {"interval_start": result.interval_start, "interval_end": result.interval_end}
    reasons: Counter[str] = Counter()
    seen_event_ids: set[str] = set()
    for record in _records(pages, result):
        result.extracted += 1
        event, reason, detail = classify(record, start, end, now)
        if event is not None and event.event_id in seen_event_ids:
            event, reason, detail = None, QuarantineReason.DUPLICATE_EVENT, f"event_id {event.event_id} seen twice"
        if event is None:
            assert reason is not None
            reasons[reason.value] += 1
            quarantine.add({**envelope, "reason": reason.value, "detail": detail, "payload": _jsonable(record)})
            continue
        seen_event_ids.add(event.event_id)
        result.valid += 1
        # An event some producer embedded as a JSON string lands as the object it holds, like every other one.
        raw.add({**envelope, "payload": json.loads(record) if isinstance(record, str) else record})
    raw.flush()
    quarantine.flush()
    result.quarantined = dict(sorted(reasons.items()))
    result.raw_parts, result.quarantine_parts = raw.parts, quarantine.parts
    return result


def _jsonable(record: Any) -> Any:
    """The record as the quarantine can store it: as is, or as text when it cannot be written as UTF-8 JSON."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: legal in a JSON escape, not in UTF-8; keep it escaped
        return json.dumps(record)
    except (TypeError, ValueError):
        return repr(record)
    return record
