with source as (
    {{ salesforce_records('accounts', 'Account') }}
),

versions as (
    select
        record:payload:Id::varchar as account_id,
        record:payload:Name::varchar as account_name,
        record:payload:Website::varchar as website,
        record:payload:Type::varchar as account_type,
        record:payload:Industry::varchar as industry,
        record:payload:OwnerId::varchar as owner_id,
        record:payload:BillingCountry::varchar as billing_country,
        record:payload:NumberOfEmployees::integer as number_of_employees,
        record:payload:Dwh_External_Id__c::varchar as dwh_external_id,
        coalesce(record:payload:IsDeleted::boolean, false) as is_deleted,
        {{ salesforce_datetime('record:payload:CreatedDate') }} as created_at,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'account_id') }}
