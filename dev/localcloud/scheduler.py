"""The local cloud's scheduler: Airflow's own, started after the task code's heaviest imports.

LocalExecutor workers are forked from the scheduler, and each task is forked from a worker (Linux), so what is
imported here is already loaded in every task process: a Cosmos task skips importing dbt, its Snowflake adapter
and Cosmos (several seconds each time, for a second of dbt work), as gunicorn's ``--preload`` does for web
workers. Only the local cloud starts the scheduler this way; production executors are untouched.

    python -m dev.localcloud.scheduler [airflow scheduler options]
"""

from __future__ import annotations

import importlib
import sys

# What the pipeline's tasks import; all of it is installed with the project (requirements.txt).
PRELOAD = (
    "cosmos",
    "cosmos.operators.local",
    "dbt.cli.main",
    "dbt.adapters.snowflake",
    "snowflake.connector",
    "airflow.providers.snowflake.hooks.snowflake",
    "airflow.providers.amazon.aws.hooks.s3",
    "airflow.providers.salesforce.hooks.salesforce",
    "airflow_provider_hightouch.hooks.hightouch",
)


def main() -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "scheduler", *sys.argv[1:]]
    airflow_main()


if __name__ == "__main__":
    main()
