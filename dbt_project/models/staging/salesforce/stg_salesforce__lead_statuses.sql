-- The mirror replaces this raw table with a full read on every run (a status removed from the picklist loses
-- its LeadStatus row without a trace), so it holds the current rows; the macro still keeps one per Id.
with source as (
    select record from {{ source('salesforce', 'lead_statuses') }}
),

versions as (
    select
        record:payload:Id::varchar as lead_status_id,
        record:payload:ApiName::varchar as api_name,
        record:payload:IsConverted::boolean as is_converted,
        record:payload:SortOrder::integer as sort_order,
        record:payload:SystemModstamp::varchar as system_modstamp
    from source
),

{{ latest_salesforce_version('versions', 'lead_status_id', has_is_deleted=false) }}
