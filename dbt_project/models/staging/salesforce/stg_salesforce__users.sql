with source as (
    select record from {{ source('salesforce', 'users') }}
),

versions as (
    select
        record:payload:Id::varchar as user_id,
        lower(trim(record:payload:Username::varchar)) as username,
        record:payload:Email::varchar as email,
        record:payload:FirstName::varchar as first_name,
        record:payload:LastName::varchar as last_name,
        record:payload:Alias::varchar as alias,
        record:payload:IsActive::boolean as is_active,
        record:payload:Title::varchar as title,
        {{ salesforce_datetime('record:payload:CreatedDate') }} as created_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'user_id', has_is_deleted=false) }}
