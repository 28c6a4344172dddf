-- Each lead converts into exactly one contact, named the way the task resolves it: this pipeline's contact by
-- external id with the account it links (by external id), or the contact sales had by Id with its account Id.
select
    lead_id,
    contact_external_id,
    contact_id,
    account_external_id,
    account_id
from {{ ref('salesforce_lead_conversions') }}
where
    (contact_external_id is null) = (contact_id is null)
    or (contact_external_id is null) != (account_external_id is null)
    or (contact_id is null) != (account_id is null)
