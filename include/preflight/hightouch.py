"""Hightouch: is every sync of ``syncs.yaml`` in the workspace, reading its mart, triggered only by Airflow?

Per entry of ``include/hightouch/syncs.yaml``: a sync with the entry's slug exists; its model is a table model on
the entry's mart with the entry's primary key; it has no Hightouch schedule (Airflow's ``activate_salesforce`` is
its only trigger); it is enabled. And the Airflow connection is one the provider can use (no login).

Read through the product's own client (``include/hightouch/api.py``) from the Hightouch API reference
(https://hightouch.com/docs/api-reference): ``GET /syncs`` (``Sync``: ``slug``, ``modelId``, ``schedule``,
``disabled``) and ``GET /models`` / ``GET /models/{modelId}`` (``Model``: ``queryType``, ``table.name``,
``primaryKey``). ``schedule`` is nullable; null is a sync without a Hightouch schedule, which the UI calls the
**Manual** schedule type, the one for syncs triggered from Airflow or the API
(https://hightouch.com/docs/syncs/schedule-sync-ui). A table model's ``table.name`` is qualified as chosen in
Hightouch against its source (which fixes the database), so tables are compared by ``SCHEMA.TABLE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from include.hightouch.syncs import Sync, SyncCatalogue
from include.preflight.checks import Check, connection_failed, error_text, failed, passed, plural, skipped
from include.preflight.dbt_manifest import table_key

SERVICE = "Hightouch"


def schedule_kind(schedule: Any) -> str | None:
    """None when Hightouch never runs the sync by itself (no schedule, or the Manual type); else the type."""
    if schedule is None:
        return None
    kind = str(schedule.get("type") or "unknown") if isinstance(schedule, Mapping) else str(schedule)
    return None if kind.lower() == "manual" else kind


def judge_sync(entry: Sync, sync: Mapping[str, Any] | None, model: Mapping[str, Any] | None, where: str) -> Check:
    """One catalogue entry against the workspace's sync and that sync's model (None: not found)."""
    name = f"sync {entry.slug}"
    if sync is None:
        return failed(
            SERVICE,
            name,
            f"no sync with the slug {entry.slug} in the workspace at {where}",
            f"create it as include/hightouch/syncs.yaml says (a table model on {entry.model} with primary key"
            f" {entry.primary_key}, Salesforce object {entry.destination_object}, mode {entry.mode}, its field"
            f" mapping) and set its slug to {entry.slug}",
        )
    problems: list[tuple[str, str]] = []
    model_id = sync.get("modelId")
    table = None
    if model is None:
        problems.append((f"its model {model_id} cannot be read", f"point the sync at a table model on {entry.model}"))
    else:
        table = (model.get("table") or {}).get("name") if isinstance(model.get("table"), Mapping) else None
        label = f"its model {model.get('name') or model_id} (id {model_id})"
        if model.get("queryType") != "table" or not table:
            problems.append(
                (
                    f"{label} is a {model.get('queryType')} model, not a table model",
                    f"point the sync at a table model (Table selector) on {entry.model}",
                )
            )
        elif table_key(str(table)) != table_key(entry.model):
            problems.append((f"{label} reads {table}, not {entry.model}", f"set the table of {label} to {entry.model}"))
        key = str(model.get("primaryKey") or "")
        if key.upper() != entry.primary_key.upper():
            problems.append(
                (
                    f"{label} has the primary key {key or '(none)'}, not {entry.primary_key}",
                    f"set the primary key of {label} to {entry.primary_key}",
                )
            )
    kind = schedule_kind(sync.get("schedule"))
    if kind is not None:
        problems.append(
            (
                f"Hightouch runs it on a schedule ({kind})",
                "set its schedule type to Manual: Airflow (activate_salesforce) is the only trigger, after dbt",
            )
        )
    if sync.get("disabled"):
        problems.append(("it is disabled", "enable it (activate_salesforce cannot trigger a disabled sync)"))
    if problems:
        return failed(SERVICE, name, "; ".join(p for p, _ in problems), "; ".join(f for _, f in problems))
    return passed(SERVICE, name, f"id {sync.get('id')}, reads {table} by {entry.primary_key}, manual schedule, enabled")


def judge_workspace(
    catalogue: SyncCatalogue,
    syncs: list[Mapping[str, Any]],
    models: Mapping[str, Mapping[str, Any]],
    where: str,
) -> list[Check]:
    """A check per catalogue entry; ``models`` by id (as a string)."""
    by_slug = {str(s.get("slug")): s for s in syncs}
    checks = []
    for entry in catalogue.syncs:
        sync = by_slug.get(entry.slug)
        model = models.get(str(sync.get("modelId"))) if sync else None
        checks.append(judge_sync(entry, sync, model, where))
    return checks


def connection_check(conn_id: str, problems: list[str]) -> Check:
    """The connection as the provider uses it (``include/hightouch/connection.py``): no login, a key, a host."""
    if problems:
        return failed(
            SERVICE,
            "connection",
            f"connection {conn_id!r} cannot be used by the Hightouch provider",
            f"{conn_id} " + "; it ".join(problems),
        )
    return passed(SERVICE, "connection", f"{conn_id!r}: API key in the password, no login")


def hightouch_checks(conn_id: str | None = None, catalogue: SyncCatalogue | None = None) -> list[Check]:
    """Every Hightouch check through the pipeline's connection; errors become failed checks."""
    from airflow.sdk import BaseHook

    from include.connections import HIGHTOUCH
    from include.hightouch.api import HightouchApi
    from include.hightouch.connection import connection_problems, describe_host
    from include.hightouch.syncs import default_syncs

    conn_id = conn_id or HIGHTOUCH
    catalogue = catalogue or default_syncs()
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - a missing connection is this check's finding
        return connection_failed(
            SERVICE,
            f"no connection {conn_id!r}: {error_text(exc)}",
            f"set AIRFLOW_CONN_{conn_id.upper()} (README, Connections)",
        )
    check = connection_check(conn_id, connection_problems(conn))
    if check.failed:
        waiting = f"not checked: the {conn_id} connection must be fixed first"
        return [check, *(skipped(SERVICE, f"sync {entry.slug}", waiting) for entry in catalogue.syncs)]
    where = describe_host(conn)
    try:
        api = HightouchApi(conn_id)
        syncs = api.syncs()
        models = {str(m.get("id")): m for m in api.models()}
        for sync in syncs:  # a model outside the listing (another page, another filter): read it by id
            model_id = str(sync.get("modelId"))
            if sync.get("slug") in {e.slug for e in catalogue.syncs} and model_id not in models:
                models[model_id] = api.model(model_id)
    except Exception as exc:  # noqa: BLE001 - an unreachable workspace or a refused key is this check's finding
        return [
            check,
            failed(
                SERVICE,
                "workspace",
                f"cannot read the syncs at {where}: {error_text(exc)}",
                f"check the host ({where}) and the API key in the {conn_id} connection's password",
            ),
        ]
    workspace = passed(SERVICE, "workspace", f"{where}: API key accepted, {plural(len(syncs), 'sync')}")
    return [check, workspace, *judge_workspace(catalogue, syncs, models, where)]
