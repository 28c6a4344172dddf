"""Times the pipeline writes are UTC whatever the Snowflake session's time zone.

Snowflake's TIMEZONE parameter defaults to America/Los_Angeles
(https://docs.snowflake.com/en/sql-reference/parameters#timezone), and CURRENT_TIMESTAMP() is in the session's
time zone: cast into a TIMESTAMP_NTZ column it stores Los Angeles wall-clock time. SYSDATE() is documented as
the current time in UTC, as a TIMESTAMP_NTZ (https://docs.snowflake.com/en/sql-reference/functions/sysdate).
The local stand-in cannot show the difference (its session time zone is always UTC), so the rule is checked
on the SQL itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from include.cloud_app.extract import ExtractionResult
from include.cloud_app.load import load_interval
from tests.unit.test_raw_table_names import RecordingHook

REPO = Path(__file__).resolve().parents[2]
# Session-local clocks: their value depends on the session's TIMEZONE parameter.
# (Python's datetime.now(UTC) is not one: the lookbehind skips a method call.)
SESSION_LOCAL_CLOCK = re.compile(
    r"\b(CURRENT_TIMESTAMP|LOCALTIMESTAMP|LOCALTIME|CURRENT_TIME)\b|(?<![.\w])(GETDATE|NOW)\s*\(", re.IGNORECASE
)


def test_the_ingestion_log_stores_logged_at_in_utc() -> None:
    result = ExtractionResult("2026-11-05T14:00:00+00:00", "2026-11-05T14:15:00+00:00", "r/", "q/", 1, 1)
    result.raw_parts = 1
    hook = RecordingHook(rows_per_copy=1)
    load_interval(hook, result, "run-1")  # type: ignore[arg-type]
    (insert,) = [s for s in hook.statements if s.startswith("INSERT INTO") and "INGESTION_LOG" in s]
    columns = re.search(r"\(([^)]*)\)", insert).group(1).split(",")
    values = re.split(r",\s*(?![^(]*\))", insert.split(" SELECT ", 1)[1])
    logged_at = dict(zip((c.strip() for c in columns), (v.strip() for v in values), strict=True))["LOGGED_AT"]
    assert logged_at == "SYSDATE()", f"LOGGED_AT is TIMESTAMP_NTZ: it must be written in UTC, not {logged_at}"


def product_sql_sources() -> list[Path]:
    """Every file whose SQL runs against the warehouse: the loaders, the bootstrap, dbt models and macros."""
    return [
        *sorted((REPO / "include").rglob("*.py")),
        *sorted((REPO / "include" / "sql").glob("*.sql")),
        *sorted((REPO / "dbt_project" / "models").rglob("*.sql")),
        *sorted((REPO / "dbt_project" / "macros").rglob("*.sql")),
        *sorted((REPO / "dbt_project" / "models").rglob("*.yml")),
    ]


def test_no_product_sql_reads_a_session_local_clock() -> None:
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in product_sql_sources()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SESSION_LOCAL_CLOCK.search(line) and not line.lstrip().startswith(("#", "--"))
    ]
    assert not found, "use SYSDATE() (UTC) instead:\n" + "\n".join(found)
