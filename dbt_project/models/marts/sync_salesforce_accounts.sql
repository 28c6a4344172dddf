-- Hightouch sync salesforce-accounts: one Account per company domain that Salesforce does not know yet.
select
    account_external_id,
    left(coalesce(company_name, company_domain), 255) as account_name,
    company_domain as website,
    owner_id,
    'Prospect' as account_type,
    company_domain,
    owner_source
from {{ ref('int_customers') }}
where is_new_account
