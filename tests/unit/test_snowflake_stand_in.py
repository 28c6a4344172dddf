"""The Snowflake stand-in's rewrites: what production sends, run where DuckDB cannot run it as written
(dev/README.md, Snowflake stand-in). Each case is a statement dbt-snowflake sends, as the production render
(tests/static/test_production_render.py) shows it."""

from __future__ import annotations

import pytest

from tests.conftest import CHECKOUT, NOT_IN_IMAGE

if not CHECKOUT:
    pytest.skip(NOT_IN_IMAGE, allow_module_level=True)

import sqlglot
from sqlglot import exp

from dev.localcloud.snowflake_server import _is_begin, rewrite_for_duckdb

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
