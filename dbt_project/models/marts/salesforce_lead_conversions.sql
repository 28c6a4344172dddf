-- Leads to convert in Salesforce, read by the convert_salesforce_leads task of activate_salesforce, which calls
-- Salesforce's convertLead() (SOAP API; no REST resource converts a lead). Each open lead of a person who
-- signed up converts into the contact this pipeline keeps for them (the one the salesforce-contacts sync
-- writes, or the contact sales already had) on that contact's account, with Salesforce's first converted lead
-- status; no opportunity is created (the pipeline opens its own). Leads Salesforce has converted are not here.
-- convertLead() merges a lead into an existing contact only together with the contact's account, so a person
-- whose contact has no account (a personal email address) keeps an open lead for sales to convert or close.
with people as (
    select * from {{ ref('int_signup_people') }}
    where matched_lead_id is not null
),

our_contacts as (
    select * from {{ ref('sync_salesforce_contacts') }}
),

existing_contacts as (
    select * from {{ ref('stg_salesforce__contacts') }}
),

customers as (
    select * from {{ ref('int_customers') }}
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
    coalesce(our_contacts.owner_id, customers.owner_id) as owner_id,
    people.primary_workspace_id as workspace_id
from people
left join our_contacts on people.contact_external_id = our_contacts.contact_external_id
left join existing_contacts on people.existing_contact_id = existing_contacts.contact_id
left join customers on people.customer_key = customers.customer_key
cross join converted_status
where coalesce(our_contacts.account_external_id, existing_contacts.account_id) is not null
