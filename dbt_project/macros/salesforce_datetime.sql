{#
    Salesforce returns datetimes as 2026-11-25T16:42:10.000+0000: milliseconds and an offset with no colon.
    A plain ::timestamp_tz leaves the parsing to the session's TIMESTAMP_INPUT_FORMAT (AUTO by default), whose
    documented formats write the offset as TZH:TZM; so the Salesforce format is spelled out: "T" between date
    and time, FF3 for the milliseconds, TZHTZM for the offset's hours and minutes without a separator. See
    https://docs.snowflake.com/en/sql-reference/date-time-input-output (Date and time formats) and
    https://docs.snowflake.com/en/sql-reference/functions/to_timestamp
    The one parser of Salesforce datetimes: every Salesforce staging model and the source's freshness use it. The
    result is in UTC (to_utc), like every instant staging reads.
#}
{% macro salesforce_datetime_format() -%}
    YYYY-MM-DD"T"HH24:MI:SS.FF3TZHTZM
{%- endmacro %}

{% macro salesforce_datetime(value) -%}
    {{ to_utc("to_timestamp_tz(" ~ value ~ "::varchar, '" ~ salesforce_datetime_format() ~ "')") }}
{%- endmacro %}
