-- One row per person who signed up (normalised email), with what Salesforce already knows about them:
-- their primary (first) workspace, an open Lead with the same email, an existing Contact not created by us
-- (or the contact ours was merged into), and the active owner of the Contact this pipeline created for them.
-- People whose record sales deleted are held back (README, "Deleted in Salesforce"), with the reason: a person whose
-- contact this pipeline created was deleted and who has no live contact, and everyone of a company whose account
-- (created or keyed by this pipeline) was deleted and that no live account matches. int_people_matched_to_salesforce
-- leaves them out, so no sync writes for them again; the activation_held_signups mart shows them.
with signups as (
    select * from {{ ref('int_workspaces_rolled_up') }}
    where has_valid_email
),

personal_domains as (
    select email_domain from {{ ref('personal_email_domains') }}
),

-- Leads with an email, not converted yet. Once converted (salesforce_lead_conversions) a lead is history and
-- drops out: the owner it decided stays with the contact and account it converted into, which win from then on.
leads as (
    select
        lead_id,
        email,
        owner_id,
        created_at
    from {{ ref('stg_salesforce__leads') }}
    where not coalesce(is_converted, false) and email is not null
),

contacts as (
    select
        contact_id,
        email,
        account_id,
        owner_id,
        dwh_external_id,
        created_at
    from {{ ref('stg_salesforce__contacts') }}
),

users as (
    select
        user_id,
        username,
        is_active
    from {{ ref('stg_salesforce__users') }}
),

account_domains as (
    select
        account_id,
        company_domain,
        is_deleted
    from {{ ref('int_accounts_mapped_to_domains') }}
),

deleted_records as (
    select
        object_name,
        record_id,
        dwh_external_id,
        surviving_record_id,
        deleted_at
    from {{ ref('int_deleted_records_resolved') }}
),

regions as (
    select
        cloud_region,
        sales_region
    from {{ ref('cloud_region_sales_regions') }}
),

signup_domains as (
    select owner_email_domain as domain from signups
),

-- Company matching is by registrable domain: ana@eng.bigco.com and bob@bigco.com are one company.
{{ registrable_domain_ctes('signup_domains') }},

people as (
    select
        signups.owner_email as email,
        signups.owner_email_domain as email_domain,
        signups.owner_first_name as first_name,
        signups.owner_last_name as last_name,
        signups.owner_company_name as company_name,
        signups.workspace_id as primary_workspace_id,
        signups.workspace_name as primary_workspace_name,
        signups.plan,
        signups.seats,
        signups.cloud_region,
        signups.workspace_created_at as first_signup_at,
        signups.first_loaded_interval_start,
        count(*) over (partition by signups.owner_email) as workspace_count
    from signups
    qualify row_number() over (
        partition by signups.owner_email
        order by signups.workspace_created_at, signups.workspace_id
    ) = 1
),

-- The sellers: active users on the account manager roster. A lead's owner counts as an assignment only when
-- it is one of them; leads also sit with queues (OwnerId 00G...), the default owner or other catch-all users
-- (web-to-lead and assignment rules park them there), and those signups go through the roster.
sellers as (
    select distinct users.user_id
    from users
    inner join {{ ref('account_manager_roster') }} as roster on users.username = lower(roster.username)
    where users.is_active
),

-- The oldest open lead of each email.
open_leads as (
    select
        leads.email,
        leads.lead_id,
        leads.owner_id as lead_owner_id,
        coalesce(users.is_active, false) as lead_owner_is_active,
        sellers.user_id is not null as lead_owner_is_seller
    from leads
    left join users on leads.owner_id = users.user_id
    left join sellers on leads.owner_id = sellers.user_id
    qualify row_number() over (partition by leads.email order by leads.created_at, leads.lead_id) = 1
),

-- Contacts typed in by sales (or any system but this pipeline): ours carry our external id.
existing_contacts as (
    select
        email,
        contact_id,
        dwh_external_id,
        account_id,
        owner_id
    from contacts
    where
        email is not null
        and coalesce(dwh_external_id, '') != {{ dwh_external_id('Contact', 'email') }}
    qualify row_number() over (partition by email order by created_at, contact_id) = 1
),

-- Contacts this pipeline created (our external id): the owner they have in Salesforce, while active and not
-- the placeholder default owner (a contact parked there still needs an account manager).
synced_contacts as (
    select
        contacts.dwh_external_id,
        users.user_id as active_owner_id
    from contacts
    inner join users on contacts.owner_id = users.user_id and users.is_active
    where
        contacts.dwh_external_id like '{{ dwh_external_id_prefix("Contact") }}%'
        and not {{ is_placeholder_owner('users') }}
),

-- Contacts this pipeline created that are in the recycle bin; a merged-away one names the live contact it is now.
deleted_synced_contacts as (
    select
        deleted_records.dwh_external_id,
        deleted_records.surviving_record_id as surviving_contact_id,
        survivors.dwh_external_id as surviving_contact_external_id
    from deleted_records
    left join contacts as survivors on deleted_records.surviving_record_id = survivors.contact_id
    where
        deleted_records.object_name = 'Contact'
        and deleted_records.dwh_external_id like '{{ dwh_external_id_prefix("Contact") }}%'
),

-- Accounts this pipeline created or keyed (macros dwh_external_id, dwh_keyed_account_id) that are in the recycle
-- bin, with their company domain; a merged-away one names the live account it is now.
deleted_company_accounts as (
    select
        deleted_records.dwh_external_id,
        account_domains.company_domain,
        deleted_records.surviving_record_id as surviving_account_id,
        deleted_records.deleted_at
    from deleted_records
    left join account_domains on deleted_records.record_id = account_domains.account_id
    where
        deleted_records.object_name = 'Account'
        and deleted_records.dwh_external_id like '{{ dwh_external_id_prefix("Account") }}%'
),

live_account_domains as (
    select distinct company_domain from account_domains
    where not is_deleted and company_domain is not null
),

people_domains as (
    select
        people.*,
        {{ dwh_external_id('Contact', 'people.email') }} as contact_external_id,
        coalesce(registrable_domains.registrable_domain, people.email_domain) as company_domain,
        personal_email_domains.email_domain is not null or personal_company_domains.email_domain is not null
            as is_personal_email
    from people
    left join registrable_domains on people.email_domain = registrable_domains.domain
    left join personal_domains as personal_email_domains on people.email_domain = personal_email_domains.email_domain
    left join personal_domains as personal_company_domains
        on registrable_domains.registrable_domain = personal_company_domains.email_domain
),

signup_companies as (
    select distinct company_domain from people_domains
    where not is_personal_email
),

-- Per company that no live account matches: its deleted account, preferring one merged into a live account.
company_deletions as (
    select
        signup_companies.company_domain,
        deleted_company_accounts.surviving_account_id
    from signup_companies
    inner join deleted_company_accounts
        on
            signup_companies.company_domain = deleted_company_accounts.company_domain
            or deleted_company_accounts.dwh_external_id
            = {{ dwh_external_id('Account', 'signup_companies.company_domain') }}
    where signup_companies.company_domain not in (select live_account_domains.company_domain from live_account_domains)
    qualify row_number() over (
        partition by signup_companies.company_domain
        order by
            deleted_company_accounts.surviving_account_id is null asc,
            deleted_company_accounts.deleted_at desc,
            deleted_company_accounts.dwh_external_id asc
    ) = 1
)

select
    people.*,
    regions.sales_region,
    case when people.is_personal_email then people.email else people.company_domain end as customer_key,
    open_leads.lead_id as matched_lead_id,
    open_leads.lead_owner_id,
    open_leads.lead_owner_is_active,
    coalesce(open_leads.lead_owner_is_seller, false) as lead_owner_is_seller,
    coalesce(existing_contacts.contact_id, deleted_synced_contacts.surviving_contact_id) as existing_contact_id,
    case
        when existing_contacts.contact_id is not null then existing_contacts.dwh_external_id
        else deleted_synced_contacts.surviving_contact_external_id
    end as existing_contact_external_id,
    synced_contacts.active_owner_id as assigned_contact_owner_id,
    company_deletions.surviving_account_id as merged_account_id,
    case
        -- Their company's account was deleted (not merged) and no live account matches the company.
        when company_deletions.company_domain is not null and company_deletions.surviving_account_id is null
            then 'account_deleted'
        -- The person's own contact was deleted (not merged) and no live contact has their email.
        when
            deleted_synced_contacts.dwh_external_id is not null
            and deleted_synced_contacts.surviving_contact_id is null
            and existing_contacts.contact_id is null
            then 'contact_deleted'
    end as held_back_reason
from people_domains as people
left join regions on people.cloud_region = regions.cloud_region
left join open_leads on people.email = open_leads.email
left join existing_contacts on people.email = existing_contacts.email
left join synced_contacts on people.contact_external_id = synced_contacts.dwh_external_id
left join deleted_synced_contacts on people.contact_external_id = deleted_synced_contacts.dwh_external_id
left join company_deletions on not people.is_personal_email and people.company_domain = company_deletions.company_domain
