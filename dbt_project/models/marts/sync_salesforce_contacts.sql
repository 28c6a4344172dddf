-- Hightouch sync salesforce-contacts: a Contact for each person who signed up and is not a contact yet.
-- Its owner: the one it already has in Salesforce while active (a lead owner coming back from inactive, or a
-- roster change, never moves a contact), else the converted lead's owner when a seller, else the customer's owner.
-- It links the company's account.
with people as (
    select * from {{ ref('int_signup_people') }}
    where existing_contact_id is null
),

customers as (
    select * from {{ ref('int_customers') }}
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
