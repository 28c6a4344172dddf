with source as (
    {{ salesforce_records('tasks', 'Task') }}
),

versions as (
    select
        record:payload:Id::varchar as task_id,
        record:payload:Subject::varchar as subject,
        record:payload:Status::varchar as task_status,
        record:payload:Priority::varchar as priority,
        record:payload:ActivityDate::date as activity_date,
        record:payload:WhoId::varchar as who_id,
        record:payload:WhatId::varchar as what_id,
        record:payload:OwnerId::varchar as owner_id,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:CreatedDate') }} as created_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'task_id') }}
