"""The Snowflake stand-in's rewrites: what production sends, run where DuckDB cannot run it as written
(dev/README.md, Snowflake stand-in). Each case is a statement dbt-snowflake sends, as the production render
(tests/static/test_production_render.py) shows it."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from dev.localcloud.snowflake_server import _is_begin, rewrite_for_duckdb

# A fakesnow connection per case: longer than the other unit tests.
pytestmark = pytest.mark.long_running(minutes=0.4)
DBT_MERGE = """-- back compat for old kwarg name
merge into ANALYTICS.INTERMEDIATE.T as DBT_INTERNAL_DEST
    using ANALYTICS.INTERMEDIATE.T__dbt_tmp as DBT_INTERNAL_SOURCE
    on ((DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id))
when matched then update set "ID" = DBT_INTERNAL_SOURCE."ID", "V" = DBT_INTERNAL_SOURCE."V"
when not matched then insert ("ID", "V") values ("ID", "V")
/* {"app": "dbt"} */"""


def test_merge_insert_values_are_read_from_the_source_row() -> None:
    merge = sqlglot.parse_one(rewrite_for_duckdb(DBT_MERGE), read="snowflake")
    insert = merge.find(exp.Insert)
    assert [column.sql() for column in insert.expression.expressions] == [
        'DBT_INTERNAL_SOURCE."ID"',
        'DBT_INTERNAL_SOURCE."V"',
    ]
    update = merge.find(exp.Update)
    assert update.sql(dialect="snowflake") == sqlglot.parse_one(DBT_MERGE, read="snowflake").find(exp.Update).sql(
        dialect="snowflake"
    ), "the rest of the MERGE is unchanged"


def test_a_merge_with_qualified_values_is_sent_unchanged() -> None:
    qualified = DBT_MERGE.replace('values ("ID", "V")', 'values (DBT_INTERNAL_SOURCE."ID", DBT_INTERNAL_SOURCE."V")')
    assert rewrite_for_duckdb(qualified) == qualified


@pytest.mark.parametrize(
    ("sent", "run"),
    [
        (
            "create or replace  temporary view ANALYTICS.INTERMEDIATE.T__dbt_tmp\n  as (select 1)",
            "create or replace  view ANALYTICS.INTERMEDIATE.T__dbt_tmp\n  as (select 1)",
        ),
        (
            "-- a comment\ncreate or replace temporary table ANALYTICS.DBT.M__dbt_tmp as (select 1)",
            "-- a comment\ncreate or replace table ANALYTICS.DBT.M__dbt_tmp as (select 1)",
        ),
        ("CREATE TEMP TABLE DB.S.X (ID INT)", "CREATE TABLE DB.S.X (ID INT)"),
    ],
)
def test_a_qualified_temporary_relation_becomes_a_regular_one(sent: str, run: str) -> None:
    assert rewrite_for_duckdb(sent) == run


@pytest.mark.parametrize(
    "unchanged",
    [
        "create temporary table X as select 1",  # unqualified: DuckDB runs it as it is
        "select 'create temporary table A.B.C' as s",
        "create or replace table ANALYTICS.DBT.M as (select 1)",
    ],
)
def test_other_statements_are_sent_unchanged(unchanged: str) -> None:
    assert rewrite_for_duckdb(unchanged) == unchanged


@pytest.mark.parametrize(
    ("sql", "is_begin"),
    [
        ("begin", True),
        ('-- back compat for old kwarg name\n  begin\n/* {"app": "dbt"} */', True),
        ("BEGIN TRANSACTION;", True),
        ("begin work", True),
        ("beginning_balance", False),
        ("select 1", False),
    ],
)
def test_begin_is_recognised_behind_dbt_comments(sql: str, is_begin: bool) -> None:
    assert _is_begin(sql) is is_begin


# --- s3:// stages over the S3 stand-in's directory (dev/localcloud/snowflake_storage.py) ----------------------


@pytest.fixture
def stages(tmp_path):
    import duckdb

    from dev.localcloud.snowflake_storage import ExternalStages

    connection = duckdb.connect()
    connection.execute("ATTACH ':memory:' AS _fs_global")
    connection.execute("CREATE SCHEMA _fs_global._fs_information_schema")
    connection.execute(
        "CREATE TABLE _fs_global._fs_information_schema._fs_stages "
        "(name VARCHAR, database_name VARCHAR, schema_name VARCHAR, url VARCHAR, storage_integration VARCHAR)"
    )
    (tmp_path / "landing" / "cloud_app" / "2026").mkdir(parents=True)
    (tmp_path / "landing" / "cloud_app" / "2026" / "part-0000.json.gz").write_bytes(b"x" * 7)
    return ExternalStages(connection, tmp_path), connection


CREATE_INTEGRATION = (
    "CREATE STORAGE INTEGRATION IF NOT EXISTS S3_LANDING TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE"
    " STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::1:role/reader' STORAGE_ALLOWED_LOCATIONS = ('s3://landing/', 's3://b/')"
)


def test_a_storage_integration_is_kept_and_described(stages) -> None:
    external, connection = stages
    created = external.rewrite(CREATE_INTEGRATION, None, None)
    assert connection.execute(created).fetchall() == [("Integration S3_LANDING successfully created.",)]
    assert "already exists" in connection.execute(external.rewrite(CREATE_INTEGRATION, None, None)).fetchall()[0][0]
    described = dict(
        (p, v)
        for p, _, v, _ in connection.execute(external.rewrite("desc integration s3_landing", None, None)).fetchall()
    )
    assert described == {
        "ENABLED": "true",
        "STORAGE_PROVIDER": "S3",
        "STORAGE_ALLOWED_LOCATIONS": "s3://landing/,s3://b/",
        "STORAGE_BLOCKED_LOCATIONS": "",
        "STORAGE_AWS_ROLE_ARN": "arn:aws:iam::1:role/reader",
    }


def test_an_unknown_integration_is_refused_as_snowflake_refuses_it(stages) -> None:
    import snowflake.connector.errors

    external, _ = stages
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="Integration 'NOPE' does not exist"):
        external.rewrite("DESC INTEGRATION NOPE", None, None)
    stage = "CREATE OR REPLACE STAGE RAW.LANDING.ST URL = 's3://landing/' STORAGE_INTEGRATION = NOPE"
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="Integration 'NOPE' does not exist"):
        external.rewrite(stage, "RAW", "LANDING")


def test_a_stage_names_its_integration_and_lists_the_s3_stand_ins_files(stages, tmp_path) -> None:
    external, connection = stages
    external.rewrite(CREATE_INTEGRATION, None, None)
    connection.execute(
        "INSERT INTO _fs_global._fs_information_schema._fs_stages"
        " VALUES ('ST', 'RAW', 'LANDING', 's3://landing/', NULL)"
    )
    stage = "CREATE OR REPLACE STAGE RAW.LANDING.ST URL = 's3://landing/' STORAGE_INTEGRATION = S3_LANDING"
    assert external.rewrite(stage, "RAW", "LANDING") is None, "fakesnow runs CREATE STAGE itself"
    external.after(stage, "RAW", "LANDING")
    assert connection.execute(
        "SELECT storage_integration FROM _fs_global._fs_information_schema._fs_stages"
    ).fetchall() == [("S3_LANDING",)]
    listed = connection.execute(external.rewrite("LIST @RAW.LANDING.ST/cloud_app/", "RAW", "LANDING")).fetchall()
    assert [(name, size) for name, size, _, _ in listed] == [("s3://landing/cloud_app/2026/part-0000.json.gz", 7)]
    assert connection.execute(external.rewrite("LIST @ST/preflight/", "RAW", "LANDING")).fetchall() == []


def test_s3_urls_map_to_the_s3_stand_ins_directory_and_back(stages, tmp_path) -> None:
    external, _ = stages
    local = external.local_url("s3://landing/cloud_app/2026/")
    assert local == (tmp_path / "landing" / "cloud_app" / "2026").as_uri() + "/"
    assert external.s3_url(str(tmp_path / "landing" / "a.json.gz")) == "s3://landing/a.json.gz"
    assert external.local_url("gcs://other/") == "gcs://other/"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select rtrim('owner_id, ', ', ')", "owner_id"),
        ("select ltrim('xxabc', 'x')", "abc"),
        ("select trim('  padded  ')", "padded"),
        ("select rtrim(42)", "42"),
    ],
)
def test_trim_keeps_the_characters_to_remove(sql: str, expected: str) -> None:
    """fakesnow dropped TRIM's characters when it cast the input: RTRIM(x, ', ') left the comma."""
    import duckdb

    from dev.localcloud.snowflake_server import trim_keeping_its_characters

    rewritten = sqlglot.parse_one(sql, read="snowflake").transform(trim_keeping_its_characters).sql(dialect="duckdb")
    assert duckdb.sql(rewritten).fetchall() == [(expected,)]
