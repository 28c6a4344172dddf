"""Deterministic synthetic workspace events, with the mess real sources have.

Events are generated per hour bucket from ``(seed, hour)``, so any window can be produced (and produced
again, identically) without storing anything: this is the API's data and the tests' ground truth.
Each event also carries the kinds of mess it was given (``mess``); the API hides that field.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from dev.world import CLOUD_REGIONS, PERSONAL_DOMAINS, REGION_UTC_OFFSETS, UNICODE_NAMES, World, build_world, email_for

PLANS = ("free", "starter", "professional", "enterprise_trial")
PLAN_WEIGHTS = (50, 25, 15, 10)
# Kinds of mess, each given to a share of events (see GeneratorConfig.mess_ratio).
MESS_KINDS = (
    "missing_email",
    "invalid_email",
    "uppercase_padded_email",
    "personal_domain",
    "duplicate_event",
    "unicode_name",
    "late_arrival",
    "compact_offset",
)
LATE_BY = timedelta(hours=2)


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 42
    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)  # no generated events before this instant
    signups_per_hour: int = 12
    mess_ratio: float = 0.25  # share of events that get one kind of mess
    known_people_ratio: float = 0.15  # share of signups by people the CRM already knows

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if not 0 <= self.mess_ratio <= 1 or not 0 <= self.known_people_ratio <= 1:
            raise ValueError("ratios must be within [0, 1]")
        if self.signups_per_hour < 0:
            raise ValueError("signups_per_hour must be >= 0")


@dataclass
class Event:
    event_id: str
    event_type: str  # workspace_created | workspace_updated
    created_at: datetime
    available_at: datetime  # when the API starts returning it (late arrivals lag)
    workspace: dict[str, Any]
    mess: tuple[str, ...] = field(default=())

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.created_at, self.event_id)

    def to_api(self) -> dict[str, Any]:
        """The event as the API sends it: ``created_at`` in the workspace region's own UTC offset (RFC 3339), or, for
        the ``compact_offset`` mess, with an offset written without its colon (-0500), which Python parses and
        Snowflake's automatic detection does not document."""
        offset = timedelta(hours=REGION_UTC_OFFSETS.get(str(self.workspace.get("region")), 0))
        local = self.created_at.astimezone(timezone(offset)).isoformat(timespec="milliseconds")
        if "compact_offset" in self.mess:
            local = local[:-3] + local[-2:]
        return {"event_id": self.event_id, "event_type": self.event_type, "created_at": local, **self.workspace}


def iso(moment: datetime) -> str:
    """The instant in UTC, RFC 3339 with a Z: the API's paging and window sort key."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _hour_index(moment: datetime, start: datetime) -> int:
    return int((moment - start).total_seconds() // 3600)


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class WorkspaceGenerator:
    def __init__(self, config: GeneratorConfig | None = None) -> None:
        self.config = config or GeneratorConfig()
        self.world: World = build_world(self.config.seed)
        self._cache: dict[int, list[Event]] = {}

    def bucket(self, hour: int) -> list[Event]:
        """All events created in hour ``hour`` after ``start``, sorted by (created_at, event_id)."""
        if hour < 0:
            return []
        cached = self._cache.get(hour)
        if cached is None:
            cached = self._generate(hour)
            if len(self._cache) > 256:  # bounded memory for long windows
                self._cache.clear()
            self._cache[hour] = cached
        return cached

    def events(self, start: datetime, end: datetime, *, as_of: datetime | None = None) -> Iterator[Event]:
        """Events with start <= created_at < end, visible at ``as_of`` (default: all), in API order."""
        first = max(_hour_index(start, self.config.start), 0)
        last = _hour_index(end - timedelta(microseconds=1), self.config.start)
        for hour in range(first, last + 1):
            for event in self.bucket(hour):
                if start <= event.created_at < end and (as_of is None or event.available_at <= as_of):
                    yield event

    def _generate(self, hour: int) -> list[Event]:
        cfg = self.config
        rng = _rng(cfg.seed, "hour", hour)
        bucket_start = cfg.start + timedelta(hours=hour)
        count = rng.randint(cfg.signups_per_hour // 2, cfg.signups_per_hour + cfg.signups_per_hour // 2)
        events: list[Event] = []
        for n in range(count):
            offset = timedelta(milliseconds=rng.randrange(0, 3_600_000))
            created_at = bucket_start + offset
            event = self._signup(rng, hour, n, created_at)
            events.append(event)
            if "duplicate_event" in event.mess:
                events.append(self._update_of(rng, event, bucket_start + timedelta(hours=1)))
        events.sort(key=lambda e: e.sort_key)
        return events

    def _signup(self, rng: random.Random, hour: int, n: int, created_at: datetime) -> Event:
        cfg = self.config
        mess = (rng.choice(MESS_KINDS),) if rng.random() < cfg.mess_ratio else ()
        workspace_id = f"ws_{hashlib.sha1(f'{cfg.seed}:{hour}:{n}'.encode()).hexdigest()[:16]}"  # noqa: S324 - an id, not security
        if rng.random() < cfg.known_people_ratio:
            person = rng.choice(self.world.known_people)
            first, last, email, user_id = person.first_name, person.last_name, person.email, person.user_id
            company = person.company
        else:
            first, last = rng.choice(self.world.first_names), rng.choice(self.world.last_names)
            company = rng.choice(self.world.companies) if rng.random() < 0.75 else None
            domain = company.domain if company else rng.choice(PERSONAL_DOMAINS)
            email = email_for(first, last, domain, f"{hour % 1000}{n}")
            user_id = f"usr_{workspace_id[3:]}"
        if "personal_domain" in mess:
            company = None
            email = email_for(first, last, rng.choice(PERSONAL_DOMAINS), f"{hour % 1000}{n}")
        if "unicode_name" in mess:
            first, last = rng.choice(UNICODE_NAMES)
        owner: dict[str, Any] = {"user_id": user_id, "email": email, "first_name": first, "last_name": last}
        if "missing_email" in mess:
            owner["email"] = None
        elif "invalid_email" in mess:
            owner["email"] = rng.choice(["not-an-email", f"{first}@", "@nowhere.com", f"{last} at example.com"])
        elif "uppercase_padded_email" in mess:
            owner["email"] = f"  {email.upper()} "
        # Most people at a company type its name; some leave the optional field empty.
        owner["company_name"] = company.name if company is not None and rng.random() < 0.9 else None
        plan = rng.choices(PLANS, weights=PLAN_WEIGHTS)[0]
        workspace = {
            "workspace_id": workspace_id,
            "workspace_name": f"{company.name.split(',')[0] if company else first + chr(39) + 's'} workspace",
            "plan": plan,
            "seats": rng.randint(1, 5) if plan == "free" else rng.randint(3, 250),
            "region": rng.choice(CLOUD_REGIONS),
            "owner": owner,
        }
        available_at = created_at + (LATE_BY if "late_arrival" in mess else timedelta(0))
        return Event(f"evt_{workspace_id[3:]}_0", "workspace_created", created_at, available_at, workspace, mess)

    def _update_of(self, rng: random.Random, original: Event, latest: datetime) -> Event:
        """A second event for the same workspace (an upgrade), later within the same hour."""
        span_ms = int((latest - original.created_at).total_seconds() * 1000)
        created_at = original.created_at + timedelta(milliseconds=rng.randrange(1, max(span_ms, 2)))
        workspace = {**original.workspace, "plan": "professional", "seats": original.workspace["seats"] + 10}
        event_id = original.event_id[:-2] + "_1"
        return Event(event_id, "workspace_updated", created_at, created_at, workspace, ("duplicate_event",))
