"""Contract tests: the real Airflow hooks against the local S3 and Snowflake, asserting exact results."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest

from include.connections import LANDING_S3, SNOWFLAKE
from include.landing import write_ndjson_gz
from include.settings import raw_table
from include.warehouse.loading import copy_into, count_rows


@pytest.fixture
def s3_hook(data_platform):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=LANDING_S3)


@pytest.fixture
def snowflake_hook(data_platform):
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
    hook.run(f"CREATE SCHEMA IF NOT EXISTS {raw_table('CONTRACT_TESTS')}")
    return hook


def scratch_table() -> str:
    return raw_table(f"CONTRACT_TESTS.T_{uuid.uuid4().hex[:8].upper()}")


def test_s3hook_writes_and_lists_objects(s3_hook, data_platform) -> None:
    prefix = f"contract/{uuid.uuid4().hex}/"
    for n in range(3):
        s3_hook.load_string(json.dumps({"n": n}), key=f"{prefix}obj-{n}.json", bucket_name="landing")
    assert s3_hook.list_keys(bucket_name="landing", prefix=prefix) == [f"{prefix}obj-{n}.json" for n in range(3)]
    assert json.loads(s3_hook.read_key(f"{prefix}obj-1.json", bucket_name="landing")) == {"n": 1}
    # Objects are plain files, which is what lets the local Snowflake stage read them.
    assert (data_platform / "s3" / "landing" / prefix / "obj-2.json").read_text() == '{"n": 2}'


def test_snowflakehook_runs_ddl_and_dml(snowflake_hook) -> None:
    table = scratch_table()
    snowflake_hook.run(
        [
            f"CREATE TABLE {table} (ID INTEGER, EMAIL VARCHAR)",
            f"INSERT INTO {table} VALUES (1, 'a@example.com'), (2, 'b@example.com'), (3, NULL)",
            f"UPDATE {table} SET EMAIL = 'c@example.com' WHERE ID = 3",
            f"DELETE FROM {table} WHERE ID = 1",
        ]
    )
    assert snowflake_hook.get_records(f"SELECT ID, EMAIL FROM {table} ORDER BY ID") == [
        (2, "b@example.com"),
        (3, "c@example.com"),
    ]
    snowflake_hook.run(f"DROP TABLE {table}")


def test_bootstrap_created_the_landing_objects(snowflake_hook, data_platform) -> None:
    """The stage production has (the bucket through the S3_LANDING integration) and every raw table the bootstrap
    creates (read from its SQL, so a fork's new table needs no change here)."""
    from snowflake.connector import DictCursor

    from include.preflight.snowflake import bootstrap_objects
    from include.settings import warehouse_names

    cursor = snowflake_hook.get_conn().cursor(DictCursor)
    cursor.execute(f"SHOW STAGES IN SCHEMA {raw_table('LANDING')}")
    stages = [(row["name"], row["url"], row["storage_integration"]) for row in cursor.fetchall()]
    assert stages == [("LANDING_STAGE", "s3://landing/", "S3_LANDING")]
    expected = sorted(tuple(t.split(".")[1:]) for t in bootstrap_objects(warehouse_names()).tables)
    schemas = ", ".join(f"'{schema}'" for schema in sorted({schema for schema, _ in expected}))
    tables = snowflake_hook.get_records(
        f"SELECT TABLE_SCHEMA, TABLE_NAME FROM {raw_table('INFORMATION_SCHEMA.TABLES')} "
        f"WHERE TABLE_SCHEMA IN ({schemas}) ORDER BY 1, 2"
    )
    assert ("CLOUD_APP", "WORKSPACES") in expected
    assert tables == expected


def test_copy_into_loads_each_file_once(s3_hook, snowflake_hook) -> None:
    table = scratch_table()
    snowflake_hook.run(f"CREATE TABLE {table} (RECORD VARIANT)")
    prefix = f"contract/copy/{uuid.uuid4().hex}/"
    write_ndjson_gz(s3_hook, "landing", f"{prefix}part-0000.json.gz", [{"id": i, "kind": "a"} for i in range(4)])
    write_ndjson_gz(s3_hook, "landing", f"{prefix}part-0001.json.gz", [{"id": i, "kind": "b"} for i in range(4, 7)])

    first = copy_into(snowflake_hook, table, prefix)
    assert sorted((f.file.rsplit("/", 1)[1], f.status, f.rows_loaded) for f in first.files) == [
        ("part-0000.json.gz", "LOADED", 4),
        ("part-0001.json.gz", "LOADED", 3),
    ]
    assert count_rows(snowflake_hook, table) == 7

    second = copy_into(snowflake_hook, table, prefix)
    assert sorted((f.file.rsplit("/", 1)[1], f.status, f.rows_loaded) for f in second.files) == [
        ("part-0000.json.gz", "LOAD_SKIPPED", 0),
        ("part-0001.json.gz", "LOAD_SKIPPED", 0),
    ]
    assert count_rows(snowflake_hook, table) == 7

    # A new file in the same prefix is the only thing the next COPY loads.
    write_ndjson_gz(s3_hook, "landing", f"{prefix}part-0002.json.gz", [{"id": 7, "kind": "c"}])
    third = copy_into(snowflake_hook, table, prefix)
    assert [(f.file.rsplit("/", 1)[1], f.status) for f in third.by_status("LOADED")] == [
        ("part-0002.json.gz", "LOADED")
    ]
    assert snowflake_hook.get_records(f"SELECT RECORD:kind::VARCHAR, COUNT(*) FROM {table} GROUP BY 1 ORDER BY 1") == [
        ("a", 4),
        ("b", 3),
        ("c", 1),
    ]


def test_copy_into_reports_a_corrupt_file(s3_hook, snowflake_hook) -> None:
    table = scratch_table()
    snowflake_hook.run(f"CREATE TABLE {table} (RECORD VARIANT)")
    prefix = f"contract/corrupt/{uuid.uuid4().hex}/"
    s3_hook.load_bytes(gzip.compress(b'{"id": 1}\n{"id": \n'), key=f"{prefix}part-0000.json.gz", bucket_name="landing")
    with pytest.raises(Exception, match=r"(?i)json|parse|malformed"):
        copy_into(snowflake_hook, table, prefix)
    assert count_rows(snowflake_hook, table) == 0
