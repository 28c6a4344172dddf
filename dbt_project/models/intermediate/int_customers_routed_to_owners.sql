-- One row per customer to act on: a company (business email domain) or, for personal emails, the person.
-- Each gets the Salesforce account it matches (companies only), its owner and how the owner was chosen:
-- the matched account's owner, else the owner this pipeline already gave the customer in Salesforce, else
-- the matched lead's owner, else the regional roster (round robin in the order customers first landed),
-- else the default owner. An owner counts only while active, never when it is the default owner (a
-- placeholder), and a lead's owner only when it is a roster account manager. Salesforce is the record of
-- assignments: a backfill, a late signup or a roster change never moves a customer already handed to an
-- active manager.
with people as (
    select * from {{ ref('int_people_matched_to_salesforce') }}
),

-- Live accounts only: the deleted ones are the people model's business (int_people_matched_to_salesforce).
account_domains as (
    select * from {{ ref('int_accounts_mapped_to_domains') }}
    where not is_deleted
),

users as (
    select * from {{ ref('stg_salesforce__users') }}
),

roster as (
    select
        roster_seed.sales_region,
        users.user_id,
        row_number() over (
            partition by roster_seed.sales_region order by roster_seed.rotation_position, users.user_id
        ) - 1 as rotation_slot,
        count(*) over (partition by roster_seed.sales_region) as rotation_size
    from {{ ref('account_manager_roster') }} as roster_seed
    inner join users on lower(roster_seed.username) = users.username
    where users.is_active
),

-- Always one row: the default owner's Id, or null when that user is missing or inactive.
default_owner as (
    select max(users.user_id) as user_id from users
    where {{ is_placeholder_owner('users') }} and users.is_active
),

customers as (
    select
        customer_key,
        is_personal_email,
        case when not is_personal_email then customer_key end as company_domain,
        min(first_loaded_interval_start) as first_loaded_interval_start,
        min(first_signup_at) as first_signup_at,
        count(*) as people_count
    from people
    group by 1, 2
),

-- The person whose signup opened the customer: names the account and receives the outreach.
primary_people as (
    select * from people
    qualify row_number() over (partition by customer_key order by first_signup_at, email) = 1
),

-- The first signup (in landing order) whose lead is owned by a seller (an active roster account manager, see
-- int_people_matched_to_salesforce): a lead parked with a queue, the default owner or another catch-all user
-- assigns nobody.
lead_owners as (
    select
        customer_key,
        lead_owner_id
    from people
    where lead_owner_is_seller
    qualify row_number() over (
        partition by customer_key order by first_loaded_interval_start, first_signup_at, email
    ) = 1
),

-- Accounts not created by this pipeline, by domain; ours carry dwh_external_id('Account', domain). A company
-- that no live account matches follows a merge: when sales merged the account this pipeline created or keyed for
-- it into another account, that account (int_people_matched_to_salesforce.merged_account_id) is the company's.
account_matches as (
    select
        company_domain,
        account_id,
        1 as match_rank
    from account_domains
    where
        company_domain is not null
        and coalesce(dwh_external_id, '') != {{ dwh_external_id('Account', 'company_domain') }}
    union all
    select
        customer_key as company_domain,
        merged_account_id as account_id,
        2 as match_rank
    from primary_people
    where merged_account_id is not null
),

matched_accounts as (
    select
        account_matches.company_domain,
        account_domains.account_id,
        account_domains.dwh_external_id,
        case when users.is_active and not {{ is_placeholder_owner('users') }} then account_domains.owner_id end
            as active_owner_id
    from account_matches
    inner join account_domains on account_matches.account_id = account_domains.account_id
    left join users on account_domains.owner_id = users.user_id
    qualify row_number() over (
        partition by account_matches.company_domain
        order by
            account_matches.match_rank,
            account_domains.dwh_external_id is null,
            account_domains.created_at,
            account_domains.account_id
    ) = 1
),

-- The active owner of the account this pipeline created for the customer, else of the contact it created
-- for the customer's primary person.
assigned_owners as (
    select
        primary_people.customer_key,
        coalesce(account_owners.user_id, primary_people.assigned_contact_owner_id) as assigned_owner_id
    from primary_people
    left join account_domains as synced_accounts
        on
            not primary_people.is_personal_email
            and {{ dwh_external_id('Account', 'primary_people.customer_key') }} = synced_accounts.dwh_external_id
    left join users as account_owners
        on
            synced_accounts.owner_id = account_owners.user_id
            and account_owners.is_active
            and not {{ is_placeholder_owner('account_owners') }}
),

routed as (
    select
        customers.*,
        primary_people.email as primary_email,
        primary_people.first_name as primary_first_name,
        primary_people.last_name as primary_last_name,
        primary_people.company_name,
        primary_people.primary_workspace_id,
        primary_people.primary_workspace_name,
        primary_people.plan,
        primary_people.seats,
        primary_people.sales_region,
        primary_people.contact_external_id as primary_contact_external_id,
        primary_people.existing_contact_id as primary_existing_contact_id,
        primary_people.existing_contact_external_id as primary_existing_contact_external_id,
        matched_accounts.account_id as matched_account_id,
        matched_accounts.dwh_external_id as matched_account_external_id,
        matched_accounts.active_owner_id as matched_account_owner_id,
        assigned_owners.assigned_owner_id,
        lead_owners.lead_owner_id,
        -- Position in its region's rotation among customers the roster has to assign.
        case
            when matched_accounts.active_owner_id is null and lead_owners.lead_owner_id is null
                then row_number() over (
                    partition by
                        primary_people.sales_region,
                        matched_accounts.active_owner_id is null and lead_owners.lead_owner_id is null
                    order by customers.first_loaded_interval_start, customers.first_signup_at, customers.customer_key
                ) - 1
        end as rotation_index
    from customers
    inner join primary_people on customers.customer_key = primary_people.customer_key
    left join matched_accounts on customers.company_domain = matched_accounts.company_domain
    left join lead_owners on customers.customer_key = lead_owners.customer_key
    left join assigned_owners on customers.customer_key = assigned_owners.customer_key
)

select
    routed.*,
    case
        when routed.is_personal_email then null
        when routed.matched_account_id is null then {{ dwh_external_id('Account', 'routed.company_domain') }}
        else coalesce(routed.matched_account_external_id, {{ dwh_keyed_account_id('routed.matched_account_id') }})
    end as account_external_id,
    routed.company_domain is not null and routed.matched_account_id is null as is_new_account,
    coalesce(
        routed.matched_account_owner_id,
        routed.assigned_owner_id,
        routed.lead_owner_id,
        roster.user_id,
        default_owner.user_id
    ) as owner_id,
    case
        when routed.matched_account_owner_id is not null then 'account_owner'
        when routed.assigned_owner_id is not null then 'assigned_before'
        when routed.lead_owner_id is not null then 'lead_owner'
        when roster.user_id is not null then 'roster'
        when default_owner.user_id is not null then 'default_owner'
    end as owner_source
from routed
left join roster
    on
        routed.sales_region = roster.sales_region
        and mod(routed.rotation_index, roster.rotation_size) = roster.rotation_slot
cross join default_owner
