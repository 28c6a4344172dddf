"""What production would be sent: the dbt project rendered under profiles.yml's `prod` output, with dummy
credentials and no connection, and every statement parsed as Snowflake SQL.

Local runs execute the same macros (no model or macro branches on the target: test_one_code_path.py), but the
stand-in is not Snowflake: this is where SQL that only real Snowflake would receive is checked. It covers every
model (incremental models in both their first and incremental form) and the run-time SQL of the
materializations: dbt-snowflake's MERGE for each incremental model, its temporary view, and a temporary table
(what dbt's unit tests and table-typed temp relations create).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

# Three dbt renders of the project: the longest of the static checks.
pytestmark = pytest.mark.long_running(minutes=0.5)
REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = str(Path(sys.executable).with_name("dbt"))
DUMMY_CREDENTIALS = {
    "SNOWFLAKE_ACCOUNT": "render-only",
    "SNOWFLAKE_USER": "render-only",
    "SNOWFLAKE_PRIVATE_KEY_PATH": "/nonexistent/render-only.p8",
}
# Render both branches of is_incremental() without asking a warehouse whether the table exists: a root-project
# macro wins over dbt's global one. Added to the test's copy of the project only.
RENDER_INCREMENTAL_MACRO = "{% macro is_incremental() %}{{ return(var('render_incremental', false)) }}{% endmacro %}\n"
PART = re.compile(r"^-- @@ (?P<name>.+)$", re.MULTILINE)
# For every incremental model: dbt-snowflake's MERGE (its unique key, its documented columns) and the temporary
# view it merges from; then one temporary table. Parts are separated by `-- @@ <name>` lines.
MATERIALIZATION_SQL = """
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized == 'incremental' %}
{%- set target_relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) %}
{%- set temp_relation = make_temp_relation(target_relation) %}
{%- set columns = [] %}
{%- for column in node.columns.values() %}
{%- do columns.append(api.Column.create(column.name, column.data_type or 'VARCHAR')) %}
{%- endfor %}
-- @@ {{ node.name }}: merge
{{ get_merge_sql(target_relation, temp_relation, node.config.get('unique_key'), columns,
    node.config.get('incremental_predicates')) }}
-- @@ {{ node.name }}: temporary view
{{ snowflake__create_view_as_with_temp_flag(temp_relation, 'select 1 as ID', True) }};
{%- endfor %}
-- @@ temporary table
{{ create_table_as(True, api.Relation.create(database='ANALYTICS', schema='DBT', identifier='RENDER__dbt_tmp'),
   'select 1 as ID') }};
"""


def _dbt(project: Path, target_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **DUMMY_CREDENTIALS, "DBT_PROFILES_DIR": str(project), "DBT_SEND_ANONYMOUS_USAGE_STATS": "0"}
    command = [DBT, "compile", "--project-dir", str(project), "--profiles-dir", str(project), "--target", "prod"]
    command += ["--no-populate-cache", "--target-path", str(target_path), "--log-path", str(target_path)]
    command += ["--quiet", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"dbt compile under `prod` failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every rendered statement group by name: each model, each incremental model's incremental form, and the
    materializations' run-time SQL."""
    root = tmp_path_factory.mktemp("production_render")
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "macros" / "_render_is_incremental.sql").write_text(RENDER_INCREMENTAL_MACRO)
    full, incremental, inline_target = root / "full", root / "incremental", root / "inline"
    # Three renders, each in its own target path. The incremental one (other vars: a whole parse of its own) runs
    # beside the other two; the inline render then starts from the full render's parse (dbt's partial parse file:
    # same project, profile and vars), so it parses nothing again.
    with ThreadPoolExecutor(max_workers=1) as pool:
        incremental_render = pool.submit(
            _dbt, project, incremental, "--select", "config.materialized:incremental", "--vars",
            "render_incremental: true",
        )  # fmt: skip
        _ok(_dbt(project, full, "--select", "resource_type:model"))
        inline_target.mkdir()
        shutil.copy2(full / "partial_parse.msgpack", inline_target / "partial_parse.msgpack")
        inline = _ok(_dbt(project, inline_target, "--output", "json", "--inline", MATERIALIZATION_SQL))
        _ok(incremental_render.result())
    compiled = json.loads(inline[inline.index("{") :])["compiled"]

    statements: dict[str, str] = {}
    for path in sorted((full / "compiled").rglob("*.sql")):
        statements[f"model {path.stem}"] = path.read_text()
    for path in sorted((incremental / "compiled").rglob("*.sql")):
        statements[f"model {path.stem} (incremental run)"] = path.read_text()
    names = PART.findall(compiled)
    bodies = PART.split(compiled)[2::2]
    statements |= dict(zip(names, bodies, strict=True))
    return statements


def _parse(sql: str) -> list[exp.Expression]:
    return [statement for statement in sqlglot.parse(sql, read="snowflake", error_level=ErrorLevel.RAISE) if statement]


def test_every_model_renders_for_snowflake_and_parses(rendered: dict[str, str]) -> None:
    models = {name for name in rendered if name.startswith("model ")}
    assert any(name.endswith("(incremental run)") for name in models), "no incremental model rendered"
    for name in sorted(models):
        parsed = _parse(rendered[name])
        assert len(parsed) == 1, f"{name}: {len(parsed)} statements"
        assert isinstance(parsed[0], exp.Query), f"{name}: not a query"


def test_incremental_runs_merge_in_an_explicit_transaction(rendered: dict[str, str]) -> None:
    merges = {name: sql for name, sql in rendered.items() if name.endswith(": merge")}
    assert merges, "no incremental model with a MERGE"
    for name, sql in merges.items():
        kinds = [type(statement) for statement in _parse(sql)]
        assert kinds == [exp.Transaction, exp.Merge, exp.Commit], f"{name}: {kinds}"


def test_temporary_relations_keep_their_database_and_schema(rendered: dict[str, str]) -> None:
    temporary = {name: sql for name, sql in rendered.items() if "temporary" in name}
    assert any(name.endswith("temporary view") for name in temporary)
    assert "temporary table" in temporary
    for name, sql in temporary.items():
        (create,) = _parse(sql)
        assert isinstance(create, exp.Create), name
        assert create.find(exp.TemporaryProperty) is not None, f"{name}: not temporary"
        table = create.find(exp.Table)
        assert table is not None, name
        assert table.catalog, f"{name}: {table} is not database.schema.name"
        assert table.db, f"{name}: {table} is not database.schema.name"


def _converts_to_utc(node: exp.Expression) -> bool:
    return isinstance(node, exp.ConvertTimezone) and node.args["target_tz"].name.upper() == "UTC"


def _instants_not_in_utc(query: exp.Expression) -> list[str]:
    """Instants read from a raw record (a TIMESTAMP_TZ cast or parse of a VARIANT path) that no
    CONVERT_TIMEZONE('UTC', ...) normalises."""
    unconverted = []
    readings = [node for node in query.find_all(exp.Cast) if node.to.this == exp.DataType.Type.TIMESTAMPTZ]
    readings += list(query.find_all(exp.StrToTime))
    for node in readings:
        if node.find(exp.JSONExtract) is None or isinstance(node.this, exp.ConvertTimezone):
            continue
        ancestor = node.parent
        while ancestor is not None and not _converts_to_utc(ancestor):
            ancestor = ancestor.parent
        if ancestor is None:
            unconverted.append(node.sql(dialect="snowflake"))
    return unconverted


def test_staging_reads_every_instant_in_utc(rendered: dict[str, str]) -> None:
    """Snowflake keeps each TIMESTAMP_TZ value's own offset and derives dates from it
    (2026-11-01T23:30:00-05:00::date is 2026-11-01 there, 2026-11-02 in UTC); the stand-in stores UTC and cannot
    show the difference. Staging normalises every instant it reads from a raw record (macro to_utc)."""
    staging = {name: sql for name, sql in rendered.items() if name.startswith("model stg_")}
    assert staging
    for name, sql in staging.items():
        (query,) = _parse(sql)
        assert not _instants_not_in_utc(query), f"{name}: instants not normalised to UTC"
