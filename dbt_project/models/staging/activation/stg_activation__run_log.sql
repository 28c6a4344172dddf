-- One row per step of an activation run: its last try (a retried sync keeps only the try that counted).
with source as (
    select * from {{ source('activation', 'run_log') }}
),

steps as (
    select
        record:dag_id::varchar as dag_id,
        record:run_id::varchar as run_id,
        record:step::varchar as step,
        record:try_number::integer as try_number,
        record:status::varchar as status,
        {{ to_utc('record:recorded_at::timestamp_tz') }} as recorded_at,
        record:outcome:run_id::varchar as hightouch_run_id,
        record:outcome:planned_rows as planned_rows,
        record:outcome:successful_rows as successful_rows,
        record:outcome:failed_rows as failed_rows,
        record:outcome:error::varchar as error,
        record:outcome as outcome
    from source
)

select * from steps
qualify row_number() over (partition by run_id, step order by try_number desc, recorded_at desc) = 1
