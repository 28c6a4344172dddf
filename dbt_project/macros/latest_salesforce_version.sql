{#
    The final CTEs of every Salesforce staging model: the mirror re-reads an overlap window, so keep the
    newest version of each record, then keep the records whose newest version is live (deleted=false: the
    object's staging model) or in the recycle bin (deleted=true: its stg_salesforce__deleted_* model).
    Filtering before picking would resurrect an older, undeleted version of a deleted record.
#}
{% macro latest_salesforce_version(versions_cte, id_column, has_is_deleted=true, deleted=false) %}
latest as (
    select * from {{ versions_cte }}
    qualify row_number() over (partition by {{ id_column }} order by system_modstamp desc) = 1
)

select * from latest
{%- if has_is_deleted %}
where {{ 'is_deleted' if deleted else 'not is_deleted' }}
{%- endif %}
{% endmacro %}
