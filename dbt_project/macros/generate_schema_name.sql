{#
    Models land in the schema their folder names (STAGING, INTERMEDIATE, MARTS), the same in every
    target: Hightouch and the syncs-as-code file read fixed table names such as ANALYTICS.MARTS.X.
    Environments are separated by database (SNOWFLAKE_ANALYTICS_DATABASE), not by schema prefixes.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim | upper }}
    {%- endif -%}
{%- endmacro %}
