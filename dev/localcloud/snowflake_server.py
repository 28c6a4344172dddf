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
import re
from pathlib import Path
from typing import Any

import duckdb
import fakesnow.server
import snowflake.connector.errors
import sqlglot
from fakesnow import info_schema, macros
from fakesnow import transforms as fakesnow_transforms
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.instance import GLOBAL_DATABASE_NAME, FakeSnow
from fakesnow.transforms import show
from sqlglot import exp

from dev.localcloud.certs import SERVER_CERT, ensure_certificates
from dev.localcloud.serve import serve
from dev.localcloud.snowflake_storage import ExternalStages

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

_LEADING_COMMENTS = r"(?:\s|--[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)*"


# CREATE [OR REPLACE] TEMPORARY TABLE|VIEW db.schema.name: Snowflake keeps the object in that schema for the
# session; DuckDB only has temporary objects in its own "temp" catalogue and refuses the qualified name.
_QUALIFIED_TEMPORARY = re.compile(
    r"^(" + _LEADING_COMMENTS + r"create\s+(?:or\s+replace\s+)?)"
    r"(?:local\s+|global\s+)?temp(?:orary)?\s+"
    r"((?:table|view)\s+[^\s(]+\.[^\s(]+)",
    re.IGNORECASE | re.DOTALL,
)


def _qualify_merge_insert_values(sql: str) -> str:
    """MERGE ... WHEN NOT MATCHED THEN INSERT (c) VALUES (c): Snowflake reads an unqualified VALUES column from the
    source row (there is no target row), as dbt-snowflake's merge relies on; fakesnow's MERGE rewrite finds it
    ambiguous. Qualify such columns with the source's alias."""
    merge = sqlglot.parse_one(sql, read="snowflake")
    source = merge.args.get("using")
    whens = merge.args.get("whens")
    if not isinstance(merge, exp.Merge) or source is None or whens is None:
        return sql
    changed = False
    for when in whens.expressions:
        insert = when.args.get("then")
        values = insert.expression if isinstance(insert, exp.Insert) else None
        for column in values.find_all(exp.Column) if values is not None else ():
            if not column.table:
                column.set("table", exp.to_identifier(source.alias_or_name))
                changed = True
    return merge.sql(dialect="snowflake") if changed else sql


def _is_merge(sql: str) -> bool:
    return re.match(_LEADING_COMMENTS + r"merge\s", sql, re.IGNORECASE | re.DOTALL) is not None


def _is_begin(sql: str) -> bool:
    pattern = _LEADING_COMMENTS + r"begin(?:\s+(?:work|transaction))?\s*(?:;|/\*|--|$)"
    return re.match(pattern, sql, re.IGNORECASE | re.DOTALL) is not None


def rewrite_for_duckdb(sql: str) -> str:
    """What production sends, rewritten where the stand-in cannot run it as written (dev/README.md lists each)."""
    if _is_merge(sql):
        return _qualify_merge_insert_values(sql)
    return _QUALIFIED_TEMPORARY.sub(r"\1\2", sql, count=1)


def _close_empty_transaction_before_merge(cursor: FakeSnowflakeCursor, sql: str) -> None:
    """dbt-snowflake wraps each MERGE in BEGIN ... COMMIT. fakesnow runs a MERGE as several DuckDB statements through
    a temporary table, which DuckDB cannot write in a transaction that already holds another database. A
    transaction opened just before the MERGE holds nothing yet: end it, so the MERGE runs as its own
    transaction, and the COMMIT that follows finds none (fakesnow, like Snowflake, accepts that)."""
    connection = cursor._conn
    if _is_merge(sql) and getattr(connection, "_last_statement_was_begin", False):
        with contextlib.suppress(duckdb.TransactionException):  # none open: nothing to end
            cursor._duck_conn.commit()
        connection._in_transaction = False
    connection._last_statement_was_begin = _is_begin(sql)


def trim_keeping_its_characters(expression: exp.Expression) -> exp.Expression:
    """fakesnow's ``trim_cast_varchar`` (Snowflake casts TRIM's input to VARCHAR) rebuilds the TRIM from its input
    alone, dropping the characters to trim and the side: ``RTRIM(x, ', ')`` ran as a trim of spaces. Cast the
    input the same way and keep everything else."""
    if not isinstance(expression, exp.Trim):
        return expression
    operand = expression.this
    if isinstance(operand, exp.Cast) and operand.to.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
        return expression
    trimmed = expression.copy()
    trimmed.set("this", exp.Cast(this=operand, to=exp.DataType(this=exp.DataType.Type.VARCHAR)))
    return trimmed


# The S3 stand-in's directory behind s3:// stages (set by main()).
external_stages: ExternalStages | None = None


def _execute_failing_like_snowflake(self: FakeSnowflakeCursor, *args: Any, **kwargs: Any) -> Any:
    """Turn engine errors fakesnow does not translate into Snowflake SQL errors.

    Unpatched, they become HTTP 500 and the connector retries for minutes; Snowflake itself answers at
    once with an error code (e.g. 100069 for a JSON file COPY cannot parse), and that is what clients
    and tests must see. The session's aborted transaction is rolled back so the session stays usable.
    """
    sent = args[0] if args and isinstance(args[0], str) else None
    if sent is not None:
        _close_empty_transaction_before_merge(self, sent)
        database, schema = self._conn.database, self._conn.schema
        instead = external_stages.rewrite(sent, database, schema) if external_stages else None
        args = (instead if instead is not None else rewrite_for_duckdb(sent), *args[1:])
    try:
        result = _fakesnow_execute(self, *args, **kwargs)
        if sent is not None and external_stages is not None:
            external_stages.after(sent, self._conn.database, self._conn.schema)
        return result
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
    parser.add_argument(
        "--s3-dir", type=Path, required=True, help="the S3 stand-in's directory, what s3:// stages read"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    args.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_certificates(args.cert_dir)
    instance = PersistentFakeSnow(args.data_dir.resolve())
    global external_stages  # the patched cursor method reads it
    external_stages = ExternalStages(instance.duck_conn, args.s3_dir.resolve())
    external_stages.patch_copy()
    FakeSnowflakeCursor.execute = _execute_failing_like_snowflake  # type: ignore[method-assign]
    fakesnow_transforms.trim_cast_varchar = trim_keeping_its_characters  # the cursor looks it up per statement
    fakesnow.server.shared_fs = instance  # login_request reads this module global per session
    try:
        serve(fakesnow.server.app, args.host, args.port, args.cert_dir / SERVER_CERT)
    finally:
        instance.close()
        log.info("snowflake stand-in stopped; data checkpointed in %s", args.data_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
