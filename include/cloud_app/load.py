"""Load one extracted interval into the raw tables and write its run-log row, reconciling the counts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from include.cloud_app.extract import ExtractionResult
from include.settings import raw_table
from include.warehouse.loading import replace_interval

if TYPE_CHECKING:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook


def raw_tables() -> dict[str, str]:
    """The three tables one interval's load touches, in the configured raw database (include/settings.py)."""
    return {
        "raw": raw_table("CLOUD_APP.WORKSPACES"),
        "quarantine": raw_table("CLOUD_APP.WORKSPACES_QUARANTINE"),
        "log": raw_table("CLOUD_APP.INGESTION_LOG"),
    }


class ReconciliationError(RuntimeError):
    """Counts that must agree do not: something was lost or duplicated. The run fails loudly."""


@dataclass(frozen=True)
class LoadResult:
    loaded: int
    quarantine_loaded: int
    table_rows_for_interval: int


def load_interval(hook: SnowflakeHook, result: ExtractionResult, run_id: str) -> LoadResult:
    tables = raw_tables()
    loaded = replace_interval(
        hook, tables["raw"], result.raw_prefix, interval_start=result.interval_start, parts=result.raw_parts
    )
    quarantine_loaded = replace_interval(
        hook,
        tables["quarantine"],
        result.quarantine_prefix,
        interval_start=result.interval_start,
        parts=result.quarantine_parts,
    )
    in_table = hook.get_first(
        f"SELECT COUNT(*) FROM {tables['raw']} WHERE RECORD:interval_start::VARCHAR = %(start)s",
        parameters={"start": result.interval_start},
    )[0]
    outcome = LoadResult(loaded, quarantine_loaded, int(in_table))
    # LOGGED_AT is a TIMESTAMP_NTZ: SYSDATE() is UTC, while CURRENT_TIMESTAMP() is in the session's time zone
    # (Snowflake's default TIMEZONE is America/Los_Angeles). docs.snowflake.com/en/sql-reference/functions/sysdate
    hook.run(
        f"INSERT INTO {tables['log']} (INTERVAL_START, INTERVAL_END, RUN_ID, EXTRACTED, VALID, QUARANTINED, LOADED,"
        " QUARANTINE_LOADED, QUARANTINE_REASONS, LOGGED_AT) SELECT %(start)s, %(end)s, %(run_id)s, %(extracted)s,"
        " %(valid)s, %(quarantined)s, %(loaded)s, %(quarantine_loaded)s, PARSE_JSON(%(reasons)s),"
        " SYSDATE()",
        parameters={
            "start": result.interval_start,
            "end": result.interval_end,
            "run_id": run_id,
            "extracted": result.extracted,
            "valid": result.valid,
            "quarantined": result.quarantined_total,
            "loaded": loaded,
            "quarantine_loaded": quarantine_loaded,
            "reasons": json.dumps(result.quarantined),
        },
    )
    problems = []
    if not result.reconciles():
        problems.append(
            f"extracted {result.extracted} != valid {result.valid} + quarantined {result.quarantined_total}"
        )
    if loaded != result.valid or outcome.table_rows_for_interval != result.valid:
        in_raw = outcome.table_rows_for_interval
        problems.append(f"valid {result.valid}, loaded {loaded}, rows in {tables['raw']} {in_raw}")
    if quarantine_loaded != result.quarantined_total:
        problems.append(f"quarantined {result.quarantined_total} != loaded into quarantine {quarantine_loaded}")
    if problems:
        raise ReconciliationError(f"interval {result.interval_start}: " + "; ".join(problems) + f" ({asdict(outcome)})")
    return outcome
