-- What this mart holds and who reads it: its docs block in _marts__docs.md.
with customers as (
    select * from {{ ref('int_customers_routed_to_owners') }}
    where is_new_account
),

deleted_records as (
    select dwh_external_id from {{ ref('int_deleted_records_resolved') }}
    where object_name in ('Opportunity', 'Task')
)

select
    {{ dwh_external_id('Task', 'company_domain') }} as task_external_id,
    left(
        'Reach out to ' || trim(coalesce(primary_first_name, '') || ' ' || coalesce(primary_last_name, ''))
        || ' about their new ' || plan || ' workspace',
        255
    ) as subject,
    dateadd(day, {{ var('outreach_due_days') }}, first_signup_at::date)::date as due_date,
    owner_id,
    'Not Started' as task_status,
    case when plan in ('professional', 'enterprise_trial') then 'High' else 'Normal' end as priority,
    -- Our contact, or the existing contact's external id when it has one (else the task names no person).
    case
        when primary_existing_contact_id is null then primary_contact_external_id
        else primary_existing_contact_external_id
    end as contact_external_id,
    {{ dwh_external_id('Opportunity', 'company_domain') }} as opportunity_external_id
from customers
where
    {{ dwh_external_id('Task', 'company_domain') }} not in (
        select deleted_records.dwh_external_id from deleted_records
    )
    and {{ dwh_external_id('Opportunity', 'company_domain') }} not in (
        select deleted_records.dwh_external_id from deleted_records
    )
