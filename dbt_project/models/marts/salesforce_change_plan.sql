-- What this model holds and who reads it: its docs block in _marts__docs.md.
with planned_changes as (
    {{ salesforce_planned_changes(
        'salesforce-accounts', 'Account', 'sync_salesforce_accounts', 'stg_salesforce__accounts',
        'account_external_id', 'dwh_external_id',
        [('account_name', 'account_name'), ('website', 'website'), ('owner_id', 'owner_id'),
         ('account_type', 'account_type')],
        label="planned.account_name", owner_reason="planned.owner_source"
    ) }}

    union all

    {{ salesforce_planned_changes(
        'salesforce-account-keys', 'Account', 'sync_salesforce_account_keys', 'stg_salesforce__accounts',
        'account_id', 'account_id', [('account_external_id', 'dwh_external_id')],
        label="planned.company_domain", has_owner=false
    ) }}

    union all

    {{ salesforce_planned_changes(
        'salesforce-contacts', 'Contact', 'sync_salesforce_contacts', 'stg_salesforce__contacts',
        'contact_external_id', 'dwh_external_id',
        [('first_name', 'first_name'), ('last_name', 'last_name'), ('email', 'email'), ('owner_id', 'owner_id'),
         ('workspace_id', 'workspace_id'), ('lead_source', 'lead_source')],
        label="planned.first_name || ' ' || planned.last_name || ' <' || planned.email || '>'"
    ) }}

    union all

    {{ salesforce_planned_changes(
        'salesforce-opportunities', 'Opportunity', 'sync_salesforce_opportunities',
        'stg_salesforce__opportunities', 'opportunity_external_id', 'dwh_external_id',
        [('opportunity_name', 'opportunity_name'), ('stage_name', 'stage_name'), ('close_date', 'close_date'),
         ('amount', 'amount'), ('owner_id', 'owner_id'), ('workspace_id', 'workspace_id')],
        label="planned.opportunity_name"
    ) }}

    union all

    {{ salesforce_planned_changes(
        'salesforce-outreach-tasks', 'Task', 'sync_salesforce_outreach_tasks', 'stg_salesforce__tasks',
        'task_external_id', 'dwh_external_id',
        [('subject', 'subject'), ('due_date', 'activity_date'), ('owner_id', 'owner_id'),
         ('task_status', 'task_status'), ('priority', 'priority')],
        label="planned.subject"
    ) }}

    union all

    select
        'lead-conversion' as sync_slug,
        'Lead' as salesforce_object,
        lead_id as record_key,
        contact_external_id as record_label,
        'convert' as change_kind,
        null::varchar as current_owner_id,
        null::varchar as planned_owner_id,
        null::varchar as owner_reason,
        'IsConverted' as changed_fields
    from {{ ref('salesforce_lead_conversions') }}
),

live_records as (
    select
        'Account' as salesforce_object,
        count(*) as object_records
    from {{ ref('stg_salesforce__accounts') }}
    where not is_deleted

    union all

    select
        'Contact' as salesforce_object,
        count(*) as object_records
    from {{ ref('stg_salesforce__contacts') }}
    where not is_deleted

    union all

    select
        'Opportunity' as salesforce_object,
        count(*) as object_records
    from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted

    union all

    select
        'Task' as salesforce_object,
        count(*) as object_records
    from {{ ref('stg_salesforce__tasks') }}
    where not is_deleted

    union all

    select
        'Lead' as salesforce_object,
        count(*) as object_records
    from {{ ref('stg_salesforce__leads') }}
    where not is_deleted
),

users as (
    select
        user_id,
        username
    from {{ ref('stg_salesforce__users') }}
)

select
    planned_changes.sync_slug,
    planned_changes.salesforce_object,
    planned_changes.record_key,
    planned_changes.record_label,
    planned_changes.change_kind,
    planned_changes.current_owner_id,
    current_owners.username as current_owner_username,
    planned_changes.planned_owner_id,
    planned_owners.username as planned_owner_username,
    planned_changes.owner_reason,
    planned_changes.changed_fields,
    coalesce(live_records.object_records, 0) as object_records
from planned_changes
left join live_records on planned_changes.salesforce_object = live_records.salesforce_object
left join users as current_owners on planned_changes.current_owner_id = current_owners.user_id
left join users as planned_owners on planned_changes.planned_owner_id = planned_owners.user_id
