-- Tasks in the recycle bin (deleted by hand, or with the contact, lead, account or opportunity they were about);
-- the mirror reads them through queryAll.
with source as (
    {{ salesforce_records('tasks', 'Task') }}
),

versions as (
    select
        record:payload:Id::varchar as task_id,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:SystemModstamp') }} as deleted_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'task_id', deleted=true) }}
