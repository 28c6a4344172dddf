"""Salesforce datetimes (2026-11-25T16:42:10.000+0000: no colon in the offset) are parsed with an explicit,
documented Snowflake format by one macro, in every staging model and in the source's freshness query.

dbt's unit tests run on the local stand-in, which also accepts a plain ::timestamp_tz; so the rule is checked
here on the project's own files, and the macro is rendered the way dbt renders it (Jinja) for any target.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import yaml

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
STAGING = DBT / "models" / "staging" / "salesforce"
# Snowflake's documented format elements: https://docs.snowflake.com/en/sql-reference/date-time-input-output
DOCUMENTED_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FF3TZHTZM'


def render_macro(name: str, *args: str) -> str:
    """The macro rendered with the project's other macros in scope (as dbt renders it)."""
    macros = "".join((DBT / "macros" / f).read_text() for f in ("to_utc.sql", "salesforce_datetime.sql"))
    module = jinja2.Environment(autoescape=False).from_string(macros)  # noqa: S701 - SQL
    return str(getattr(module.make_module(), name)(*args)).strip()


def test_the_macro_parses_with_the_documented_format() -> None:
    assert render_macro("salesforce_datetime", "record:payload:CreatedDate") == (
        f"convert_timezone('UTC', to_timestamp_tz(record:payload:CreatedDate::varchar, '{DOCUMENTED_FORMAT}'))"
        "::timestamp_tz"
    )


def test_every_salesforce_datetime_in_staging_goes_through_the_macro() -> None:
    models = sorted(STAGING.glob("stg_salesforce__*.sql"))
    assert models
    for model in models:
        sql = model.read_text()
        assert not re.search(r"::\s*timestamp", sql, re.IGNORECASE), f"{model.name}: a bare timestamp cast"
        for field in re.findall(r"record:payload:(\w*(?:Date|Modstamp))\b(?!:)", sql):
            assert f"salesforce_datetime('record:payload:{field}')" in sql, f"{model.name}: {field}"


def test_source_freshness_parses_system_modstamp_with_the_macro() -> None:
    source = yaml.safe_load((STAGING / "_salesforce__sources.yml").read_text())["sources"][0]
    config = source["config"]
    assert "loaded_at_field" not in config, "a loaded_at_field cannot call a macro: use loaded_at_query"
    assert "salesforce_datetime('record:payload:SystemModstamp')" in config["loaded_at_query"]
    assert all("loaded_at_field" not in (table.get("config") or {}) for table in source["tables"])
