from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from include.landing import PartWriter, encode_ndjson_gz, safe_key
from include.warehouse.loading import copy_into_sql, parse_copy_result, replace_interval

COPY_COLUMNS = [
    "file", "status", "rows_parsed", "rows_loaded", "error_limit", "errors_seen",
    "first_error", "first_error_line", "first_error_character", "first_error_column_name",
]  # fmt: skip


def test_per_file_results_are_counted_by_status() -> None:
    rows = [
        ("s3://b/p/part-0000.json.gz", "LOADED", 3, 3, 1, 0, None, None, None, None),
        ("s3://b/p/part-0001.json.gz", "LOAD_SKIPPED", 0, 0, None, 1, "File was loaded before.", None, None, None),
    ]
    result = parse_copy_result(COPY_COLUMNS, rows)
    assert result.rows_loaded == 3
    assert [f.file for f in result.by_status("LOAD_SKIPPED")] == ["s3://b/p/part-0001.json.gz"]
    assert result.failed == []


def test_zero_files_processed_is_an_empty_result() -> None:
    # Real Snowflake answers a COPY with nothing new to load with a single status column.
    result = parse_copy_result(["status"], [("Copy executed with 0 files processed.",)])
    assert result.files == ()
    assert result.rows_loaded == 0


def test_failed_files_are_reported() -> None:
    rows = [("f", "LOAD_FAILED", 2, 0, 1, 2, "Error parsing JSON", 1, 1, None)]
    assert [f.first_error for f in parse_copy_result(COPY_COLUMNS, rows).failed] == ["Error parsing JSON"]


def test_copy_sql_targets_exactly_one_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_RAW_DATABASE", raising=False)  # the default names
    sql = copy_into_sql("RAW.SMOKE.EVENTS", "smoke/events/run_1/")
    assert sql == (
        "COPY INTO RAW.SMOKE.EVENTS FROM @RAW.LANDING.LANDING_STAGE/smoke/events/run_1/ "
        "FILE_FORMAT = (FORMAT_NAME = 'RAW.LANDING.NDJSON_GZ')"
    )
    assert copy_into_sql("T", "p/", force=True).endswith(" FORCE = TRUE")


@pytest.mark.parametrize("prefix", ["no/slash", "../escape/", "a'b/", "/abs/", "", "dt=2026/"])
def test_copy_sql_rejects_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="stage prefix"):
        copy_into_sql("RAW.T", prefix)


def test_copy_sql_rejects_bad_table_names() -> None:
    with pytest.raises(ValueError, match="table name"):
        copy_into_sql("RAW.T; DROP TABLE X", "p/")


def test_ndjson_gz_is_deterministic_and_round_trips() -> None:
    records = [{"id": 1, "name": "Zoë"}, {"id": 2, "name": None}]
    body, count = encode_ndjson_gz(records)
    assert count == 2
    assert body == encode_ndjson_gz(records)[0]  # same bytes: re-runs write identical objects
    lines = gzip.decompress(body).decode().splitlines()
    assert [json.loads(line) for line in lines] == records


def test_safe_key_makes_a_run_id_a_stage_path_token() -> None:
    token = safe_key("scheduled__2026-11-05T14:00:00+00:00")
    assert token == "scheduled__2026-11-05T14_00_00_00_00"
    assert copy_into_sql("RAW.T", f"smoke/{token}/")  # the stage prefix check accepts it


class RecordingS3:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def load_bytes(self, body: bytes, key: str, bucket_name: str, replace: bool) -> None:
        self.keys.append(key)


def test_parts_hold_part_size_records_and_a_bad_size_is_refused() -> None:
    s3 = RecordingS3()
    writer = PartWriter(s3, "b", "p/", part_size=2)  # type: ignore[arg-type]
    for n in range(5):
        writer.add({"n": n})
    writer.flush()
    assert (writer.parts, s3.keys) == (3, ["p/part-0000.json.gz", "p/part-0001.json.gz", "p/part-0002.json.gz"])
    with pytest.raises(ValueError, match="part_size"):
        PartWriter(s3, "b", "p/", part_size=0)  # type: ignore[arg-type]


class RecordingHook:
    """Stands in for SnowflakeHook: records (statement, parameters); COPY answers one file per part."""

    def __init__(self, status: str = "LOADED", rows_per_file: int = 2) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.status, self.rows_per_file = status, rows_per_file

    def run(self, sql: str, parameters: Any = None, handler: Any = None) -> Any:
        self.calls.append((sql, parameters))
        if handler is None:
            return None
        rows = [("s3://b/p/part-0000.json.gz", self.status, self.rows_per_file, 0, None)]
        cursor = type(
            "Cursor",
            (),
            {"description": [(c,) for c in ("file", "status", "rows_loaded", "errors_seen", "first_error")]},
        )()
        cursor.fetchall = lambda: rows
        return handler(cursor)

    @property
    def statements(self) -> list[str]:
        return [sql for sql, _ in self.calls]


def test_replacing_an_interval_deletes_its_rows_then_forces_the_copy() -> None:
    hook = RecordingHook(rows_per_file=2)
    loaded = replace_interval(hook, "RAW.S.T", "p/", interval_start="2026-11-05T14:00:00+00:00", parts=1)  # type: ignore[arg-type]
    assert loaded == 2
    (delete, delete_parameters), (copy, _) = hook.calls
    assert delete.startswith("DELETE FROM RAW.S.T WHERE RECORD:interval_start::VARCHAR = ")
    assert delete_parameters == {"start": "2026-11-05T14:00:00+00:00"}
    assert copy.startswith("COPY INTO RAW.S.T ")
    assert copy.endswith(" FORCE = TRUE"), "load history would skip the rewritten files"


def test_replacing_a_snapshot_deletes_every_row() -> None:
    hook = RecordingHook()
    replace_interval(hook, "RAW.S.T", "p/", interval_start=None, parts=1)  # type: ignore[arg-type]
    assert hook.calls[0] == ("DELETE FROM RAW.S.T", None)


def test_an_interval_with_no_files_is_emptied_and_nothing_is_copied() -> None:
    hook = RecordingHook()
    assert replace_interval(hook, "RAW.S.T", "p/", interval_start="2026-11-05T14:00:00+00:00", parts=0) == 0  # type: ignore[arg-type]
    assert [s.split()[0] for s in hook.statements] == ["DELETE"]


def test_a_failed_file_fails_the_replacement() -> None:
    with pytest.raises(RuntimeError, match="LOAD_FAILED"):
        replace_interval(RecordingHook(status="LOAD_FAILED"), "RAW.S.T", "p/", interval_start="x", parts=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("table", "parts", "error"), [("RAW.T; DROP TABLE X", 1, "table name"), ("RAW.T", -1, "parts")]
)
def test_bad_replacement_arguments_are_refused_before_any_statement(table: str, parts: int, error: str) -> None:
    hook = RecordingHook()
    with pytest.raises(ValueError, match=error):
        replace_interval(hook, table, "p/", interval_start="x", parts=parts)  # type: ignore[arg-type]
    assert hook.calls == []
