-- Leads in the recycle bin or gone from it: deleted, or merged away into the lead MasterRecordId names (the mirror
-- reads them through queryAll; merges are how sales folds duplicate leads together).
with source as (
    {{ salesforce_records('leads', 'Lead') }}
),

versions as (
    select
        record:payload:Id::varchar as lead_id,
        record:payload:MasterRecordId::varchar as master_record_id,
        record:payload:Email::varchar as email_raw,
        nullif(lower(trim(record:payload:Email::varchar)), '') as email,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:SystemModstamp') }} as deleted_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'lead_id', deleted=true) }}
