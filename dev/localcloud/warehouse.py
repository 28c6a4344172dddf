"""One way for local-cloud tooling (health check, ``make sql``, the Hightouch emulator) to reach the
Snowflake stand-in: the real connector, over HTTPS, with time limits so a broken server fails fast."""

from __future__ import annotations

import argparse
from typing import Any


def connect(
    port: int,
    user: str,
    *,
    host: str = "localhost",  # docker compose: the stand-in's service name
    login_timeout: int = 10,
    network_timeout: int = 60,
    database: str | None = None,
) -> Any:
    import snowflake.connector

    return snowflake.connector.connect(
        account="localcloud",
        user=user,
        password="localcloud",  # noqa: S106 - the stand-in accepts any credentials
        host=host,
        port=port,
        database=database,  # fakesnow's helper macros (e.g. for ::TIMESTAMP casts) live per database
        login_timeout=login_timeout,
        network_timeout=network_timeout,
        session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
    )


def administrator_set_up(port: int, bucket: str, host: str = "localhost") -> list[str]:
    """The administrator's part of the set-up the stand-in can play (include/sql/production_setup.sql): the storage
    integration the landing stage reads through (step 3) and the raw and analytics databases (step 4). The
    stand-in has no roles, warehouses, users or grants to create. Returns what it made sure exists."""
    from dev.localcloud.settings import STORAGE_AWS_ROLE_ARN, STORAGE_INTEGRATION
    from include.settings import warehouse_names

    names = warehouse_names()
    statements = {
        f"storage integration {STORAGE_INTEGRATION}": (
            f"CREATE STORAGE INTEGRATION IF NOT EXISTS {STORAGE_INTEGRATION} TYPE = EXTERNAL_STAGE"
            f" STORAGE_PROVIDER = 'S3' ENABLED = TRUE STORAGE_AWS_ROLE_ARN = '{STORAGE_AWS_ROLE_ARN}'"
            f" STORAGE_ALLOWED_LOCATIONS = ('s3://{bucket}/')"
        ),
        **{
            f"database {name}": f"CREATE DATABASE IF NOT EXISTS {name}"
            for name in (names.raw_database, names.analytics_database)
        },
    }
    connection = connect(port, "localcloud", host=host)
    try:
        for statement in statements.values():
            connection.cursor().execute(statement)
    finally:
        connection.close()
    return list(statements)


def main(argv: list[str] | None = None) -> int:
    from dev.localcloud.settings import load_settings

    parser = argparse.ArgumentParser(description="Administrator set-up of the Snowflake stand-in.")
    parser.add_argument("--administrator-set-up", action="store_true", required=True)
    parser.parse_args(argv)
    settings = load_settings()
    made = administrator_set_up(settings.snowflake_port, settings.bucket, settings.snowflake_host)
    print(f"warehouse administrator set-up: {', '.join(made)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
