-- What this mart holds and who reads it: its docs block in _marts__docs.md.
select
    account_external_id,
    left(coalesce(company_name, company_domain), 255) as account_name,
    company_domain as website,
    owner_id,
    'Prospect' as account_type,
    company_domain,
    owner_source
from {{ ref('int_customers_routed_to_owners') }}
where is_new_account
