-- Hightouch sync salesforce-account-keys: existing accounts that signups matched by domain get this
-- pipeline's external id, so contacts can name their account by external id like any new one. One row per
-- account: two companies share one when sales merged one's account into the other's.
select
    matched_account_id as account_id,
    account_external_id,
    min(company_domain) as company_domain
from {{ ref('int_customers') }}
where
    matched_account_id is not null
    and (matched_account_external_id is null or matched_account_external_id = account_external_id)
group by 1, 2
