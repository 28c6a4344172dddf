{#
    The records one sync would create or change in Salesforce: the sync's mart compared with the mirrored state
    of its object (the staging model, deleted records left out), matched on the key the sync writes by.
    `compared` lists (mart column, staging column) pairs of the fields the sync maps; owner_id is compared
    whenever `has_owner` (an owner change is reported as its own kind: it moves a customer between people).
    `label` is a SQL expression over the mart row that names the record for a person (the gate, the run page);
    `owner_reason`, one that says why the record gets its owner (the routing rule), when the mart says.
    One row per record that would change; unchanged records are left out. Read by salesforce_change_plan.
#}
{% macro salesforce_planned_changes(
    sync_slug, salesforce_object, mart, staging, mart_key, staging_key, compared, label,
    has_owner=true, owner_reason="null"
) -%}
    select
        '{{ sync_slug }}' as sync_slug,
        '{{ salesforce_object }}' as salesforce_object,
        planned.{{ mart_key }}::varchar as record_key,
        ({{ label }})::varchar as record_label,
        case
            when current_state.{{ staging_key }} is null then 'create'
            {%- if has_owner %}
            when planned.owner_id is distinct from current_state.owner_id then 'owner_change'
            {%- endif %}
            else 'update'
        end as change_kind,
        {%- if has_owner %}
        current_state.owner_id as current_owner_id,
        planned.owner_id as planned_owner_id,
        {%- else %}
        null::varchar as current_owner_id,
        null::varchar as planned_owner_id,
        {%- endif %}
        ({{ owner_reason }})::varchar as owner_reason,
        rtrim(
            {%- for mart_column, staging_column in compared %}
            case
                when planned.{{ mart_column }} is distinct from current_state.{{ staging_column }}
                    then '{{ staging_column }}, '
                else ''
            end{{ " ||" if not loop.last }}
            {%- endfor %},
            ', '
        ) as changed_fields
    from {{ ref(mart) }} as planned
    left join {{ ref(staging) }} as current_state
        on
            planned.{{ mart_key }} = current_state.{{ staging_key }}
            and not current_state.is_deleted
    where
        current_state.{{ staging_key }} is null
        {%- for mart_column, staging_column in compared %}
        or planned.{{ mart_column }} is distinct from current_state.{{ staging_column }}
        {%- endfor %}
{%- endmacro %}
