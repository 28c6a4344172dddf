{#
    The local cloud's Snowflake stand-in (fakesnow on DuckDB) cannot run dbt-snowflake's MERGE as written:
    it needs the INSERT values qualified with the source alias, and MERGE inside BEGIN ... COMMIT fails.
    These overrides apply only when the target is `local`; on real Snowflake dbt-snowflake's own macro runs.
#}
{% macro snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {#- Without a unique key dbt-snowflake runs a plain INSERT, which the stand-in handles. -#}
    {%- if not is_local_warehouse() or unique_key is none -%}
        {{ return(dbt_snowflake.snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates)) }}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set column_names = dest_columns | map(attribute='name') | list -%}
    merge into {{ target }} as DBT_INTERNAL_DEST
    using {{ source_sql }} as DBT_INTERNAL_SOURCE
    on {% for key in keys %}DBT_INTERNAL_SOURCE.{{ key }} = DBT_INTERNAL_DEST.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    when matched then update set
    {% for name in column_names -%}
        {{ adapter.quote(name) }} = DBT_INTERNAL_SOURCE.{{ adapter.quote(name) }}{% if not loop.last %},{% endif %}
    {% endfor -%}
    when not matched then insert ({{ get_quoted_csv(column_names) }})
    values ({% for name in column_names %}DBT_INTERNAL_SOURCE.{{ adapter.quote(name) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
