{#
    The local stand-in (DuckDB) refuses a TEMPORARY table with a database and schema in its name, and dbt's
    unit tests create one (to read the model's column types). On the `local` target such a table is created
    as a regular table instead; the unit test drops it when done. On real Snowflake this is dbt's default.
#}
{% macro snowflake__get_create_table_as_sql(temporary, relation, sql) -%}
    {{ return(create_table_as(temporary and not is_local_warehouse(), relation, sql)) }}
{%- endmacro %}
