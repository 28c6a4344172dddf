-- What this mart holds and who reads it: its docs block in _marts__docs.md.
with people as (
    select
        matched_lead_id,
        contact_external_id,
        existing_contact_id,
        customer_key,
        primary_workspace_id
    from {{ ref('int_people_matched_to_salesforce') }}
    where matched_lead_id is not null
),

existing_contacts as (
    select
        contact_id,
        account_id
    from {{ ref('stg_salesforce__contacts') }}
),

our_contacts as (
    select
        contact_external_id,
        account_external_id,
        owner_id
    from {{ ref('sync_salesforce_contacts') }}
),

customers as (
    select
        customer_key,
        owner_id as customer_owner_id
    from {{ ref('int_customers_routed_to_owners') }}
),

-- The converted status a user converting by hand is offered first (lowest SortOrder).
first_converted_status as (
    select api_name from {{ ref('stg_salesforce__lead_statuses') }}
    where is_converted
    qualify row_number() over (order by sort_order, lead_status_id) = 1
),

-- Always one row: null when the org has no converted status (the task then refuses every lead, saying so).
converted_status as (
    select max(api_name) as api_name from first_converted_status
)

select
    people.matched_lead_id as lead_id,
    converted_status.api_name as converted_status,
    our_contacts.contact_external_id,
    people.existing_contact_id as contact_id,
    our_contacts.account_external_id,
    existing_contacts.account_id,
    -- Owns what a conversion creates: nothing here (existing contact and account, no opportunity), but Salesforce
    -- requires an owner for a lead that a queue owns, since accounts and contacts cannot belong to a queue.
    coalesce(our_contacts.owner_id, customers.customer_owner_id) as owner_id,
    people.primary_workspace_id as workspace_id
from people
left join our_contacts on people.contact_external_id = our_contacts.contact_external_id
left join existing_contacts on people.existing_contact_id = existing_contacts.contact_id
left join customers on people.customer_key = customers.customer_key
cross join converted_status
-- convertLead() merges a lead into an existing contact only together with the contact's account.
where coalesce(our_contacts.account_external_id, existing_contacts.account_id) is not null
