"""dbt in Airflow at the speed of one ``dbt build``, with one task per dbt node that shows its own result.

Cosmos renders the project (one task per model or seed, with the tests dbt runs with it; the dbt dependencies
as Airflow dependencies; which task stands for which test is ``plan_tasks``); this module changes who runs dbt:

- ``dbt_build`` (``DbtBuildProducer``) runs **one** ``dbt build`` of the whole selection on a worker and
  publishes each node's result (status and dbt's own log lines) as an XCom the moment dbt reports it.
- Every node task starts in the triggerer (``start_from_trigger``), not on a worker: its trigger waits for the
  results of its nodes and ends the task itself, green, red or skipped, with the node's dbt output in its log.
  No worker process, no DAG parse and no dbt start-up per node: that is what made one process per node slow.
- A node task's **retry** (or a task cleared by hand) runs dbt for that task's nodes alone, on a worker, as
  Cosmos's LOCAL mode does: a fixed failure is re-checked without rebuilding everything.

So a failing test fails exactly its model's task (its log holds dbt's failure and the failing SQL), dbt skips
everything downstream and Airflow marks those tasks upstream_failed, and nothing after the group runs. Where
no triggerer runs the tasks (``airflow dags test``), the same verdicts are reached in ``execute``. The choice,
and how it was measured against Cosmos's LOCAL and WATCHER modes, is in docs/cosmos-execution-mode.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from airflow.sdk.exceptions import AirflowException, AirflowRescheduleException, AirflowSkipException
from airflow.triggers.base import (
    BaseTrigger,
    StartTriggerArgs,
    TaskFailedEvent,
    TaskSkippedEvent,
    TaskSuccessEvent,
    TriggerEvent,
)
from cosmos.airflow.graph import create_task_metadata
from cosmos.constants import DbtResourceType, InvocationMode
from cosmos.core.airflow import get_airflow_task
from cosmos.operators.local import DbtBuildLocalOperator, DbtTestLocalOperator

from include.transform.build_results import (
    FINISHED_TASK_STATES,
    SUCCESS_STATUSES,
    BuildLog,
    Node,
    NodeResult,
    Outcome,
    Verdict,
    judge,
    parse_log_line,
    plan_tasks,
    report_lines,
)

if TYPE_CHECKING:
    from airflow.sdk import Context
    from cosmos.config import RenderConfig
    from cosmos.dbt.graph import DbtNode

BUILD_TASK_ID = "dbt_build"
RESULT_KEY = "dbt_node_result:{}"  # one XCom per node: its NodeResult
PROGRESS_KEY = "dbt_build_progress"  # one XCom: {unique_id: status} of every node reported so far
POLL_SECONDS = 1.0


def result_key(unique_id: str) -> str:
    return RESULT_KEY.format(unique_id)


class DbtBuildProducer(DbtBuildLocalOperator):
    """One ``dbt build`` of the selection; each node's result becomes an XCom as soon as dbt reports it.

    dbt runs as a subprocess with ``--log-format json`` (its events, one per line) whatever Python Airflow runs
    in, so local runs and the image behave the same. The task fails only when dbt could not do its job (exit
    code 2, or 1 without a failed node to show for it); a node that failed is its own task's failure.

    A seed whose CSV is unchanged since it last loaded (with its tests passing) is not reloaded: Cosmos's
    ``SeedRenderingBehavior.WHEN_SEED_CHANGES`` rule, with Cosmos's own checksum store (an Airflow Variable per
    group and seed). Reference data such as the public suffix list then costs nothing per run.
    """

    ui_color = "#5C6BC0"

    def __init__(
        self,
        *,
        threads: int,
        reported_ids: list[str],
        seeds: dict[str, tuple[str, list[str]]] | None = None,
        change_scope: str = "",
        node_task_ids: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.reported_ids = frozenset(reported_ids)
        self.node_task_ids = node_task_ids or {}  # built node unique_id -> the task that shows it (lineage)
        self.seeds = seeds or {}  # seed unique_id -> (CSV checksum, the nodes its task stands for)
        self.change_scope = change_scope
        kwargs["invocation_mode"] = InvocationMode.SUBPROCESS
        kwargs["dbt_cmd_flags"] = [*kwargs.get("dbt_cmd_flags", []), "--threads", str(threads), "--no-use-colors"]
        # The same tests as dbt's default (eager) for the whole selection; but excluding an unchanged seed then
        # drops only the seed's own tests, not a relationships test from a model to it (eager would drop it).
        kwargs["indirect_selection"] = "cautious"
        super().__init__(log_format="json", **kwargs)
        self._build_log = BuildLog()
        self._progress: dict[str, str] = {}
        self._ti: Any = None

    def execute(self, context: Context, **kwargs: Any) -> Any:
        self._build_log = BuildLog()
        self._progress = {}
        self._ti = context["ti"]
        self._process_log_line_callable = self._on_line
        unchanged = self._unchanged_seeds()
        if unchanged:
            names = [uid.split(".", 2)[-1] for uid in unchanged]
            self.log.info("Seeds unchanged since their last load, not reloaded: %s", ", ".join(names))
            self.exclude = " ".join(filter(None, [self.exclude, *names]))
            self._publish([r for uid in unchanged for r in _unchanged_seed_results(uid, self.seeds[uid][1])])
        try:
            result = super().execute(context, **kwargs)
        finally:
            self._emit_node_lineage(context)
        self._remember_loaded_seeds()
        return result

    def _emit_node_lineage(self, context: Context) -> None:
        """OpenLineage per node task (include/lineage.py): the node tasks end in the triggerer, where the provider's
        listener does not run, so the build emits their events from the artifacts Cosmos parsed."""
        from include.lineage import emit_dbt_node_lineage

        try:
            emitted = emit_dbt_node_lineage(
                context, getattr(self, "openlineage_events_completes", []), self.node_task_ids
            )
        except Exception as error:  # noqa: BLE001 - lineage must never fail the build
            self.log.warning("OpenLineage events of the node tasks not emitted: %s", error)
            return
        if emitted:
            self.log.info("OpenLineage: emitted the lineage of %d node tasks", emitted)

    def _unchanged_seeds(self) -> list[str]:
        from cosmos.cache import get_cache_seed_checksum

        return [
            uid for uid, (checksum, _) in sorted(self.seeds.items())
            if checksum and get_cache_seed_checksum(self.change_scope, uid) == checksum
        ]  # fmt: skip

    def _remember_loaded_seeds(self) -> None:
        from cosmos.cache import store_cache_seed_checksum

        for uid, (checksum, unique_ids) in self.seeds.items():
            results = [self._build_log.results.get(node) for node in unique_ids]
            if (
                checksum
                and results[0]
                and results[0]["status"] == "success"
                and all(r and r["status"] in SUCCESS_STATUSES for r in results)
            ):
                store_cache_seed_checksum(self.change_scope, uid, checksum)

    def _on_line(self, line: str, extra: Mapping[str, Any]) -> None:
        event = parse_log_line(line)
        if event is None:
            if line.strip():
                self.log.info("%s", line)
            return
        if self._build_log.project_dir is None and extra.get("project_dir"):
            self._build_log.project_dir = Path(extra["project_dir"])
        if event.message.strip() and event.level != "debug":
            self.log.log(_LEVELS.get(event.level, 20), "%s", event.message)
        self._publish(self._build_log.feed(event))

    def _publish(self, results: list[NodeResult]) -> None:
        if not results:
            return
        for result in results:
            self._ti.xcom_push(key=result_key(result["unique_id"]), value=result)
            self._progress[result["unique_id"]] = result["status"]
        self._ti.xcom_push(key=PROGRESS_KEY, value=self._progress)

    def handle_exception_subprocess(self, result: Any) -> None:
        self._publish(self._build_log.finish())
        failures = self._build_log.failures
        unreported = [r["unique_id"] for r in failures if r["unique_id"] not in self.reported_ids]
        if unreported:
            # No task stands for these nodes (a test on a source, say): this task is the one to show the failure.
            raise AirflowException(f"dbt build: failed, and no task of this group stands for them: {unreported}")
        if result.exit_code == 0:
            return
        if result.exit_code == 1 and failures:
            names = ", ".join(r["unique_id"] for r in failures)
            self.log.warning(
                "dbt build ended with %d failed node(s), each failing its own task: %s", len(failures), names
            )
            return
        super().handle_exception_subprocess(result)


_LEVELS = {"debug": 10, "info": 20, "warn": 30, "warning": 30, "error": 40}


def _unchanged_seed_results(seed: str, unique_ids: list[str]) -> list[NodeResult]:
    """What the task of an unchanged seed reports: the seed and its tests, not run (dbt's ``no-op``)."""
    return [
        NodeResult(unique_id=uid, status="no-op", lines=[
            "not reloaded: the seed's CSV is unchanged since it last loaded with its tests passing"
            if uid == seed else "not run: its seed is unchanged since they last passed"
        ])
        for uid in unique_ids
    ]  # fmt: skip


class BuildResultTrigger(BaseTrigger):
    """Waits in the triggerer for the build's results of one task's nodes, then ends that task.

    Success, failure and skip end the task here (``Task*Event``: no worker). Running dbt (a retry, or nodes the
    build did not cover) resumes the task on a worker, in ``run_dbt_after_trigger``.
    """

    def __init__(self, unique_ids: list[str], build_task_id: str, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__()
        self.unique_ids = list(unique_ids)
        self.build_task_id = build_task_id
        self.poll_seconds = poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"unique_ids": self.unique_ids, "build_task_id": self.build_task_id, "poll_seconds": self.poll_seconds},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from asgiref.sync import sync_to_async

        ti = self.task_instance
        build = (ti.dag_id, ti.run_id, self.build_task_id)
        read_results_of = sync_to_async(partial(read_results, *build, self.unique_ids))
        while True:
            snapshot = await SHARED_SNAPSHOTS.get(*build, max_age=self.poll_seconds)
            results = await read_results_of(snapshot)
            verdict = judge(self.unique_ids, results, snapshot.build_state, ti.try_number)
            if verdict.outcome is not Outcome.WAIT:
                break
            await asyncio.sleep(self.poll_seconds)
        for line in report_lines(verdict):
            self.log.info("%s", line)
        if verdict.outcome is Outcome.SUCCESS:
            yield TaskSuccessEvent()
        elif verdict.outcome is Outcome.FAILED:
            self.log.error("%s; the retry runs dbt for this task's nodes alone", verdict.reason)
            yield TaskFailedEvent()
        elif verdict.outcome is Outcome.SKIPPED:
            yield TaskSkippedEvent()
        else:
            yield TriggerEvent({"reason": verdict.reason})


@dataclass(frozen=True)
class BuildSnapshot:
    """Where a build stands: the Airflow state of its task, and the status of every node it has reported so far."""

    build_state: str | None
    progress: Mapping[str, str]

    def can_judge(self, unique_ids: Sequence[str]) -> bool:
        """Whether the results of ``unique_ids`` are worth reading: all reported, or the build ended."""
        return self.build_state in FINISHED_TASK_STATES or all(uid in self.progress for uid in unique_ids)


def _xcom(dag_id: str, run_id: str, build_task_id: str, key: str) -> Any:
    from airflow.sdk.execution_time.xcom import XCom

    return XCom.get_one(run_id=run_id, key=key, task_id=build_task_id, dag_id=dag_id, map_index=-1)


def read_snapshot(dag_id: str, run_id: str, build_task_id: str) -> BuildSnapshot:
    """The build task's state, then its progress XCom: read in this order, a finished build's progress is final
    (read the other way round, a build ending between the two reads looked like one that skipped nodes)."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    states = RuntimeTaskInstance.get_task_states(dag_id=dag_id, task_ids=[build_task_id], run_ids=[run_id])
    build_state = (states.get(run_id) or {}).get(build_task_id)
    return BuildSnapshot(build_state, _xcom(dag_id, run_id, build_task_id, PROGRESS_KEY) or {})


def read_results(
    dag_id: str, run_id: str, build_task_id: str, unique_ids: Sequence[str], snapshot: BuildSnapshot
) -> dict[str, NodeResult | None]:
    """The build's published results for ``unique_ids`` (None: not yet), read once the snapshot says they can be
    judged; until then nothing is read."""
    if not snapshot.can_judge(unique_ids):
        return dict.fromkeys(unique_ids)
    return {
        uid: (_xcom(dag_id, run_id, build_task_id, result_key(uid)) if uid in snapshot.progress else None)
        for uid in unique_ids
    }


def read_build(
    dag_id: str, run_id: str, build_task_id: str, unique_ids: Sequence[str]
) -> tuple[dict[str, NodeResult | None], str | None]:
    """The build's published results for ``unique_ids`` and the build task's state, in one go (a task on a worker)."""
    snapshot = read_snapshot(dag_id, run_id, build_task_id)
    return read_results(dag_id, run_id, build_task_id, unique_ids, snapshot), snapshot.build_state


class SharedSnapshots:
    """One read of a build's snapshot per poll for every node trigger waiting on it in this process.

    The triggerer runs all the node triggers of a run in one event loop, each polling the same build: each used to
    read its progress and state on its own, two API calls per task per poll. A snapshot younger than ``max_age``
    is shared (a read in flight too); a failed read is not. Entries of finished builds are forgotten after a while.
    """

    FORGET_AFTER_SECONDS = 300.0

    def __init__(self, read: Callable[[str, str, str], BuildSnapshot], clock: Callable[[], float] = time.monotonic):
        self._read = read
        self._clock = clock
        # Futures belong to their event loop: the snapshots of each loop (the triggerer has one; tests make several).
        self._latest: WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[str, str, str], tuple[float, asyncio.Future[BuildSnapshot]]]
        ] = WeakKeyDictionary()

    async def get(self, dag_id: str, run_id: str, build_task_id: str, *, max_age: float) -> BuildSnapshot:
        from asgiref.sync import sync_to_async

        now, build = self._clock(), (dag_id, run_id, build_task_id)
        latest = self._latest.setdefault(asyncio.get_running_loop(), {})
        for old in [key for key, (read_at, _) in latest.items() if now - read_at >= self.FORGET_AFTER_SECONDS]:
            del latest[old]
        entry = latest.get(build)
        if entry is None or now - entry[0] >= max_age or _failed(entry[1]):
            entry = latest[build] = (now, asyncio.ensure_future(sync_to_async(self._read)(*build)))
        return await asyncio.shield(entry[1])


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


SHARED_SNAPSHOTS = SharedSnapshots(read_snapshot)


class _ReportsBuildResult:
    """Mixin for a Cosmos LOCAL operator: report the build's result for this task's nodes instead of running dbt.

    ``unique_ids`` (the task's node and the tests that run with it) and the build task are set once the group is
    rendered (``watch``). Under the scheduler the task starts in ``BuildResultTrigger``; ``execute`` is the same
    logic for runs without a triggerer (``airflow dags test``): it reschedules itself while the build runs.
    """

    start_from_trigger = True
    dbt_unique_id: str = ""
    unique_ids: list[str]
    build_task_id: str

    def watch(self, build_task_id: str, unique_ids: list[str]) -> None:
        self.build_task_id = build_task_id
        self.unique_ids = list(unique_ids)
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=f"{BuildResultTrigger.__module__}.{BuildResultTrigger.__qualname__}",
            trigger_kwargs={"unique_ids": self.unique_ids, "build_task_id": build_task_id},
            next_method="run_dbt_after_trigger",
            next_kwargs=None,
            timeout=self.execution_timeout,  # type: ignore[attr-defined]
        )

    def execute(self, context: Context, **kwargs: Any) -> Any:
        ti = context["ti"]
        results, build_state = read_build(ti.dag_id, ti.run_id, self.build_task_id, self.unique_ids)
        verdict = judge(self.unique_ids, results, build_state, ti.try_number)
        if verdict.outcome is Outcome.WAIT:
            raise AirflowRescheduleException(datetime.now(UTC) + timedelta(seconds=POLL_SECONDS))
        return self._act(verdict, context, **kwargs)

    def run_dbt_after_trigger(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        self.log.info("%s", (event or {}).get("reason", "running dbt"))  # type: ignore[attr-defined]
        return self.run_dbt(context)

    def _act(self, verdict: Verdict, context: Context, **kwargs: Any) -> Any:
        for line in report_lines(verdict):
            self.log.info("%s", line)  # type: ignore[attr-defined]
        if verdict.outcome is Outcome.SUCCESS:
            return None
        if verdict.outcome is Outcome.FAILED:
            raise AirflowException(f"{verdict.reason}; the retry runs dbt for this task's nodes alone")
        if verdict.outcome is Outcome.SKIPPED:
            raise AirflowSkipException(verdict.reason)
        return self.run_dbt(context, **kwargs)

    def run_dbt(self, context: Context, **kwargs: Any) -> Any:
        return super().execute(context, **kwargs)  # type: ignore[misc]


class DbtNodeBuildOperator(_ReportsBuildResult, DbtBuildLocalOperator):
    """A model, seed or snapshot with its tests: reported from the build; re-run alone on retry."""

    def run_dbt(self, context: Context, **kwargs: Any) -> Any:
        # The node itself built fine and only a test failed: re-run the tests, not the model.
        ti = context["ti"]
        own = read_build(ti.dag_id, ti.run_id, self.build_task_id, [self.dbt_unique_id])[0][self.dbt_unique_id]
        if own is not None and own["status"] == "success":
            self.log.info("%s built in the dbt build: re-running its tests only", self.dbt_unique_id)
            self.base_cmd = ["test"]
        return super().run_dbt(context, **kwargs)


class DbtNodeTestOperator(_ReportsBuildResult, DbtTestLocalOperator):
    """Tests no built node's task covers (see ``plan_tasks``), in a task of their own."""


def node_converters(render_config: RenderConfig) -> dict[DbtResourceType, Callable[..., Any]]:
    """Cosmos ``RenderConfig.node_converters``: Cosmos's own task for each built node, as our reporting subclass.

    Tests have no converter: they run in the task of the node they test (``nodes_per_task``), so nothing is
    rendered detached (Cosmos passes a detached test's converter the wrong node, astronomer-cosmos 1.15.1).
    """

    def convert_node(**kwargs: Any) -> Any:
        return _convert(render_config=render_config, **kwargs)

    return {kind: convert_node for kind in (DbtResourceType.MODEL, DbtResourceType.SEED, DbtResourceType.SNAPSHOT)}


def _convert(
    *,
    render_config: RenderConfig,
    dag: Any,
    task_group: Any,
    node: DbtNode,
    task_id: str,
    task_args: dict[str, Any],
    execution_mode: Any,
    test_indirect_selection: Any,
    on_warning_callback: Any = None,
    detached_from_parent: dict[str, list[DbtNode]] | None = None,
    **_: Any,
) -> Any:
    metadata = create_task_metadata(
        node=node, execution_mode=execution_mode, args=task_args, render_config=render_config,
        dbt_dag_task_group_identifier="__".join(filter(None, [dag.dag_id, getattr(task_group, "group_id", None)])),
        test_indirect_selection=test_indirect_selection, on_warning_callback=on_warning_callback,
        detached_from_parent=detached_from_parent,
    )  # fmt: skip
    if metadata is None:
        return None
    metadata.operator_class = f"{DbtNodeBuildOperator.__module__}.{DbtNodeBuildOperator.__qualname__}"
    task = get_airflow_task(metadata, dag, task_group)
    task.dbt_unique_id = node.unique_id
    return task


def add_build_task(
    group: Any, *, select: list[str], exclude: list[str], threads: int, **kwargs: Any
) -> DbtBuildProducer:
    """Add the ``dbt build`` task to a rendered group, the test tasks of ``plan_tasks``, and point every node task
    at the build.

    The build task is a leaf of the group, so whatever follows the group waits for it: if dbt cannot run at all,
    the build task fails and everything after the group is upstream_failed, while the node tasks skip.
    """
    graph = group.dbt_graph.filtered_nodes
    nodes = {uid: Node(str(n.resource_type.value), tuple(n.depends_on), n.resource_name) for uid, n in graph.items()}
    node_tasks = {task.dbt_unique_id: task for task in group.children.values() if isinstance(task, _ReportsBuildResult)}
    plan = plan_tasks(nodes, node_tasks)
    watching = {uid: (task, plan.per_task.get(uid, [uid])) for uid, task in node_tasks.items()}
    for extra in plan.extra:
        task = DbtNodeTestOperator(
            task_id=extra.task_id, task_group=group, select=extra.select, exclude=" ".join(exclude), **kwargs
        )
        task.dbt_unique_id = extra.unique_ids[0]
        [node_tasks[uid] for uid in extra.after] >> task
        task >> [node_tasks[uid] for uid in extra.before]
        watching[extra.task_id] = (task, list(extra.unique_ids))
    seeds = {
        uid: (node.checksum or "", plan.per_task.get(uid, [uid]))
        for uid, node in graph.items()
        if node.resource_type == DbtResourceType.SEED and uid in node_tasks
    }
    build = DbtBuildProducer(
        task_id=BUILD_TASK_ID,
        task_group=group,
        select=" ".join(select),
        exclude=" ".join(exclude),
        threads=threads,
        reported_ids=sorted(plan.reported),
        seeds=seeds,
        change_scope="__".join(filter(None, [group.dag.dag_id if group.dag else None, group.group_id])),
        node_task_ids={uid: task.task_id for uid, task in node_tasks.items()},
        # The group's Cosmos cache, as Cosmos gives its own node tasks: the build then starts from the partial parse
        # file the last build left there (dbt re-parses only what changed) and leaves its own for the next one.
        # Without it every build parsed the whole project again.
        cache_dir=group.dbt_graph.cache_dir,
        **kwargs,
    )
    for task, unique_ids in watching.values():
        task.watch(build.task_id, unique_ids)
    return build
