"""One preflight check's outcome and how it reads on a terminal: ``✓`` or ``✗`` with the exact fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    #: Not run because a check it depends on failed (e.g. no sync can be read over a connection with a login).
    SKIPPED = "skipped"
    #: Works today, but will stop working (e.g. a sign-in Salesforce is retiring): said with its fix, exit code 0.
    WARNING = "warning"


MARKS = {Status.PASSED: "✓", Status.FAILED: "✗", Status.SKIPPED: "-", Status.WARNING: "!"}


@dataclass(frozen=True)
class Check:
    """One check: ``service`` and ``name`` identify it; ``detail`` says what was found; ``fix`` what to do."""

    service: str  # "S3", "Snowflake", "Salesforce", "Hightouch"
    name: str  # what is checked, e.g. "Contact fields" or "sync salesforce-accounts"
    status: Status
    detail: str
    fix: str | None = None

    def __post_init__(self) -> None:
        if self.status in {Status.FAILED, Status.WARNING} and not self.fix:
            raise ValueError(f"a failed check or a warning must say how to fix it: {self.service} {self.name}")

    @property
    def key(self) -> str:
        return f"{self.service}: {self.name}"

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def line(self) -> str:
        text = f"{MARKS[self.status]} {self.key}: {self.detail}"
        return f"{text} → fix: {self.fix}" if self.fix and self.status in {Status.FAILED, Status.WARNING} else text


def passed(service: str, name: str, detail: str) -> Check:
    return Check(service, name, Status.PASSED, detail)


def failed(service: str, name: str, detail: str, fix: str) -> Check:
    return Check(service, name, Status.FAILED, detail, fix)


def connection_failed(service: str, detail: str, fix: str) -> list[Check]:
    """A service's checks when its connection cannot be used: that one failure, since nothing else can be checked."""
    return [failed(service, "connection", detail, fix)]


def skipped(service: str, name: str, detail: str) -> Check:
    return Check(service, name, Status.SKIPPED, detail)


def warning(service: str, name: str, detail: str, fix: str) -> Check:
    return Check(service, name, Status.WARNING, detail, fix)


def summary(checks: Iterable[Check]) -> str:
    """``12 checks: 11 passed, 1 failed`` (warnings and skipped ones counted when there are any)."""
    results = list(checks)
    counts = {status: sum(c.status is status for c in results) for status in Status}
    text = f"{len(results)} checks: {counts[Status.PASSED]} passed, {counts[Status.FAILED]} failed"
    if counts[Status.WARNING]:
        text += f", {plural(counts[Status.WARNING], 'warning')}"
    return text + (f", {counts[Status.SKIPPED]} skipped" if counts[Status.SKIPPED] else "")


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def error_text(exc: BaseException, limit: int = 300) -> str:
    """An exception as one short line: its type and first line (connector errors run to many lines)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
