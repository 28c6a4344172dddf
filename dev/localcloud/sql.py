"""Run one SQL statement on the local warehouse and print the rows: ``make sql Q='SELECT 1'``."""

from __future__ import annotations

import sys

import snowflake.connector.errors

from dev.localcloud.services import trust_local_ca
from dev.localcloud.settings import load_settings
from dev.localcloud.warehouse import connect
from include.settings import warehouse_names


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print("usage: make sql Q='SELECT COUNT(*) FROM RAW.CLOUD_APP.WORKSPACES'", file=sys.stderr)
        return 2
    settings = load_settings()
    trust_local_ca(settings)
    try:
        conn = connect(settings.snowflake_port, "localcloud", database=warehouse_names().raw_database, login_timeout=5)
    except snowflake.connector.errors.OperationalError as exc:
        print(
            f"cannot reach the local warehouse on port {settings.snowflake_port} (is it up? `make up`): {exc}",
            file=sys.stderr,
        )
        return 1
    with conn:
        cursor = conn.cursor().execute(argv[0])
        assert cursor is not None
        print("\t".join(c[0] for c in cursor.description))
        for row in cursor.fetchall():
            print("\t".join("" if v is None else str(v) for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
