"""The fakesnow internals the Snowflake stand-in patches or calls (dev/localcloud/snowflake_server.py and
snowflake_storage.py) and its tests, checked by dev/tests/test_local_cloud_internals.py like the product's own list in
include/upstream_internals.py. Deleting dev/ deletes this list with them."""

from __future__ import annotations

from include.upstream_internals import Internal

FAKESNOW = "fakesnow"
COSMOS = "astronomer-cosmos"

INTERNALS: tuple[Internal, ...] = (
    Internal(
        "fakesnow.instance:FakeSnow", FAKESNOW, "0.12.1", "snowflake_server (the shared instance)", ("duck_conn",)
    ),
    Internal("fakesnow.instance:GLOBAL_DATABASE_NAME", FAKESNOW, "0.12.1", "snowflake_server"),
    Internal(
        "fakesnow.cursor:FakeSnowflakeCursor.execute",
        FAKESNOW,
        "0.12.1",
        "snowflake_server (Snowflake's errors for what fakesnow accepts)",
        ("command", "params"),
    ),
    Internal(
        "fakesnow.transforms:trim_cast_varchar",
        FAKESNOW,
        "0.12.1",
        "snowflake_server (TRIM keeps characters)",
        ("expression",),
    ),
    Internal("fakesnow.server:shared_fs", FAKESNOW, "0.12.1", "snowflake_server (one instance for every session)"),
    Internal("fakesnow.info_schema:per_db_creation_sql", FAKESNOW, "0.12.1", "snowflake_server (databases)"),
    Internal("fakesnow.macros:creation_sql", FAKESNOW, "0.12.1", "snowflake_server (databases)"),
    Internal("fakesnow.transforms.show:fs_global_creation_sql", FAKESNOW, "0.12.1", "snowflake_server"),
    Internal("fakesnow.transforms.stage:parts_from_var", FAKESNOW, "0.12.1", "snowflake_storage (stages)"),
    Internal("fakesnow.copy_into:stage_url_from_var", FAKESNOW, "0.12.1", "snowflake_storage (local stages)"),
    Internal(
        "cosmos.plugin.airflow3:_load_projects_from_conf",
        COSMOS,
        "1.15.1",
        "dev/tests/test_demo_links (the dbt docs setting the Cosmos plugin reads)",
    ),
)
