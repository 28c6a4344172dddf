-- A lead Salesforce has converted (IsConverted, as mirrored) is history: it is never planned again, so a run
-- after the mirror has seen a conversion plans nothing for it.
select conversions.lead_id
from {{ ref('salesforce_lead_conversions') }} as conversions
inner join {{ ref('stg_salesforce__leads') }} as leads on conversions.lead_id = leads.lead_id
where leads.is_converted
