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


def create_databases(port: int, host: str = "localhost") -> list[str]:
    """The administrator's part of the set-up the stand-in can play: the raw and analytics databases
    (include/sql/production_setup.sql, step 4). The stand-in has no roles, grants or integrations to create."""
    from include.settings import warehouse_names

    names = warehouse_names()
    databases = [names.raw_database, names.analytics_database]
    connection = connect(port, "localcloud", host=host)
    try:
        for database in databases:
            connection.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    finally:
        connection.close()
    return databases


def main(argv: list[str] | None = None) -> int:
    from dev.localcloud.settings import load_settings

    parser = argparse.ArgumentParser(description="Administrator set-up of the Snowflake stand-in.")
    parser.add_argument("--create-databases", action="store_true", required=True)
    parser.parse_args(argv)
    settings = load_settings()
    created = create_databases(settings.snowflake_port, settings.snowflake_host)
    print(f"warehouse administrator set-up: databases {', '.join(created)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
