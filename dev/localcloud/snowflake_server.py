"""fakesnow's Snowflake-wire server, made persistent and served over HTTPS.

fakesnow ignores ``--db_path`` in server mode and keeps everything in memory. This launcher gives the
server's shared instance a database directory, re-attaches the database files found there on start
(including fakesnow's global catalogue, so stages and column metadata survive too), and serves over
TLS so the unmodified SnowflakeHook and dbt connect with host/port like to real Snowflake.

Run: ``python -m dev.localcloud.snowflake_server --port 8443 --data-dir .local/snowflake --cert-dir .local/certs``
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path
from typing import Any

import duckdb
import fakesnow.server
import snowflake.connector.errors
from fakesnow import info_schema, macros
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.instance import GLOBAL_DATABASE_NAME, FakeSnow
from fakesnow.transforms import show

from dev.localcloud.certs import SERVER_CERT, ensure_certificates
from dev.localcloud.serve import serve

log = logging.getLogger("localcloud.snowflake")


class PersistentFakeSnow(FakeSnow):
    """A FakeSnow whose databases, global catalogue and load history live in files under ``db_path``."""

    def __init__(self, db_path: Path) -> None:
        self.create_database_on_connect = True
        self.create_schema_on_connect = True
        self.db_path = db_path
        self.nop_regexes = None
        self.results_cache: dict[str, tuple] = {}
        self.duck_conn = duckdb.connect(database=":memory:", config={"lambda_syntax": "ENABLE_SINGLE_ARROW"})
        global_file = db_path / f"{GLOBAL_DATABASE_NAME}.db"
        self.duck_conn.execute(f"ATTACH IF NOT EXISTS '{global_file}' AS {GLOBAL_DATABASE_NAME}")
        self.duck_conn.execute(info_schema.fs_global_creation_sql())
        self.duck_conn.execute(show.fs_global_creation_sql())
        self.duck_conn.execute("SET GLOBAL TimeZone = 'UTC'")
        for db_file in sorted(db_path.glob("*.db")):
            name = db_file.stem
            if name == GLOBAL_DATABASE_NAME:
                continue
            self.duck_conn.execute(f"ATTACH IF NOT EXISTS '{db_file}' AS {name}")
            self.duck_conn.execute(info_schema.per_db_creation_sql(name))
            self.duck_conn.execute(macros.creation_sql(name))
            log.info("re-attached database %s", name)

    def close(self) -> None:
        # Flush the write-ahead log into the database files so a restart opens clean files.
        self.duck_conn.execute("CHECKPOINT")
        for (name,) in self.duck_conn.execute(
            "SELECT database_name FROM duckdb_databases() WHERE NOT internal"
        ).fetchall():
            if name != "memory":
                self.duck_conn.execute(f"CHECKPOINT {name}")
        self.duck_conn.close()


_fakesnow_execute = FakeSnowflakeCursor.execute


def _execute_failing_like_snowflake(self: FakeSnowflakeCursor, *args: Any, **kwargs: Any) -> Any:
    """Turn engine errors fakesnow does not translate into Snowflake SQL errors.

    Unpatched, they become HTTP 500 and the connector retries for minutes; Snowflake itself answers at
    once with an error code (e.g. 100069 for a JSON file COPY cannot parse), and that is what clients
    and tests must see. The session's aborted transaction is rolled back so the session stays usable.
    """
    try:
        return _fakesnow_execute(self, *args, **kwargs)
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):
            self._duck_conn.execute("ROLLBACK")
        message = str(exc).splitlines()[0]
        raise snowflake.connector.errors.ProgrammingError(msg=message, errno=100069, sqlstate="22000") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--cert-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    args.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_certificates(args.cert_dir)
    instance = PersistentFakeSnow(args.data_dir.resolve())
    FakeSnowflakeCursor.execute = _execute_failing_like_snowflake  # type: ignore[method-assign]
    fakesnow.server.shared_fs = instance  # login_request reads this module global per session
    try:
        serve(fakesnow.server.app, args.host, args.port, args.cert_dir / SERVER_CERT)
    finally:
        instance.close()
        log.info("snowflake stand-in stopped; data checkpointed in %s", args.data_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
