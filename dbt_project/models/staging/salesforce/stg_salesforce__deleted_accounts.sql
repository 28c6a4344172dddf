-- Accounts in the recycle bin: deleted, or merged away into the account MasterRecordId names (the mirror reads
-- them through queryAll). What the pipeline needs to leave a deleted account alone and to follow a merge.
with source as (
    {{ salesforce_records('accounts', 'Account') }}
),

versions as (
    select
        record:payload:Id::varchar as account_id,
        record:payload:MasterRecordId::varchar as master_record_id,
        record:payload:Website::varchar as website,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:SystemModstamp') }} as deleted_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'account_id', deleted=true) }}
