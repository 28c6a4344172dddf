-- The company domain of each Salesforce account, live or in the recycle bin (is_deleted): the registrable domain
-- of its website's host, else the most common registrable email domain of its contacts (accounts typed in by
-- sales often have no website). A deleted account's contacts are those deleted with it.
with accounts as (
    select
        account_id,
        account_name,
        owner_id,
        dwh_external_id,
        created_at,
        website,
        false as is_deleted
    from {{ ref('stg_salesforce__accounts') }}
    union all
    select
        account_id,
        null as account_name,
        null as owner_id,
        dwh_external_id,
        null as created_at,
        website,
        true as is_deleted
    from {{ ref('stg_salesforce__deleted_accounts') }}
),

contacts as (
    select
        account_id,
        email,
        false as is_deleted
    from {{ ref('stg_salesforce__contacts') }}
    union all
    select
        account_id,
        email,
        true as is_deleted
    from {{ ref('stg_salesforce__deleted_contacts') }}
),

personal_domains as (
    select email_domain from {{ ref('personal_email_domains') }}
),

website_hosts as (
    select
        account_id,
        nullif(
            split_part(
                split_part(regexp_replace(lower(trim(website)), '^(https?://)?(www\\.)?', ''), '/', 1), ':', 1
            ),
            ''
        ) as host
    from accounts
),

contact_email_domains as (
    select
        contacts.account_id,
        split_part(contacts.email, '@', 2) as email_domain
    from contacts
    inner join accounts on contacts.account_id = accounts.account_id and contacts.is_deleted = accounts.is_deleted
    where contacts.email is not null
),

all_domains as (
    select host as domain from website_hosts
    union all
    select email_domain as domain from contact_email_domains
),

-- A website https://www.eng.bigco.com/ and a signup from bob@bigco.com are the same company: bigco.com.
{{ registrable_domain_ctes('all_domains') }},

website_domains as (
    select
        website_hosts.account_id,
        coalesce(registrable_domains.registrable_domain, website_hosts.host) as company_domain
    from website_hosts
    left join registrable_domains on website_hosts.host = registrable_domains.domain
),

contact_domains as (
    select
        contact_email_domains.account_id,
        coalesce(registrable_domains.registrable_domain, contact_email_domains.email_domain) as company_domain,
        count(*) as contact_count
    from contact_email_domains
    left join registrable_domains on contact_email_domains.email_domain = registrable_domains.domain
    where
        contact_email_domains.email_domain not in (select personal_domains.email_domain from personal_domains)
        and coalesce(registrable_domains.registrable_domain, '') not in (
            select personal_domains.email_domain from personal_domains
        )
    group by 1, 2
    qualify row_number() over (
        partition by contact_email_domains.account_id order by count(*) desc, company_domain
    ) = 1
)

select
    accounts.account_id,
    accounts.account_name,
    accounts.owner_id,
    accounts.dwh_external_id,
    accounts.created_at,
    accounts.is_deleted,
    coalesce(website_domains.company_domain, contact_domains.company_domain) as company_domain
from accounts
left join website_domains on accounts.account_id = website_domains.account_id
left join contact_domains on accounts.account_id = contact_domains.account_id
