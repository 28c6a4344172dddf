{# True when dbt runs against the local cloud's Snowflake stand-in (the `local` target). #}
{% macro is_local_warehouse() -%}
    {{ return(target.name == 'local') }}
{%- endmacro %}
