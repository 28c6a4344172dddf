-- What this mart holds and who reads it: its docs block in _marts__docs.md.
select
    people.email,
    people.first_name,
    people.last_name,
    people.primary_workspace_id as workspace_id,
    people.company_domain,
    people.held_back_reason,
    people.first_loaded_interval_start
from {{ ref('int_people_resolved') }} as people
where people.held_back_reason is not null
