-- Records keyed by a Dwh_External_Id__c (this pipeline's, or an account it keyed) that sit in Salesforce's
-- recycle bin, with no live record holding that external id again. The pipeline never re-creates them and never
-- writes to them (README, "Deleted in Salesforce"). A record merged away names the live record it ended up in:
-- MasterRecordId is the record it was merged into, which may itself have been merged away since.
with recursive deleted as (
    select
        'Account' as object_name,
        account_id as record_id,
        master_record_id,
        dwh_external_id,
        deleted_at
    from {{ ref('stg_salesforce__deleted_accounts') }}
    union all
    select
        'Contact' as object_name,
        contact_id as record_id,
        master_record_id,
        dwh_external_id,
        deleted_at
    from {{ ref('stg_salesforce__deleted_contacts') }}
    union all
    select
        'Opportunity' as object_name,
        opportunity_id as record_id,
        null as master_record_id,
        dwh_external_id,
        deleted_at
    from {{ ref('stg_salesforce__deleted_opportunities') }}
    union all
    select
        'Task' as object_name,
        task_id as record_id,
        null as master_record_id,
        dwh_external_id,
        deleted_at
    from {{ ref('stg_salesforce__deleted_tasks') }}
),

live as (
    select
        'Account' as object_name,
        account_id as record_id,
        dwh_external_id
    from {{ ref('stg_salesforce__accounts') }}
    union all
    select
        'Contact' as object_name,
        contact_id as record_id,
        dwh_external_id
    from {{ ref('stg_salesforce__contacts') }}
    union all
    select
        'Opportunity' as object_name,
        opportunity_id as record_id,
        dwh_external_id
    from {{ ref('stg_salesforce__opportunities') }}
    union all
    select
        'Task' as object_name,
        task_id as record_id,
        dwh_external_id
    from {{ ref('stg_salesforce__tasks') }}
),

-- Each merged-away record, then the record its master was merged into, and so on (bounded, in case of a cycle).
merge_steps (record_id, merged_into_id, depth) as (
    select
        record_id,
        master_record_id,
        1
    from deleted
    where master_record_id is not null
    union all
    select
        merge_steps.record_id,
        deleted.master_record_id,
        merge_steps.depth + 1
    from merge_steps
    inner join deleted on merge_steps.merged_into_id = deleted.record_id
    where deleted.master_record_id is not null and merge_steps.depth < 10
),

survivors as (
    select
        merge_steps.record_id,
        live.record_id as surviving_record_id
    from merge_steps
    inner join live on merge_steps.merged_into_id = live.record_id
)

select
    deleted.object_name,
    deleted.record_id,
    deleted.dwh_external_id,
    survivors.surviving_record_id,
    deleted.deleted_at
from deleted
left join survivors on deleted.record_id = survivors.record_id
where
    deleted.dwh_external_id is not null
    and not exists (
        select 1 from live
        where live.object_name = deleted.object_name and lower(live.dwh_external_id) = lower(deleted.dwh_external_id)
    )
