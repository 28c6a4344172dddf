-- What this mart holds and who reads it: its docs block in _marts__docs.md.
with customers as (
    select * from {{ ref('int_customers_routed_to_owners') }}
    where is_new_account
),

deleted_opportunities as (
    select dwh_external_id from {{ ref('int_deleted_records_resolved') }}
    where object_name = 'Opportunity'
),

prices as (
    select * from {{ ref('plan_prices') }}
)

select
    {{ dwh_external_id('Opportunity', 'customers.company_domain') }} as opportunity_external_id,
    left(
        coalesce(customers.company_name, customers.company_domain) || ' - ' || customers.plan || ' workspace', 120
    ) as opportunity_name,
    prices.opportunity_stage as stage_name,
    dateadd(day, {{ var('opportunity_close_days') }}, customers.first_signup_at::date)::date as close_date,
    (customers.seats * prices.annual_price_per_seat)::number(18, 2) as amount,
    customers.owner_id,
    customers.primary_workspace_id as workspace_id,
    customers.account_external_id
from customers
inner join prices on customers.plan = prices.plan
where
    {{ dwh_external_id('Opportunity', 'customers.company_domain') }} not in (
        select deleted_opportunities.dwh_external_id from deleted_opportunities
    )
