with source as (
    {{ salesforce_records('contacts', 'Contact') }}
),

versions as (
    select
        record:payload:Id::varchar as contact_id,
        record:payload:FirstName::varchar as first_name,
        record:payload:LastName::varchar as last_name,
        record:payload:Email::varchar as email_raw,
        nullif(lower(trim(record:payload:Email::varchar)), '') as email,
        record:payload:AccountId::varchar as account_id,
        record:payload:OwnerId::varchar as owner_id,
        record:payload:LeadSource::varchar as lead_source,
        record:payload:MailingCountry::varchar as mailing_country,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        record:payload:Workspace_Id__c::varchar as workspace_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:CreatedDate') }} as created_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'contact_id') }}
