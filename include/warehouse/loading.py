"""``COPY INTO`` from the landing stage, with Snowflake's per-file load results made explicit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from include.settings import warehouse_names

if TYPE_CHECKING:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
# No "=": the local stand-in's COPY reads a key=value folder as an extra partition column, and such folders gain
# nothing here.
_PREFIX = re.compile(r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]*/$")


@dataclass(frozen=True)
class FileLoad:
    """One row of COPY INTO's result: a file and what happened to it."""

    file: str
    status: str  # LOADED | LOAD_SKIPPED | LOAD_FAILED | PARTIALLY_LOADED
    rows_loaded: int
    errors_seen: int
    first_error: str | None


@dataclass(frozen=True)
class CopyResult:
    files: tuple[FileLoad, ...]

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    def by_status(self, status: str) -> list[FileLoad]:
        return [f for f in self.files if f.status == status]

    @property
    def failed(self) -> list[FileLoad]:
        return [f for f in self.files if f.status in {"LOAD_FAILED", "PARTIALLY_LOADED"}]


def copy_into_sql(table: str, stage_prefix: str, *, force: bool = False) -> str:
    """The COPY statement for exactly one landing prefix (COPY does not recurse, so be exact)."""
    if not _TABLE.match(table):
        raise ValueError(f"not a table name: {table!r}")
    if not _PREFIX.match(stage_prefix) or ".." in stage_prefix:
        raise ValueError(f"stage prefix must be a relative folder ending in '/': {stage_prefix!r}")
    names = warehouse_names()
    return (
        f"COPY INTO {table} FROM @{names.stage_fqn}/{stage_prefix} "
        f"FILE_FORMAT = (FORMAT_NAME = '{names.file_format_fqn}')" + (" FORCE = TRUE" if force else "")
    )


def _as_int(value: Any) -> int:
    return int(value) if value is not None else 0


def parse_copy_result(columns: list[str], rows: list[tuple[Any, ...]]) -> CopyResult:
    """Normalise both shapes Snowflake returns: per-file rows, or one 'Copy executed with 0 files' row."""
    names = [c.lower() for c in columns]
    if "file" not in names:
        return CopyResult(files=())
    files = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        files.append(
            FileLoad(
                file=str(record["file"]),
                status=str(record["status"]).upper(),
                rows_loaded=_as_int(record.get("rows_loaded")),
                errors_seen=_as_int(record.get("errors_seen")),
                first_error=record.get("first_error"),
            )
        )
    return CopyResult(files=tuple(files))


def copy_into(hook: SnowflakeHook, table: str, stage_prefix: str, *, force: bool = False) -> CopyResult:
    """Load the prefix's new files; files Snowflake loaded before are skipped (its load history)."""

    def handler(cursor: Any) -> CopyResult:
        return parse_copy_result([c[0] for c in cursor.description], cursor.fetchall())

    result = hook.run(copy_into_sql(table, stage_prefix, force=force), handler=handler)
    assert isinstance(result, CopyResult)
    if result.failed:
        details = "; ".join(f"{f.file}: {f.status} {f.first_error}" for f in result.failed)
        raise RuntimeError(f"COPY INTO {table} failed for {len(result.failed)} file(s): {details}")
    return result


def replace_interval(
    hook: SnowflakeHook, table: str, stage_prefix: str, *, interval_start: str | None, parts: int
) -> int:
    """Make ``table`` hold exactly the files now under ``stage_prefix`` for one interval; returns rows loaded.

    A re-run rewrites its interval's files, possibly with more records, and load history would let the changed
    files load again beside the old rows. So the interval's rows (``RECORD:interval_start``) are deleted and the
    prefix is copied with FORCE. ``interval_start=None`` replaces every row: a snapshot table. ``parts`` is how
    many files the prefix holds; with none, nothing is copied.
    """
    if not _TABLE.match(table):
        raise ValueError(f"not a table name: {table!r}")
    if parts < 0:
        raise ValueError(f"parts must be 0 or more: {parts}")
    if interval_start is None:
        hook.run(f"DELETE FROM {table}")
    else:
        hook.run(
            f"DELETE FROM {table} WHERE RECORD:interval_start::VARCHAR = %(start)s",
            parameters={"start": interval_start},
        )
    if parts == 0:
        return 0
    return copy_into(hook, table, stage_prefix, force=True).rows_loaded


def count_rows(hook: SnowflakeHook, table: str) -> int:
    if not _TABLE.match(table):
        raise ValueError(f"not a table name: {table!r}")
    row = hook.get_first(f"SELECT COUNT(*) FROM {table}")
    return int(row[0])
