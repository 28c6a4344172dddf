with events as (
    select * from {{ ref('stg_cloud_app__workspace_events') }}
)

select
    workspace_id,
    workspace_name,
    plan,
    seats,
    cloud_region,
    owner_user_id,
    owner_email,
    owner_email_domain,
    owner_first_name,
    owner_last_name,
    owner_company_name,
    min(created_at) over (partition by workspace_id) as workspace_created_at,
    created_at as last_event_at,
    event_id as last_event_id
from events
qualify row_number() over (partition by workspace_id order by created_at desc, event_id desc) = 1
