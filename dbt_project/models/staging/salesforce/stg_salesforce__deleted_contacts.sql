-- Contacts in the recycle bin: deleted (by hand, or with their account), or merged away into the contact
-- MasterRecordId names (the mirror reads them through queryAll).
with source as (
    {{ salesforce_records('contacts', 'Contact') }}
),

versions as (
    select
        record:payload:Id::varchar as contact_id,
        record:payload:MasterRecordId::varchar as master_record_id,
        record:payload:Email::varchar as email_raw,
        nullif(lower(trim(record:payload:Email::varchar)), '') as email,
        record:payload:AccountId::varchar as account_id,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:SystemModstamp') }} as deleted_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'contact_id', deleted=true) }}
