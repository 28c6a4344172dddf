{#
    The external id (Dwh_External_Id__c) of a record this pipeline writes to Salesforce: a prefix per object and
    the md5 of the record's business key, so every run upserts the same record instead of creating another, and
    the rest of the pipeline tells its own records from those sales typed in. An existing account this pipeline
    keys (sync salesforce-account-keys) carries 'acct-sf-' and its Salesforce Id instead (dwh_keyed_account_id).
    Every model builds and recognises these ids through these macros only.
#}
{% macro dwh_external_id_prefix(salesforce_object) -%}
    {%- set prefixes = {"Account": "acct-", "Contact": "cont-", "Opportunity": "opp-", "Task": "task-"} -%}
    {%- if salesforce_object not in prefixes -%}
        {{ exceptions.raise_compiler_error(
            "dwh_external_id: no external id prefix for the Salesforce object '" ~ salesforce_object
            ~ "' (known: " ~ (prefixes.keys() | join(", ")) ~ "); add one in macros/dwh_external_id.sql"
        ) }}
    {%- endif -%}
    {{ prefixes[salesforce_object] }}
{%- endmacro %}

{% macro dwh_external_id(salesforce_object, business_key) -%}
    '{{ dwh_external_id_prefix(salesforce_object) }}' || md5({{ business_key }})
{%- endmacro %}

{% macro dwh_keyed_account_id(account_id) -%}
    '{{ dwh_external_id_prefix("Account") }}sf-' || {{ account_id }}
{%- endmacro %}
