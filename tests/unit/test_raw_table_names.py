"""Every raw table the loaders read or write is named from the settings (SNOWFLAKE_RAW_DATABASE), never a literal."""

from __future__ import annotations

import re
from typing import Any

import pytest

from include.cloud_app.extract import ExtractionResult
from include.cloud_app.load import load_interval
from include.salesforce import mirror
from include.settings import warehouse_names
from include.warehouse.bootstrap import render_bootstrap_sql

CUSTOM_DATABASE = "RAW_FORK"


class RecordingHook:
    """Stands in for SnowflakeHook: records every statement, answers COUNT(*) with the valid count."""

    def __init__(self, rows_per_copy: int) -> None:
        self.statements: list[str] = []
        self.rows_per_copy = rows_per_copy

    def run(self, sql: str, parameters: Any = None, handler: Any = None) -> Any:
        self.statements.append(sql)
        if handler is None:
            return None

        class Cursor:
            description = (("file",), ("status",), ("rows_loaded",), ("errors_seen",), ("first_error",))

            def fetchall(inner) -> list[tuple]:
                return [("s3://b/p/part-0000.json.gz", "LOADED", self.rows_per_copy, 0, None)]

        return handler(Cursor())

    def get_first(self, sql: str, parameters: Any = None) -> tuple:
        self.statements.append(sql)
        return (self.rows_per_copy,)


def _tables_named(statements: list[str]) -> set[str]:
    return {m for s in statements for m in re.findall(r"\b(?:INTO|FROM|TABLE)\s+([A-Z_]+\.[A-Z_]+\.[A-Z_]+)", s)}


@pytest.fixture
def custom_raw_database(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SNOWFLAKE_RAW_DATABASE", CUSTOM_DATABASE)
    return CUSTOM_DATABASE


def test_the_cloud_app_loader_writes_to_the_configured_raw_database(custom_raw_database: str) -> None:
    result = ExtractionResult(
        interval_start="2026-11-05T14:00:00+00:00", interval_end="2026-11-05T14:15:00+00:00",
        raw_prefix="cloud_app/workspaces/p/", quarantine_prefix="cloud_app/quarantine/p/",
        extracted=2, valid=2, quarantined={}, raw_parts=1, quarantine_parts=0,
    )  # fmt: skip
    hook = RecordingHook(rows_per_copy=2)
    load_interval(hook, result, "run-1")  # type: ignore[arg-type]
    tables = _tables_named(hook.statements)
    assert tables, hook.statements
    assert {t.split(".")[0] for t in tables} == {custom_raw_database}, tables
    assert f"{custom_raw_database}.CLOUD_APP.INGESTION_LOG" in tables


def test_every_mirrored_table_is_in_the_configured_raw_database(custom_raw_database: str) -> None:
    assert {obj.table.split(".")[0] for obj in mirror.OBJECTS} == {custom_raw_database}
    hook = RecordingHook(rows_per_copy=0)
    hook.get_first = lambda sql, parameters=None: hook.statements.append(sql) or (None,)  # type: ignore[method-assign]
    mirror.high_water_mark(hook, mirror.by_name("Lead"), mirror.EPOCH)  # type: ignore[arg-type]
    assert _tables_named(hook.statements) == {f"{custom_raw_database}.SALESFORCE.LEADS"}


def test_the_default_raw_database_stays_raw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_RAW_DATABASE", raising=False)
    assert {obj.table.split(".")[0] for obj in mirror.OBJECTS} == {"RAW"}


def test_the_bootstrap_creates_every_raw_table_the_loaders_use(custom_raw_database: str) -> None:
    from include.cloud_app import load

    created = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\S+) ", render_bootstrap_sql("s3://b/", None)))
    used = {obj.table for obj in mirror.OBJECTS} | set(load.raw_tables().values())
    assert used <= created, used - created
    assert all(name.startswith(f"{warehouse_names().raw_database}.") for name in created)
