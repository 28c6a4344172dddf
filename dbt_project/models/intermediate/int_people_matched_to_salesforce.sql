-- The people activation acts on: everyone of int_people_resolved whose record sales did not delete (README,
-- "Deleted in Salesforce"); the held-back ones are in the activation_held_signups mart.
select * exclude (held_back_reason)
from {{ ref('int_people_resolved') }}
where held_back_reason is null
