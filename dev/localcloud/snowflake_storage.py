"""External stages on the Snowflake stand-in: ``s3://`` stages with a storage integration, over the S3 stand-in's
directory.

Production's bootstrap creates ``CREATE STAGE ... URL = 's3://<bucket>/' STORAGE_INTEGRATION = S3_LANDING``, the
preflight reads the stage (``SHOW STAGES``), its integration (``DESC INTEGRATION``) and lists it (``LIST``), and
the loaders ``COPY INTO`` from it. fakesnow stores such a stage but would read ``s3://`` through DuckDB's httpfs
extension (downloaded at run time: not offline) and knows no storage integrations. So the launcher gives it
what Snowflake has, with the S3 stand-in's directory (rclone serves each top-level folder as a bucket) as the
storage the integration's IAM role would reach:

- ``CREATE STORAGE INTEGRATION`` (the administrator's step) is kept in a table of the global catalogue;
  ``DESC INTEGRATION`` answers ``property, property_type, property_value, property_default`` rows from it
  (https://docs.snowflake.com/en/sql-reference/sql/desc-integration), an unknown one error 002003.
- ``CREATE STAGE ... STORAGE_INTEGRATION = X`` needs X to exist (else error 002003, as Snowflake); the stage's
  ``storage_integration`` column of ``SHOW STAGES`` names it.
- ``COPY INTO`` and ``LIST`` from an ``s3://bucket/path`` stage read ``<s3 dir>/bucket/path``; ``LIST`` names files
  by their ``s3://`` URL, as Snowflake lists an external stage (https://docs.snowflake.com/en/sql-reference/sql/list).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import fakesnow.copy_into
import snowflake.connector.errors
from fakesnow.transforms.stage import parts_from_var

INTEGRATIONS_TABLE = "_fs_global.main.localcloud_storage_integrations"
# fakesnow's stage catalogue, and a stage by the (database, schema, name) fakesnow's parts_from_var resolves.
_STAGES = "_fs_global._fs_information_schema._fs_stages"
_STAGE_IS = "database_name = ? AND schema_name = ? AND name = ?"
_COMMENTS = r"(?:\s|--[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)*"
_CREATE_INTEGRATION = re.compile(
    _COMMENTS + r"create\s+(?P<replace>or\s+replace\s+)?storage\s+integration\s+(?P<exists>if\s+not\s+exists\s+)?"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_$]*)(?P<body>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_DESC_INTEGRATION = re.compile(
    _COMMENTS + r"desc(?:ribe)?\s+(?:storage\s+)?integration\s+(?P<name>[A-Za-z_][A-Za-z0-9_$]*)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_STAGE_INTEGRATION = re.compile(r"\bstorage_integration\s*=\s*(?P<name>[A-Za-z_][A-Za-z0-9_$]*)", re.IGNORECASE)
_CREATE_STAGE = re.compile(
    _COMMENTS + r"create\s+(?:or\s+replace\s+)?stage\s+(?:if\s+not\s+exists\s+)?(?P<name>[A-Za-z0-9_$.\"]+)",
    re.IGNORECASE | re.DOTALL,
)
_LIST = re.compile(_COMMENTS + r"(?:list|ls)\s+@(?P<stage>[A-Za-z0-9_$.\"]+)(?P<path>/[^\s;]*)?\s*;?\s*$", re.I)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _property(body: str, name: str) -> str | None:
    match = re.search(rf"\b{name}\s*=\s*(\([^)]*\)|'[^']*'|[A-Za-z0-9_]+)", body, re.IGNORECASE)
    if match is None:
        return None
    value = match.group(1).strip()
    if value.startswith("("):
        return ",".join(item.strip().strip("'") for item in value[1:-1].split(",") if item.strip())
    return value.strip("'")


def _error(message: str, errno: int = 2003, sqlstate: str = "02000") -> snowflake.connector.errors.ProgrammingError:
    text = f"SQL compilation error:\n{message}"
    return snowflake.connector.errors.ProgrammingError(msg=text, errno=errno, sqlstate=sqlstate)


def _stage_key(name: str, database: str | None, schema: str | None) -> tuple[str, str, str] | None:
    """(database, schema, name) as fakesnow resolves a stage name; None when the session names no database or
    schema for a name that needs them (fakesnow then answers the statement itself)."""
    try:
        return parts_from_var(name, database, schema)
    except (AssertionError, ValueError):
        return None


class ExternalStages:
    """The launcher's storage integrations and its mapping of ``s3://`` to the S3 stand-in's directory."""

    def __init__(self, duck_conn: duckdb.DuckDBPyConnection, s3_dir: Path) -> None:
        self.duck_conn = duck_conn
        self.s3_dir = s3_dir
        duck_conn.execute(
            f"CREATE TABLE IF NOT EXISTS {INTEGRATIONS_TABLE} (name VARCHAR PRIMARY KEY, provider VARCHAR,"
            " enabled BOOLEAN, role_arn VARCHAR, allowed VARCHAR, blocked VARCHAR)"
        )

    # --- storage -------------------------------------------------------------------------------------------------

    def local_url(self, url: str) -> str:
        """``s3://bucket/key`` as the ``file://`` URL of the S3 stand-in's object; other URLs unchanged."""
        parsed = urlparse(url)
        if parsed.scheme.lower() != "s3":
            return url
        path = (self.s3_dir / parsed.netloc / parsed.path.lstrip("/")).resolve()
        return path.as_uri() + ("/" if url.endswith("/") else "")

    def s3_url(self, url: str) -> str:
        """The inverse of ``local_url``: a file of the S3 stand-in's directory as its ``s3://`` URL."""
        for root in (self.s3_dir.as_uri() + "/", str(self.s3_dir) + "/"):  # DuckDB's glob answers plain paths
            if url.startswith(root):
                return "s3://" + url[len(root) :]
        return url

    def patch_copy(self) -> None:
        """COPY INTO reads an ``s3://`` stage from the S3 stand-in's directory, and names each file in its result by
        its ``s3://`` URL, as Snowflake does."""
        stage_url_from_var: Callable[..., str] = fakesnow.copy_into.stage_url_from_var
        result_file_name: Callable[[str], str] = fakesnow.copy_into._result_file_name

        def local_stage_url(*args: Any, **kwargs: Any) -> str:
            return self.local_url(stage_url_from_var(*args, **kwargs))

        def s3_file_name(url: str) -> str:
            return self.s3_url(result_file_name(url))

        fakesnow.copy_into.stage_url_from_var = local_stage_url
        fakesnow.copy_into._result_file_name = s3_file_name

    # --- statements ----------------------------------------------------------------------------------------------

    def _integration(self, name: str) -> tuple[Any, ...] | None:
        with self.duck_conn.cursor() as cursor:
            return cursor.execute(
                f"SELECT provider, enabled, role_arn, allowed, blocked FROM {INTEGRATIONS_TABLE} WHERE name = ?",
                [name.upper()],
            ).fetchone()

    def _stage_url(self, stage: tuple[str, str, str]) -> str | None:
        with self.duck_conn.cursor() as cursor:
            row = cursor.execute(f"SELECT url FROM {_STAGES} WHERE {_STAGE_IS}", list(stage)).fetchone()
        return row[0] if row else None

    def rewrite(self, sql: str, database: str | None, schema: str | None) -> str | None:
        """The statement to run instead of ``sql`` (doing its effect here), or None when it is not one of these."""
        if match := _CREATE_INTEGRATION.match(sql):
            return self._create_integration(match)
        if match := _DESC_INTEGRATION.match(sql):
            return self._describe_integration(match.group("name"))
        if match := _LIST.match(sql):
            stage = _stage_key(match.group("stage"), database, schema)
            url = self._stage_url(stage) if stage else None
            if url is not None and urlparse(url).scheme.lower() == "s3":
                return self._list(url, (match.group("path") or "/").lstrip("/"))
        integration = _STAGE_INTEGRATION.search(sql) if _CREATE_STAGE.match(sql) else None
        if integration is not None and self._integration(integration.group("name")) is None:
            raise _error(f"Integration '{integration.group('name').upper()}' does not exist or not authorized.")
        return None

    def after(self, sql: str, database: str | None, schema: str | None) -> None:
        """Record what fakesnow leaves out of a statement it ran: a stage's storage integration."""
        stage = _CREATE_STAGE.match(sql)
        integration = _STAGE_INTEGRATION.search(sql) if stage else None
        if stage is None or integration is None:
            return
        key = _stage_key(stage.group("name"), database, schema)
        if key is None:
            return
        with self.duck_conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_STAGES} SET storage_integration = ? WHERE {_STAGE_IS}",
                [integration.group("name").upper(), *key],
            )

    def _create_integration(self, match: re.Match[str]) -> str:
        name, body = match.group("name").upper(), match.group("body")
        exists = self._integration(name) is not None
        if exists and match.group("exists"):
            return f"SELECT {_literal(f'{name} already exists, statement succeeded.')} AS status"
        if exists and not match.group("replace"):
            raise _error(f"Object '{name}' already exists.", errno=2002, sqlstate="42710")
        values = [
            name,
            (_property(body, "STORAGE_PROVIDER") or "").upper(),
            (_property(body, "ENABLED") or "false").lower() == "true",
            _property(body, "STORAGE_AWS_ROLE_ARN") or "",
            _property(body, "STORAGE_ALLOWED_LOCATIONS") or "",
            _property(body, "STORAGE_BLOCKED_LOCATIONS") or "",
        ]
        with self.duck_conn.cursor() as cursor:
            cursor.execute(f"INSERT OR REPLACE INTO {INTEGRATIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?)", values)
        return f"SELECT {_literal(f'Integration {name} successfully created.')} AS status"

    def _describe_integration(self, name: str) -> str:
        row = self._integration(name)
        if row is None:
            raise _error(f"Integration '{name.upper()}' does not exist or not authorized.")
        provider, enabled, role_arn, allowed, blocked = row
        properties = [
            ("ENABLED", "Boolean", "true" if enabled else "false", "false"),
            ("STORAGE_PROVIDER", "String", provider, ""),
            ("STORAGE_ALLOWED_LOCATIONS", "List", allowed, "[]"),
            ("STORAGE_BLOCKED_LOCATIONS", "List", blocked, "[]"),
            ("STORAGE_AWS_ROLE_ARN", "String", role_arn, ""),
        ]
        rows = " UNION ALL ".join(f"SELECT {', '.join(_literal(str(v)) for v in row)}" for row in properties)
        return f'SELECT * FROM ({rows}) AS t("property", "property_type", "property_value", "property_default")'

    def _list(self, url: str, path: str) -> str:
        """LIST of an external stage: each object under the stage's URL and the given path, by its URL."""
        base = url if url.endswith("/") else url + "/"
        root = Path(urlparse(self.local_url(base)).path)
        prefix = base + path
        rows = []
        if root.is_dir():
            for file in sorted(p for p in root.rglob("*") if p.is_file()):
                name = base + file.relative_to(root).as_posix()
                if not name.startswith(prefix):
                    continue
                stat = file.stat()
                modified = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
                digest = hashlib.md5(file.read_bytes()).hexdigest()  # noqa: S324 - S3's ETag, not security
                rows.append(f"SELECT {_literal(name)}, {stat.st_size}, {_literal(digest)}, {_literal(modified)}")
        if not rows:
            return (
                'SELECT NULL::VARCHAR AS "name", NULL::BIGINT AS "size", NULL::VARCHAR AS "md5",'
                ' NULL::VARCHAR AS "last_modified" WHERE FALSE'
            )
        return f'SELECT * FROM ({" UNION ALL ".join(rows)}) AS t("name", "size", "md5", "last_modified")'
