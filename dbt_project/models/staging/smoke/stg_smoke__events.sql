with source as (
    select record from {{ source('smoke', 'events') }}
)

select
    record:run_id::varchar || '#' || record:sequence::varchar as event_key,
    record:run_id::varchar as run_id,
    record:sequence::integer as sequence_number,
    record:kind::varchar as kind
from source
