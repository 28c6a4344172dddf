with source as (
    select record from {{ source('cloud_app', 'workspaces') }}
),

typed as (
    select
        record:payload:event_id::varchar as event_id,
        record:payload:event_type::varchar as event_type,
        {{ to_utc('record:payload:created_at::timestamp_tz') }} as created_at,
        record:payload:workspace_id::varchar as workspace_id,
        record:payload:workspace_name::varchar as workspace_name,
        record:payload:plan::varchar as plan,
        record:payload:seats::integer as seats,
        record:payload:region::varchar as cloud_region,
        record:payload:owner:user_id::varchar as owner_user_id,
        record:payload:owner:email::varchar as owner_email_raw,
        lower(trim(record:payload:owner:email::varchar)) as owner_email,
        record:payload:owner:first_name::varchar as owner_first_name,
        record:payload:owner:last_name::varchar as owner_last_name,
        nullif(trim(record:payload:owner:company_name::varchar), '') as owner_company_name,
        {{ to_utc('record:interval_start::timestamp_tz') }} as loaded_interval_start
    from source
)

select
    *,
    split_part(owner_email, '@', 2) as owner_email_domain
from typed
-- An event appears once per interval; a re-extracted interval replaces its rows, so this is a safety net.
qualify row_number() over (partition by event_id order by loaded_interval_start desc) = 1
