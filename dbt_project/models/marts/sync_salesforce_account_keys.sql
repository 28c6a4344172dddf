-- What this mart holds and who reads it: its docs block in _marts__docs.md.
select
    matched_account_id as account_id,
    account_external_id,
    min(company_domain) as company_domain
from {{ ref('int_customers_routed_to_owners') }}
where
    matched_account_id is not null
    and (matched_account_external_id is null or matched_account_external_id = account_external_id)
group by 1, 2
