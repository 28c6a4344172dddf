"""Every Cosmos, Airflow and provider internal this package relies on, in one list, with the version it was checked
against.

They are not public API: an upgrade may move, rename or change them without a deprecation. `make test` checks
each one (tests/unit/test_upstream_internals.py) and fails naming the symbol, what it needs and the version below,
so an upgrade breaks a test, not a production run. When it fails: read the upstream change, adapt the code named
in ``used_by``, then bump ``checked_against``. A fork that drops a feature drops its lines here too.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from functools import reduce
from importlib import metadata


@dataclass(frozen=True)
class Internal:
    """One upstream symbol: ``module:qualified.name``, the distribution that ships it, the version it was checked
    against, where this repository uses it, and what that use needs: parameter names of a callable, or names a class
    must have (as an attribute, or assigned in its code, for instance attributes)."""

    symbol: str
    distribution: str
    checked_against: str
    used_by: str
    needs: tuple[str, ...] = ()

    def resolve(self) -> object:
        module, _, qualname = self.symbol.partition(":")
        return reduce(getattr, qualname.split("."), importlib.import_module(module))


COSMOS = "astronomer-cosmos"
CORE = "apache-airflow-core"
TASK_SDK = "apache-airflow-task-sdk"
STANDARD = "apache-airflow-providers-standard"
OPENLINEAGE = "apache-airflow-providers-openlineage"

INTERNALS: tuple[Internal, ...] = (
    # The build-and-report dbt design (include/transform/dbt_build.py): Cosmos renders, our operators run.
    Internal(
        "cosmos.airflow.graph:create_task_metadata",
        COSMOS,
        "1.15.1",
        "dbt_build.build_node_task",
        (
            "node",
            "execution_mode",
            "args",
            "render_config",
            "dbt_dag_task_group_identifier",
            "test_indirect_selection",
            "on_warning_callback",
            "detached_from_parent",
        ),
    ),
    Internal("cosmos.airflow.graph:TaskMetadata", COSMOS, "1.15.1", "dbt_build.build_node_task", ("operator_class",)),
    Internal(
        "cosmos.core.airflow:get_airflow_task",
        COSMOS,
        "1.15.1",
        "dbt_build.build_node_task",
        ("task", "dag", "task_group"),
    ),
    Internal(
        "cosmos.operators.local:DbtLocalBaseOperator",
        COSMOS,
        "1.15.1",
        "dbt_build.DbtBuildProducer",
        ("_process_log_line_callable", "handle_exception_subprocess", "openlineage_events_completes"),
    ),
    Internal(
        "cosmos.cache:get_cache_seed_checksum",
        COSMOS,
        "1.15.1",
        "dbt_build.DbtBuildProducer (unchanged seeds)",
        ("dag_task_group_identifier", "unique_id"),
    ),
    Internal(
        "cosmos.cache:store_cache_seed_checksum",
        COSMOS,
        "1.15.1",
        "dbt_build.DbtBuildProducer",
        ("dag_task_group_identifier", "unique_id", "checksum"),
    ),
    Internal(
        "cosmos.dbt.graph:DbtGraph",
        COSMOS,
        "1.15.1",
        "dbt_build.add_build_task (the rendered nodes; the group's cache: the build's partial parse)",
        ("filtered_nodes", "cache_dir"),
    ),
    Internal(
        "cosmos.dbt.graph:DbtNode",
        COSMOS,
        "1.15.1",
        "dbt_build.add_build_task",
        ("unique_id", "resource_type", "depends_on", "resource_name", "checksum"),
    ),
    Internal(
        "cosmos.converter:DbtToAirflowConverter",
        COSMOS,
        "1.15.1",
        "dbt_build.add_build_task (group.dbt_graph)",
        ("dbt_graph",),
    ),
    Internal(
        "airflow.sdk.execution_time.task_runner:RuntimeTaskInstance.get_task_states",
        TASK_SDK,
        "1.3.2",
        "dbt_build (a node task reads the build task's state)",
        ("dag_id", "task_ids", "run_ids"),
    ),
    Internal(
        "airflow.sdk.execution_time.xcom:XCom.get_one",
        TASK_SDK,
        "1.3.2",
        "dbt_build (the node trigger reads the build's results)",
        ("run_id", "key", "task_id", "dag_id", "map_index"),
    ),
    # The gate (include/activation/change_gate.py): HITLOperator.execute, waiting on a timeout-only trigger.
    Internal(
        "airflow.sdk.execution_time.hitl:upsert_hitl_detail",
        TASK_SDK,
        "1.3.2",
        "change_gate._ask",
        ("ti_id", "options", "subject", "body", "defaults", "multiple", "params", "assigned_users"),
    ),
    Internal(
        "airflow.providers.standard.operators.hitl:HITLOperator",
        STANDARD,
        "1.21.0",
        "change_gate._ask, alerts.ApprovalRequestNotifier",
        ("serialized_params", "hitl_summary_extra", "execute_complete", "notifiers", "assigned_users"),
    ),
    # Lineage (include/lineage.py): a @task whose operator reports what its body read and wrote.
    Internal(
        "airflow.providers.standard.decorators.python:_PythonDecoratedOperator",
        STANDARD,
        "1.21.0",
        "lineage.lineage_task",
    ),
    Internal(
        "airflow.sdk.bases.decorator:task_decorator_factory",
        TASK_SDK,
        "1.3.2",
        "lineage.lineage_task",
        ("python_callable", "multiple_outputs", "decorated_operator_class"),
    ),
    Internal(
        "airflow.providers.openlineage.plugins.listener:get_openlineage_listener",
        OPENLINEAGE,
        "2.20.3",
        "lineage.emit_dbt_node_lineage",
    ),
    Internal(
        "airflow.providers.openlineage.plugins.adapter:OpenLineageAdapter",
        OPENLINEAGE,
        "2.20.3",
        "lineage.emit_dbt_node_lineage",
        ("build_dag_run_id", "build_task_instance_run_id", "emit"),
    ),
    # The fix of clearing a run with a pending DeadlineAlert (include/upstream_fixes.py): the function it replaces
    # and what its copy reads.
    Internal(
        "airflow.models.taskinstance:_recalculate_dagrun_queued_at_deadlines",
        CORE,
        "3.3.2",
        "upstream_fixes.fix_deadline_recalculation_on_clear",
        ("dagrun", "new_queued_at", "session"),
    ),
    Internal(
        "airflow.models.deadline:Deadline",
        CORE,
        "3.3.2",
        "upstream_fixes.recalculate_dagrun_queued_at_deadlines",
        ("dagrun_id", "deadline_alert_id", "missed", "deadline_time"),
    ),
    Internal(
        "airflow.models.deadline:ReferenceModels",
        CORE,
        "3.3.2",
        "upstream_fixes.recalculate_dagrun_queued_at_deadlines",
        ("REFERENCE_TYPE_FIELD", "DagRunQueuedAtDeadline"),
    ),
    Internal(
        "airflow.models.deadline_alert:DeadlineAlert",
        CORE,
        "3.3.2",
        "upstream_fixes.recalculate_dagrun_queued_at_deadlines",
        ("id", "reference", "interval"),
    ),
)


def version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _names_in(obj: object) -> set[str]:
    """Parameter names of a callable; for a class, its attributes and every name its code (MRO) assigns or reads."""
    if inspect.isclass(obj):
        names = set(dir(obj))
        for klass in obj.__mro__:
            try:
                names |= set(inspect.getsource(klass).replace(".", " ").replace("(", " ").split())
            except (OSError, TypeError):
                continue
        return {name.strip(":,=)[]'\"") for name in names}
    return set(inspect.signature(obj).parameters)  # type: ignore[arg-type]


def problems(internal: Internal) -> list[str]:
    """What is wrong with one internal in the installed packages (empty: it is as this repository uses it)."""
    where = (
        f"{internal.symbol} (used by {internal.used_by}; checked against {internal.distribution} "
        f"{internal.checked_against}, installed {version_of(internal.distribution)})"
    )
    try:
        obj = internal.resolve()
    except (ImportError, AttributeError) as error:
        return [f"{where} is gone: {error}"]
    missing = [name for name in internal.needs if name not in _names_in(obj)]
    return [f"{where} no longer has {missing}"] if missing else []
