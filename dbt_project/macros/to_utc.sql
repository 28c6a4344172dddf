{#
    An instant as TIMESTAMP_TZ in UTC. Snowflake keeps each TIMESTAMP_TZ value's own offset, and everything derived
    from it follows that offset: 2026-11-01T23:30:00-05:00::date is 2026-11-01, though it is 2026-11-02 in UTC.
    Staging normalises every instant it reads to UTC, so dates (due dates, close dates, days) are UTC dates
    whatever offset a source wrote. CONVERT_TIMEZONE with two arguments returns a TIMESTAMP_TZ in the target time
    zone: https://docs.snowflake.com/en/sql-reference/functions/convert_timezone
#}
{% macro to_utc(timestamp_tz) -%}
    convert_timezone('UTC', {{ timestamp_tz }})::timestamp_tz
{%- endmacro %}
