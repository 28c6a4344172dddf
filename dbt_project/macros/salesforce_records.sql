{#
    Every record of one mirrored object the warehouse holds: the mirrored versions and the tombstones of records
    Salesforce no longer has (the reconcile_salesforce_deletions DAG: purged from the recycle bin or hard-deleted,
    which queryAll never shows). A tombstone is a version with IsDeleted = true, stamped when the absence was seen,
    so latest_salesforce_version treats the record as deleted from then on, as it treats one in the recycle bin.
#}
{% macro salesforce_records(table_name, object_name) %}
    select record from {{ source('salesforce', table_name) }}
    union all
    select record from {{ source('salesforce', 'reconciled_deletions') }}
    where record:object::varchar = '{{ object_name }}'
{% endmacro %}
