-- Hightouch sync salesforce-lead-conversions: open leads of people who signed up, marked converted.
-- (The API cannot set IsConverted; sales ops' lead conversion flow keys off this status.)
select
    matched_lead_id as lead_id,
    'Closed - Converted' as lead_status,
    primary_workspace_id as workspace_id,
    -- The contact this pipeline creates for the person; empty when they were a contact already.
    case when existing_contact_id is null then contact_external_id end as contact_external_id
from {{ ref('int_signup_people') }}
where matched_lead_id is not null
