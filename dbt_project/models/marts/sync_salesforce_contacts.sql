-- What this mart holds and who reads it: its docs block in _marts__docs.md.
with people as (
    select * from {{ ref('int_people_matched_to_salesforce') }}
    where existing_contact_id is null
),

customers as (
    select * from {{ ref('int_customers_routed_to_owners') }}
)

select
    people.contact_external_id,
    left(people.first_name, 40) as first_name,
    left(coalesce(nullif(people.last_name, ''), '[not provided]'), 80) as last_name,
    people.email,
    coalesce(
        people.assigned_contact_owner_id,
        case when people.lead_owner_is_seller then people.lead_owner_id end,
        customers.owner_id
    ) as owner_id,
    people.primary_workspace_id as workspace_id,
    'Product Signup' as lead_source,
    customers.account_external_id,
    people.matched_lead_id
from people
inner join customers on people.customer_key = customers.customer_key
