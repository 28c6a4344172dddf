from __future__ import annotations

import gzip
import json

import pytest

from include.landing import encode_ndjson_gz
from include.warehouse.loading import copy_into_sql, parse_copy_result

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
