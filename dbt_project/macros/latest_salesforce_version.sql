{#
    The final CTEs of every Salesforce staging model: the mirror re-reads an overlap window, so keep the
    newest version of each record, then drop records whose newest version is deleted (filtering before
    picking would resurrect an older, undeleted version).
#}
{% macro latest_salesforce_version(versions_cte, id_column, has_is_deleted=true) %}
latest as (
    select * from {{ versions_cte }}
    qualify row_number() over (partition by {{ id_column }} order by system_modstamp desc) = 1
)

select * from latest
{%- if has_is_deleted %}
where not is_deleted
{%- endif %}
{% endmacro %}
