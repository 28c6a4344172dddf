with source as (
    {{ salesforce_records('leads', 'Lead') }}
),

versions as (
    select
        record:payload:Id::varchar as lead_id,
        record:payload:FirstName::varchar as first_name,
        record:payload:LastName::varchar as last_name,
        record:payload:Company::varchar as company,
        record:payload:Email::varchar as email_raw,
        nullif(lower(trim(record:payload:Email::varchar)), '') as email,
        record:payload:Status::varchar as lead_status,
        record:payload:LeadSource::varchar as lead_source,
        record:payload:OwnerId::varchar as owner_id,
        record:payload:IsConverted::boolean as is_converted,
        record:payload:ConvertedContactId::varchar as converted_contact_id,
        record:payload:ConvertedAccountId::varchar as converted_account_id,
        record:payload:Country::varchar as country,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        record:payload:Workspace_Id__c::varchar as workspace_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:CreatedDate') }} as created_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'lead_id') }}
