"""One way for local-cloud tooling (health check, ``make sql``, the Hightouch emulator) to reach the
Snowflake stand-in: the real connector, over HTTPS, with time limits so a broken server fails fast."""

from __future__ import annotations

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
