-- The company domain of each Salesforce account: its website's host, else the most common email domain
-- of its contacts (accounts typed in by sales often have no website).
with accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
),

contacts as (
    select * from {{ ref('stg_salesforce__contacts') }}
),

personal_domains as (
    select email_domain from {{ ref('personal_email_domains') }}
),

website_domains as (
    select
        account_id,
        nullif(
            split_part(
                split_part(regexp_replace(lower(trim(website)), '^(https?://)?(www\\.)?', ''), '/', 1), ':', 1
            ),
            ''
        ) as company_domain
    from accounts
),

contact_domains as (
    select
        contacts.account_id,
        split_part(lower(trim(contacts.email)), '@', 2) as company_domain,
        count(*) as contact_count
    from contacts
    where
        contacts.account_id is not null
        and split_part(lower(trim(contacts.email)), '@', 2) not in (
            select personal_domains.email_domain from personal_domains
        )
    group by 1, 2
    qualify row_number() over (
        partition by contacts.account_id order by count(*) desc, split_part(lower(trim(contacts.email)), '@', 2)
    ) = 1
)

select
    accounts.account_id,
    accounts.account_name,
    accounts.owner_id,
    accounts.dwh_external_id,
    accounts.created_at,
    coalesce(website_domains.company_domain, contact_domains.company_domain) as company_domain
from accounts
left join website_domains on accounts.account_id = website_domains.account_id
left join contact_domains on accounts.account_id = contact_domains.account_id
