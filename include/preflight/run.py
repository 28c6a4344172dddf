"""Run the checks of one service or all of them, for the command line and for the ``preflight`` DAG's tasks."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from include.preflight.checks import Check, summary

SERVICES = ("s3", "snowflake", "salesforce", "hightouch")

log = logging.getLogger(__name__)


def service_checks(service: str) -> list[Check]:
    """Every check of one service through the pipeline's connection (its module imported only when run)."""
    if service == "s3":
        from include.preflight.s3 import s3_checks

        return s3_checks()
    if service == "snowflake":
        from include.preflight.snowflake import snowflake_checks

        return snowflake_checks()
    if service == "salesforce":
        from include.preflight.salesforce import salesforce_checks

        return salesforce_checks()
    if service == "hightouch":
        from include.preflight.hightouch import hightouch_checks

        return hightouch_checks()
    raise ValueError(f"unknown service {service!r}: one of {', '.join(SERVICES)}")


def run(services: Iterable[str] = SERVICES) -> Iterator[Check]:
    """The checks of each service in turn, as they finish."""
    for service in services:
        yield from service_checks(service)


def run_in_task(service: str) -> list[str]:
    """For a DAG task: log every line, fail (without retries: a retry fixes no set-up) on any failed check."""
    from airflow.sdk.exceptions import AirflowFailException

    checks = service_checks(service)
    for check in checks:
        (log.warning if check.failed else log.info)("%s", check.line())
    failures = [c for c in checks if c.failed]
    if failures:
        raise AirflowFailException(f"{summary(checks)}:\n" + "\n".join(c.line() for c in failures))
    return [c.line() for c in checks]
