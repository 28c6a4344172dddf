{{
    config(
        materialized='incremental',
        unique_key='workspace_id',
        on_schema_change='fail',
    )
}}

-- One row per workspace: its latest state, when it was created and when it first landed. Incremental:
-- only workspaces with events in recently landed intervals are rebuilt (from all of their events, so a
-- late event never overwrites a newer one).
with events as (
    select * from {{ ref('stg_cloud_app__workspace_events') }}
),

{% if is_incremental() %}
    lookback as (
        select dateadd(hour, -{{ var('signup_lookback_hours') }}, max(last_loaded_interval_start)) as since
        from {{ this }}
    ),

    changed_workspaces as (
        select distinct events.workspace_id
        from events
        -- An empty table (a first run before any signup landed) has no newest interval: take every workspace.
        inner join lookback on lookback.since is null or events.loaded_interval_start >= lookback.since
    ),
{% endif %}

workspace_events as (
    select * from events
    {% if is_incremental() %}
        where workspace_id in (select changed_workspaces.workspace_id from changed_workspaces)
    {% endif %}
),

latest_event as (
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
        event_id as last_event_id,
        created_at as last_event_at,
        min(created_at) over (partition by workspace_id) as workspace_created_at,
        min(loaded_interval_start) over (partition by workspace_id) as first_loaded_interval_start,
        max(loaded_interval_start) over (partition by workspace_id) as last_loaded_interval_start
    from workspace_events
    qualify row_number() over (partition by workspace_id order by created_at desc, event_id desc) = 1
)

select
    *,
    -- No sync uses an invalid email, whatever reached the warehouse (the extractor quarantines them too).
    coalesce(regexp_like(owner_email, '^[a-z0-9._%+''-]+@[a-z0-9.-]+\\.[a-z]{2,}$'), false) as has_valid_email
from latest_event
