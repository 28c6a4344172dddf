with source as (
    {{ salesforce_records('opportunities', 'Opportunity') }}
),

versions as (
    select
        record:payload:Id::varchar as opportunity_id,
        record:payload:Name::varchar as opportunity_name,
        record:payload:StageName::varchar as stage_name,
        record:payload:CloseDate::date as close_date,
        record:payload:Amount::number(18, 2) as amount,
        record:payload:AccountId::varchar as account_id,
        record:payload:OwnerId::varchar as owner_id,
        record:payload:Type::varchar as opportunity_type,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        record:payload:Workspace_Id__c::varchar as workspace_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:CreatedDate') }} as created_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'opportunity_id') }}
