"""Snowflake: the role, warehouse, databases, schemas, file format, stage and storage integration the pipeline
uses, and the Hightouch role's access to the marts, all seen through the pipeline's own connection.

The checks follow what the configured deployment uses, so each is a real check in production and passes on the
local cloud's stand-in, which has no roles, grants or warehouses (its storage integration and s3:// stage are
the administrator's set-up and the bootstrap, as in production):

- Role and warehouse: ``USE ROLE`` / ``USE WAREHOUSE`` with the connection's own ``role`` and ``warehouse``.
  Snowflake refuses them unless the role is granted to the user and the role may use the warehouse
  (https://docs.snowflake.com/en/sql-reference/sql/use-role, https://docs.snowflake.com/en/sql-reference/sql/use-warehouse);
  without them a session silently runs without a warehouse. The stand-in accepts both.
- Databases, schemas and raw tables: exactly those the pipeline's bootstrap creates
  (``include/sql/bootstrap_warehouse.sql``), looked up with ``SHOW DATABASES`` / ``SHOW SCHEMAS`` /
  ``SHOW TABLES`` (https://docs.snowflake.com/en/sql-reference/sql/show-databases,
  https://docs.snowflake.com/en/sql-reference/sql/show-schemas, https://docs.snowflake.com/en/sql-reference/sql/show-tables),
  which list only what the session's role may see. Names are compared without regard to case, as unquoted
  identifiers resolve; ``LIKE`` only narrows the listing.
- File format and stage: ``SHOW FILE FORMATS`` (``type``, ``format_options``) and ``SHOW STAGES`` (``url``,
  ``storage_integration``, ``has_credentials``) in the landing schema
  (https://docs.snowflake.com/en/sql-reference/sql/show-file-formats, https://docs.snowflake.com/en/sql-reference/sql/show-stages).
- Storage integration: the one the stage names, with ``DESC INTEGRATION`` (``ENABLED``, ``STORAGE_PROVIDER``,
  ``STORAGE_ALLOWED_LOCATIONS``, ``STORAGE_BLOCKED_LOCATIONS``, ``STORAGE_AWS_ROLE_ARN``;
  https://docs.snowflake.com/en/sql-reference/sql/desc-integration); the stage's URL must lie within the allowed
  locations (https://docs.snowflake.com/en/sql-reference/sql/create-storage-integration). Then ``LIST`` on the
  stage's ``preflight/`` path (https://docs.snowflake.com/en/sql-reference/sql/list): Snowflake assumes the IAM
  role and lists the bucket, which is what fails when the role's trust policy or permissions are wrong.
- Hightouch's access: the grants ``include/sql/production_setup.sql`` (step 5) gives the Hightouch role
  (``SNOWFLAKE_HIGHTOUCH_ROLE``, default ``REVERSE_ETL``), read with ``SHOW GRANTS ON DATABASE | SCHEMA | TABLE``
  and ``SHOW FUTURE GRANTS IN SCHEMA`` (https://docs.snowflake.com/en/sql-reference/sql/show-grants): the pipeline's
  role owns the analytics database, the marts schema and the mart tables, so it sees every grant on them. dbt
  re-creates the marts on every run, so the future grant is what keeps Hightouch's access. An empty
  ``SNOWFLAKE_HIGHTOUCH_ROLE`` names no role (the local cloud's: its warehouse has no roles): not checked, and
  the line says so. Hightouch's own user and warehouse cannot be seen from the pipeline's role; Hightouch's
  source test checks them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

from include.preflight.checks import Check, connection_failed, error_text, failed, passed, skipped
from include.settings import WarehouseNames

SERVICE = "Snowflake"
DEFAULT_HIGHTOUCH_ROLE = "REVERSE_ETL"  # include/sql/production_setup.sql
LIST_PATH = "preflight/"
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_CREATE = re.compile(r"CREATE\s+(DATABASE|SCHEMA|TABLE)\s+IF\s+NOT\s+EXISTS\s+([A-Za-z0-9_$.]+)", re.IGNORECASE)
Rows = list[dict[str, Any]]


class Session(Protocol):
    def rows(self, sql: str) -> Rows:
        """Run one statement; its rows as dicts with lower-case column names. Raises on a Snowflake error."""
        ...


def hightouch_role() -> str | None:
    """The role Hightouch's Snowflake source uses (``SNOWFLAKE_HIGHTOUCH_ROLE``); None when set empty."""
    return os.environ.get("SNOWFLAKE_HIGHTOUCH_ROLE", DEFAULT_HIGHTOUCH_ROLE).strip() or None


def ident(name: str) -> str:
    """An identifier as SQL: plain ones as written (they resolve case-insensitively), others double-quoted."""
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def same(a: Any, b: Any) -> bool:
    return str(a or "").upper() == str(b or "").upper()


@dataclass(frozen=True)
class Target:
    """What the configured deployment uses: the connection's user, role and warehouse, and the settings."""

    conn_id: str
    user: str | None
    role: str | None
    warehouse: str | None
    names: WarehouseNames
    bucket: str
    hightouch_role: str | None
    marts: tuple[str, ...]  # DATABASE.SCHEMA.TABLE of every model syncs.yaml reads


@dataclass(frozen=True)
class Expected:
    """The databases an administrator creates, and the schemas and tables the bootstrap creates (upper case)."""

    databases: tuple[str, ...]
    schemas: tuple[str, ...]  # DATABASE.SCHEMA
    tables: tuple[str, ...]  # DATABASE.SCHEMA.TABLE


def bootstrap_objects(names: WarehouseNames) -> Expected:
    """The two databases (an administrator's, include/sql/production_setup.sql) and every schema and table
    ``include/sql/bootstrap_warehouse.sql`` creates in them, for these names."""
    from include.warehouse.bootstrap import render_bootstrap_sql

    found: dict[str, list[str]] = {"DATABASE": [], "SCHEMA": [], "TABLE": []}
    for kind, name in _CREATE.findall(render_bootstrap_sql("s3://placeholder/", None, names)):
        found[kind.upper()].append(name.upper())
    databases = (names.raw_database.upper(), names.analytics_database.upper())
    return Expected(databases, tuple(found["SCHEMA"]), tuple(found["TABLE"]))


def admin_setup_fix() -> str:
    return (
        "an administrator creates the databases and gives them to the pipeline's role, once:"
        " include/sql/production_setup.sql, step 4 (docs/deploy-to-astro.md); the pipeline's bootstrap does not"
        " create databases (that needs the account-level CREATE DATABASE privilege)"
    )


def bootstrap_fix(target: Target) -> str:
    return (
        "run the pipeline's bootstrap through this connection: python -m include.warehouse.bootstrap"
        f" --stage-url s3://{target.bucket}/ --storage-integration S3_LANDING (docs/deploy-to-astro.md)"
    )


# --- pure checks over SHOW / DESC results -------------------------------------------------------------------------


def named(rows: Iterable[Mapping[str, Any]], name: str, **columns: str) -> Mapping[str, Any] | None:
    """The row whose ``name`` (and each given column) matches, case-insensitively."""
    for row in rows:
        if same(row.get("name"), name) and all(same(row.get(k), v) for k, v in columns.items()):
            return row
    return None


def check_missing(name: str, wanted: Sequence[str], present: Iterable[str], what: str, fix: str) -> Check:
    have = {p.upper() for p in present}
    missing = [w for w in wanted if w.upper() not in have]
    if missing:
        return failed(SERVICE, name, f"missing: {', '.join(missing)}", fix)
    return passed(SERVICE, name, f"{', '.join(wanted)} {what}")


def check_file_format(rows: Rows, names: WarehouseNames, fix: str) -> Check:
    name = f"file format {names.file_format_fqn}"
    row = named(rows, names.file_format)
    if row is None:
        return failed(SERVICE, name, "does not exist (or the connection's role cannot see it)", fix)
    kind = str(row.get("type") or "").upper()
    options = str(row.get("format_options") or "")
    compression = re.search(r'"COMPRESSION"\s*:\s*"([A-Z_]+)"', options.upper())
    if kind != "JSON" or (compression and compression.group(1) not in {"GZIP", "AUTO"}):
        found = f"{kind}" + (f", compression {compression.group(1)}" if compression else "")
        return failed(SERVICE, name, f"is {found}; the landed files are gzip NDJSON", f"{fix} (it creates TYPE = JSON)")
    return passed(SERVICE, name, "JSON" + (f", compression {compression.group(1)}" if compression else ""))


@dataclass(frozen=True)
class Stage:
    url: str
    scheme: str
    integration: str | None
    has_credentials: bool


def stage_url(row: Mapping[str, Any]) -> str:
    """The stage's URL (SHOW STAGES shows one URL; some accounts print it as a one-element JSON list)."""
    return str(row.get("url") or "").strip().strip("[]").strip().strip('"')


def check_stage(rows: Rows, target: Target, fix: str) -> tuple[Check, Stage | None]:
    names = target.names
    name = f"stage {names.stage_fqn}"
    row = named(rows, names.stage)
    if row is None:
        return failed(SERVICE, name, "does not exist (or the connection's role cannot see it)", fix), None
    url = stage_url(row)
    parsed = urlparse(url)
    stage = Stage(
        url=url,
        scheme=parsed.scheme.lower(),
        integration=str(row.get("storage_integration") or "").strip() or None,
        has_credentials=same(row.get("has_credentials"), "Y") or row.get("has_credentials") is True,
    )
    if stage.scheme != "s3":
        return failed(SERVICE, name, f"reads {url}, but the pipeline lands files in S3", fix), stage
    if parsed.netloc.lower() != target.bucket.lower():
        detail = f"reads {url}, but the pipeline lands files in s3://{target.bucket}/ (LANDING_BUCKET)"
        return failed(SERVICE, name, detail, fix), stage
    if not stage.integration and not stage.has_credentials:
        return failed(SERVICE, name, f"reads {url} with neither a storage integration nor credentials", fix), stage
    via = f"storage integration {stage.integration}" if stage.integration else "the stage's own credentials"
    return passed(SERVICE, name, f"reads {url} through {via}"), stage


def allowed(url: str, locations: str) -> bool:
    """Does a comma-separated location list (``s3://bucket/path/``, or ``*``) cover ``url``?"""
    items = [item.strip().strip("'\"") for item in locations.split(",") if item.strip()]
    folder = url if url.endswith("/") else url + "/"
    return any(item == "*" or folder.startswith(item if item.endswith("/") else item + "/") for item in items)


def check_integration(stage: Stage, properties: Mapping[str, str], bucket: str) -> Check:
    """DESC INTEGRATION's properties (``property`` -> ``property_value``) for the stage's integration."""
    name = f"storage integration {stage.integration}"
    trust = (
        "in AWS, the IAM role's trust policy must name DESC INTEGRATION's STORAGE_AWS_IAM_USER_ARN and"
        " STORAGE_AWS_EXTERNAL_ID (include/sql/production_setup.sql, step 3)"
    )
    problems: list[tuple[str, str]] = []
    if not same(properties.get("ENABLED"), "true"):
        problems.append(
            ("is disabled", f"ALTER STORAGE INTEGRATION {ident(stage.integration or '')} SET ENABLED = TRUE")
        )
    if properties.get("STORAGE_PROVIDER") and not same(properties.get("STORAGE_PROVIDER"), "S3"):
        problems.append((f"is for {properties['STORAGE_PROVIDER']}, not S3", "create an S3 storage integration"))
    if not allowed(stage.url, properties.get("STORAGE_ALLOWED_LOCATIONS", "")):
        problems.append(
            (
                f"does not allow {stage.url} (allowed: {properties.get('STORAGE_ALLOWED_LOCATIONS') or 'none'})",
                f"ALTER STORAGE INTEGRATION {ident(stage.integration or '')} SET STORAGE_ALLOWED_LOCATIONS ="
                f" ('s3://{bucket}/')",
            )
        )
    if properties.get("STORAGE_BLOCKED_LOCATIONS") and allowed(stage.url, properties["STORAGE_BLOCKED_LOCATIONS"]):
        problems.append((f"blocks {stage.url}", "remove it from STORAGE_BLOCKED_LOCATIONS"))
    if "<" in properties.get("STORAGE_AWS_ROLE_ARN", "") or not properties.get("STORAGE_AWS_ROLE_ARN"):
        problems.append(("has no IAM role ARN", "set STORAGE_AWS_ROLE_ARN to the IAM role Snowflake assumes; " + trust))
    if problems:
        return failed(SERVICE, name, "; ".join(p for p, _ in problems), "; ".join(f for _, f in problems))
    return passed(SERVICE, name, f"enabled, allows {stage.url}, role {properties.get('STORAGE_AWS_ROLE_ARN')}")


def has_grant(rows: Rows, privileges: set[str], role: str) -> bool:
    """A grant to ``role`` of one of ``privileges`` (SHOW GRANTS: granted_to; SHOW FUTURE GRANTS: grant_to)."""
    return any(
        str(row.get("privilege") or "").upper() in privileges
        and same(row.get("granted_to") or row.get("grant_to"), "ROLE")
        and same(row.get("grantee_name"), role)
        for row in rows
    )


def future_select(rows: Rows, role: str) -> bool:
    return any(
        same(row.get("grant_on") or row.get("granted_on"), "TABLE")
        and same(row.get("privilege"), "SELECT")
        and same(row.get("grant_to") or row.get("granted_to"), "ROLE")
        and same(row.get("grantee_name"), role)
        for row in rows
    )


def missing_grants(
    role: str,
    database: str,
    schema: str,
    database_grants: Rows,
    schema_grants: Rows,
    future_grants: Rows,
    table_grants: Mapping[str, Rows],
) -> list[str]:
    """The GRANT statements of production_setup.sql (step 5) that ``role`` lacks on one marts schema."""
    fqn, who = f"{database}.{schema}", ident(role)
    statements = []
    if not has_grant(database_grants, {"USAGE", "OWNERSHIP"}, role):
        statements.append(f"GRANT USAGE ON DATABASE {database} TO ROLE {who}")
    if not has_grant(schema_grants, {"USAGE", "OWNERSHIP"}, role):
        statements.append(f"GRANT USAGE ON SCHEMA {fqn} TO ROLE {who}")
    if any(not has_grant(rows, {"SELECT", "OWNERSHIP"}, role) for rows in table_grants.values()):
        statements.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA {fqn} TO ROLE {who}")
    if not future_select(future_grants, role):
        statements.append(f"GRANT SELECT ON FUTURE TABLES IN SCHEMA {fqn} TO ROLE {who}")
    return statements


# --- the flow, over a session ----------------------------------------------------------------------------------


def _error_check(name: str, exc: Exception, fix: str) -> Check:
    return failed(SERVICE, name, error_text(exc), fix)


def role_and_warehouse(session: Session, target: Target) -> list[Check]:
    checks = []
    who = target.user or "the connection's user"
    try:
        if target.role:
            session.rows(f"USE ROLE {ident(target.role)}")
            checks.append(passed(SERVICE, f"role {target.role}", f"granted to {who} and in use"))
        else:
            current = (session.rows("SELECT CURRENT_ROLE() AS ROLE") or [{}])[0].get("role")
            checks.append(
                passed(SERVICE, "role", f"the connection names none: sessions use {who}'s default, {current}")
            )
    except Exception as exc:  # noqa: BLE001 - Snowflake's refusal is this check's finding
        checks.append(
            _error_check(
                f"role {target.role or ''}".strip(),
                exc,
                f"as SECURITYADMIN: CREATE ROLE IF NOT EXISTS {ident(target.role or '')};"
                f" GRANT ROLE {ident(target.role or '')} TO USER {ident(target.user or '<user>')}"
                " (include/sql/production_setup.sql, steps 1 and 6), or fix extra.role in the connection",
            )
        )
    grant = (
        f"GRANT USAGE ON WAREHOUSE {ident(target.warehouse or '<warehouse>')} TO ROLE {ident(target.role or '<role>')}"
    )
    try:
        if target.warehouse:
            session.rows(f"USE WAREHOUSE {ident(target.warehouse)}")
            checks.append(passed(SERVICE, f"warehouse {target.warehouse}", "exists and the role may use it"))
        else:
            current = (session.rows("SELECT CURRENT_WAREHOUSE() AS WAREHOUSE") or [{}])[0].get("warehouse")
            if not current:
                checks.append(
                    failed(
                        SERVICE,
                        "warehouse",
                        f"the connection names none and {who} has no usable default warehouse",
                        'set "warehouse" in the connection\'s extra (README, Connections)',
                    )
                )
            else:
                checks.append(passed(SERVICE, "warehouse", f"the connection names none: sessions use {current}"))
    except Exception as exc:  # noqa: BLE001
        checks.append(
            _error_check(
                f"warehouse {target.warehouse}",
                exc,
                f"create it and, as SECURITYADMIN, {grant} (include/sql/production_setup.sql, step 2)",
            )
        )
    return checks


def objects(session: Session, target: Target, expected: Expected) -> list[Check]:
    """Databases, schemas and raw tables: every one the bootstrap creates."""
    fix = bootstrap_fix(target)
    present: list[str] = []
    for database in expected.databases:
        present += [str(r.get("name")) for r in session.rows(f"SHOW DATABASES LIKE {literal(database)}")]
    checks = [check_missing("databases", expected.databases, present, "exist", admin_setup_fix())]
    have_databases = {p.upper() for p in present}
    schemas: list[str] = []
    for database in dict.fromkeys(s.split(".")[0] for s in expected.schemas):
        if database in have_databases:
            schemas += [f"{database}.{r.get('name')}" for r in session.rows(f"SHOW SCHEMAS IN DATABASE {database}")]
    if not have_databases.issuperset(s.split(".")[0] for s in expected.schemas):
        checks.append(skipped(SERVICE, "schemas", "not checked: a database is missing (see databases)"))
        checks.append(skipped(SERVICE, "raw tables", "not checked: a database is missing (see databases)"))
        return checks
    checks.append(check_missing("schemas", expected.schemas, schemas, "exist", fix))
    tables: list[str] = []
    for database in dict.fromkeys(t.split(".")[0] for t in expected.tables):
        rows = session.rows(f"SHOW TABLES IN DATABASE {database}")
        tables += [f"{database}.{r.get('schema_name')}.{r.get('name')}" for r in rows]
    count = len(expected.tables)
    check = check_missing("raw tables", expected.tables, tables, "exist", fix)
    checks.append(passed(SERVICE, "raw tables", f"all {count} exist") if not check.failed else check)
    return checks


def landing(session: Session, target: Target) -> list[Check]:
    """File format, stage, storage integration and whether Snowflake can list the bucket through the stage."""
    names, fix = target.names, bootstrap_fix(target)
    schema = f"{names.raw_database}.{names.landing_schema}"
    try:
        formats = session.rows(f"SHOW FILE FORMATS LIKE {literal(names.file_format)} IN SCHEMA {schema}")
        checks = [check_file_format(formats, names, fix)]
        stage_check, stage = check_stage(
            session.rows(f"SHOW STAGES LIKE {literal(names.stage)} IN SCHEMA {schema}"), target, fix
        )
    except Exception as exc:  # noqa: BLE001 - e.g. the landing schema is missing: its checks cannot run
        return [_error_check(f"landing schema {schema}", exc, fix)]
    checks.append(stage_check)
    integration_name = "storage integration"
    if stage is None or stage_check.failed:
        checks.append(skipped(SERVICE, integration_name, "not checked: the stage must be fixed first"))
        return checks
    if stage.integration:
        try:
            rows = session.rows(f"DESC INTEGRATION {ident(stage.integration)}")
            properties = {str(r.get("property")).upper(): str(r.get("property_value") or "") for r in rows}
            checks.append(check_integration(stage, properties, target.bucket))
        except Exception as exc:  # noqa: BLE001
            grant = f"GRANT USAGE ON INTEGRATION {ident(stage.integration)} TO ROLE {ident(target.role or '<role>')}"
            checks.append(_error_check(f"storage integration {stage.integration}", exc, f"as ACCOUNTADMIN: {grant}"))
    else:
        checks.append(passed(SERVICE, integration_name, "none: the stage authenticates with its own credentials"))
    try:
        listed = session.rows(f"LIST @{names.stage_fqn}/{LIST_PATH}")
        checks.append(passed(SERVICE, "stage access", f"Snowflake listed {stage.url}{LIST_PATH} ({len(listed)} files)"))
    except Exception as exc:  # noqa: BLE001
        checks.append(
            _error_check(
                "stage access",
                exc,
                "in AWS, let the IAM role be assumed by DESC INTEGRATION's STORAGE_AWS_IAM_USER_ARN with its"
                " STORAGE_AWS_EXTERNAL_ID, and allow it s3:ListBucket and s3:GetBucketLocation on"
                f" arn:aws:s3:::{target.bucket}, s3:GetObject and s3:GetObjectVersion on"
                f" arn:aws:s3:::{target.bucket}/* (include/sql/production_setup.sql, step 3)",
            )
        )
    return checks


def hightouch_access(session: Session, target: Target) -> Check:
    """Can the Hightouch role read every mart syncs.yaml names, now and after dbt re-creates them?"""
    role, name = target.hightouch_role, "Hightouch's access to the marts"
    if not role:
        return passed(
            SERVICE,
            name,
            "not checked: SNOWFLAKE_HIGHTOUCH_ROLE is empty, so no role is named for Hightouch's source",
        )
    schemas: dict[tuple[str, str], list[str]] = {}
    for mart in target.marts:
        database, schema, table = (part.upper() for part in mart.split(".")[-3:])
        schemas.setdefault((database, schema), []).append(table)
    statements: list[str] = []  # GRANTs to run
    problems: list[tuple[str, str]] = []  # (what, fix) when the grants cannot be read at all
    for (database, schema), tables in schemas.items():
        fqn = f"{database}.{schema}"
        try:
            database_grants = session.rows(f"SHOW GRANTS ON DATABASE {database}")
            schema_grants = session.rows(f"SHOW GRANTS ON SCHEMA {fqn}")
            future = session.rows(f"SHOW FUTURE GRANTS IN SCHEMA {fqn}")
            existing = {str(r.get("name")).upper() for r in session.rows(f"SHOW TABLES IN SCHEMA {fqn}")}
            table_grants = {t: session.rows(f"SHOW GRANTS ON TABLE {fqn}.{t}") for t in tables if t in existing}
        except Exception as exc:  # noqa: BLE001 - e.g. the marts schema does not exist yet
            problems.append(
                (
                    f"cannot read the grants on {fqn}: {error_text(exc)}",
                    f"create {fqn} and make the pipeline's role its owner (include/sql/production_setup.sql, step 4),"
                    f" then give {role} the grants of step 5",
                )
            )
            continue
        statements += missing_grants(role, database, schema, database_grants, schema_grants, future, table_grants)
    if statements:
        problems.append(
            (
                f"role {role} lacks grants it needs to read {', '.join(target.marts)}",
                "as SECURITYADMIN: " + "; ".join(statements) + " (include/sql/production_setup.sql, step 5)",
            )
        )
    if problems:
        return failed(SERVICE, name, "; ".join(p for p, _ in problems), "; ".join(f for _, f in problems))
    return passed(SERVICE, name, f"{role} has USAGE on the database and schema, SELECT on the marts and future tables")


def run_checks(session: Session, target: Target) -> list[Check]:
    """Every Snowflake check over an open session, in dependency order."""
    checks = role_and_warehouse(session, target)
    try:
        checks += objects(session, target, bootstrap_objects(target.names))
    except Exception as exc:  # noqa: BLE001
        checks.append(_error_check("databases", exc, bootstrap_fix(target)))
    checks += landing(session, target)
    checks.append(hightouch_access(session, target))
    return checks


# --- the edge ----------------------------------------------------------------------------------------------------


class ConnectorSession:
    """A Session over a snowflake-connector connection."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def rows(self, sql: str) -> Rows:
        from snowflake.connector import DictCursor

        with self._connection.cursor(DictCursor) as cursor:
            cursor.execute(sql)
            return [{str(k).lower(): v for k, v in row.items()} for row in cursor.fetchall()]


def target_from_connection(conn_id: str) -> Target:
    from airflow.sdk import BaseHook

    from include.hightouch.syncs import default_syncs
    from include.settings import landing_bucket, warehouse_names

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson

    def option(key: str) -> str | None:
        return (extra.get(key) or extra.get(f"extra__snowflake__{key}") or "").strip() or None

    return Target(
        conn_id=conn_id,
        user=conn.login,
        role=option("role"),
        warehouse=option("warehouse"),
        names=warehouse_names(),
        bucket=landing_bucket(),
        hightouch_role=hightouch_role(),
        marts=tuple(dict.fromkeys(sync.model for sync in default_syncs().syncs)),
    )


def snowflake_checks(conn_id: str | None = None) -> list[Check]:
    """Every Snowflake check through the pipeline's connection; errors become failed checks."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.connections import SNOWFLAKE

    conn_id = conn_id or SNOWFLAKE
    try:
        target = target_from_connection(conn_id)
        connection = SnowflakeHook(snowflake_conn_id=conn_id).get_conn()
    except Exception as exc:  # noqa: BLE001 - failing to connect is this check's finding
        return connection_failed(
            SERVICE,
            f"cannot connect with connection {conn_id!r}: {error_text(exc)}",
            f"fix the {conn_id} connection (README, Connections): account, user, key pair or password, role",
        )
    with connection:
        who = f"{target.user} on {connection.account}" if target.user else str(connection.account)
        return [passed(SERVICE, "connection", f"signed in as {who}"), *run_checks(ConnectorSession(connection), target)]
