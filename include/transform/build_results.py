"""What one ``dbt build`` says about each node, and what that means for the Airflow task that stands for it.

Pure functions over dbt's structured log (``--log-format json``, one JSON object per line): no Airflow, no dbt,
no network, so the rules are unit-tested on their own (tests/unit/test_build_results.py). The operators in
``include/transform/dbt_build.py`` do the I/O: they feed lines in, publish results as XComs and act on verdicts.

The event names and fields are dbt-core's (``dbt/events/core_types.proto``): every node-scoped event carries
``data.node_info`` with the node's ``unique_id`` and ``node_status``; a node's result line (``LogModelResult``,
``LogTestResult``, ``SkippingDetails``, ...) carries its final status; the run summary at the end repeats each
failure with its details (``RunResultError``, ``SQLCompiledPath``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypedDict

# dbt's NodeStatus values that end a node (dbt/artifacts/schemas/results.py).
SUCCESS_STATUSES = frozenset({"success", "pass", "warn", "no-op"})
FAILURE_STATUSES = frozenset({"error", "fail", "runtime error", "partial success"})
SKIPPED_STATUSES = frozenset({"skipped"})
TERMINAL_STATUSES = SUCCESS_STATUSES | FAILURE_STATUSES | SKIPPED_STATUSES

# Airflow task states in which the build task will publish nothing more.
FINISHED_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})

# The failing SQL goes into the culprit's log so it can be run by hand; more than this is cut.
MAX_COMPILED_SQL_CHARS = 4000


class NodeResult(TypedDict):
    """One dbt node's outcome in the build, as published for its Airflow task."""

    unique_id: str
    status: str
    lines: list[str]


@dataclass(frozen=True)
class LogEvent:
    """The parts of one structured dbt log line the build and its tasks use."""

    name: str
    level: str
    message: str
    unique_id: str | None = None
    node_status: str | None = None

    @property
    def ends_node(self) -> bool:
        return self.unique_id is not None and self.node_status in TERMINAL_STATUSES


def parse_log_line(line: str) -> LogEvent | None:
    """A dbt JSON log line as an event; None for anything else (warnings a library prints to stdout)."""
    try:
        payload = json.loads(line)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("info"), dict):
        return None
    info = payload["info"]
    node = (payload.get("data") or {}).get("node_info") or {}
    return LogEvent(
        name=str(info.get("name", "")),
        level=str(info.get("level", "info")),
        message=str(info.get("msg", "")),
        unique_id=node.get("unique_id") or None,
        node_status=node.get("node_status") or None,
    )


@dataclass
class BuildLog:
    """Follows one ``dbt build`` line by line and says when a node's result is ready to publish.

    A node that succeeded or was skipped is ready as soon as its result line arrives, so its task can finish
    while dbt builds the rest. A failed node waits for the end of the build, where dbt's summary repeats the
    failure with its details (the database error, the failing test's row count and compiled SQL): the culprit's
    task must show those, and nothing downstream of a failure can start before the build ends anyway.
    """

    project_dir: Path | None = None
    lines: dict[str, list[str]] = field(default_factory=dict)
    results: dict[str, NodeResult] = field(default_factory=dict)
    held: dict[str, NodeResult] = field(default_factory=dict)

    def feed(self, event: LogEvent) -> list[NodeResult]:
        """Record one event; return the results that became ready with it."""
        if event.unique_id is None:
            return []
        uid = event.unique_id
        text = self._text(event)
        if text:
            self.lines.setdefault(uid, []).append(text)
        if not event.ends_node or uid in self.results or uid in self.held:
            return []
        result = NodeResult(unique_id=uid, status=str(event.node_status), lines=list(self.lines.get(uid, [])))
        if result["status"] in FAILURE_STATUSES:
            self.held[uid] = result
            return []
        self.results[uid] = result
        return [result]

    def finish(self) -> list[NodeResult]:
        """The end of the build: the failures, now with the summary's details."""
        released = [
            NodeResult(unique_id=uid, status=r["status"], lines=list(self.lines[uid])) for uid, r in self.held.items()
        ]
        self.results.update({r["unique_id"]: r for r in released})
        self.held = {}
        return released

    @property
    def failures(self) -> list[NodeResult]:
        return [r for r in self.results.values() if r["status"] in FAILURE_STATUSES]

    def _text(self, event: LogEvent) -> str:
        if event.name == "SQLCompiledPath" and self.project_dir is not None:
            return event.message + _compiled_sql(self.project_dir, event.message)
        return event.message.rstrip()


def _compiled_sql(project_dir: Path, message: str) -> str:
    """The compiled SQL a ``SQLCompiledPath`` line points at, read while the build's project copy still exists."""
    path = Path(message.split("compiled code at", 1)[-1].strip())
    if not path.is_absolute():
        path = project_dir / path
    try:
        sql = path.read_text()
    except OSError:
        return ""
    if len(sql) > MAX_COMPILED_SQL_CHARS:
        sql = sql[:MAX_COMPILED_SQL_CHARS] + "\n  ... (cut)"
    return "\n" + sql.strip()


class Outcome(StrEnum):
    """What a node's task does with what the build published so far."""

    WAIT = "wait"  # the build has not reported every node of the task yet
    SUCCESS = "success"  # every node passed: the task succeeds without running dbt
    FAILED = "failed"  # a node failed in the build: the task fails (its retry runs dbt for it alone)
    SKIPPED = "skipped"  # the build ended without running these nodes: nothing to report on
    RUN_DBT = "run_dbt"  # run dbt for the task's nodes itself (a retry, or the build did not cover them)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    results: tuple[NodeResult, ...] = ()


def judge(
    unique_ids: Sequence[str],
    results: Mapping[str, NodeResult | None],
    build_state: str | None,
    try_number: int,
) -> Verdict:
    """The verdict for a task standing for ``unique_ids`` (a model or seed and its tests, or one test).

    ``results`` holds what the build published for each of those nodes (None: nothing yet); ``build_state`` is
    the Airflow state of the build task. A retry (``try_number`` > 1, or a task cleared by hand) always runs dbt:
    that is how a failed node is re-checked once its cause is fixed.
    """
    if try_number > 1:
        return Verdict(Outcome.RUN_DBT, f"try {try_number}: running dbt for this task's nodes")
    known = tuple(r for uid in unique_ids if (r := results.get(uid)) is not None)
    missing = [uid for uid in unique_ids if results.get(uid) is None]
    if missing:
        if build_state in FINISHED_TASK_STATES:
            if build_state == "success":
                return Verdict(
                    Outcome.RUN_DBT, f"the build ended without a result for {', '.join(missing)}: running dbt", known
                )
            return Verdict(Outcome.SKIPPED, f"the dbt build task ended {build_state} before these nodes ran", known)
        return Verdict(Outcome.WAIT, f"waiting for {len(missing)} of {len(unique_ids)} node(s)", known)
    failed = [r["unique_id"] for r in known if r["status"] in FAILURE_STATUSES]
    if failed:
        return Verdict(Outcome.FAILED, f"failed in the build: {', '.join(failed)}", known)
    if all(r["status"] in SKIPPED_STATUSES for r in known):
        return Verdict(Outcome.SKIPPED, "dbt skipped these nodes (an upstream node failed)", known)
    return Verdict(Outcome.SUCCESS, f"{len(known)} node(s) passed in the build", known)


def report_lines(verdict: Verdict) -> list[str]:
    """What the task logs: each node's dbt output from the build, then the verdict."""
    lines: list[str] = []
    for result in verdict.results:
        lines.append(f"{result['unique_id']}: {result['status']}")
        lines.extend(f"    {line}" for line in result["lines"])
    lines.append(verdict.reason)
    return lines


@dataclass(frozen=True)
class Node:
    """What the task plan needs of a dbt node (Cosmos's DbtNode has more)."""

    resource_type: str  # model, seed, snapshot, test, source
    depends_on: tuple[str, ...]
    resource_name: str  # the selector name: ``stg_orders``, ``not_null_stg_orders_id``, ``shop.orders`` (a source)


@dataclass(frozen=True)
class ExtraTask:
    """A task for tests that no built node's task covers, with the tasks it waits for and the ones it gates."""

    task_id: str
    select: str  # what its retry runs: ``dbt test --select <select>``
    unique_ids: tuple[str, ...]
    after: tuple[str, ...]  # built nodes whose tasks run first
    before: tuple[str, ...]  # built nodes whose tasks wait for it


@dataclass(frozen=True)
class TaskPlan:
    per_task: dict[str, list[str]]  # built node -> the nodes its task stands for (itself and its tests)
    extra: tuple[ExtraTask, ...]

    @property
    def reported(self) -> frozenset[str]:
        return frozenset(uid for uids in self.per_task.values() for uid in uids) | frozenset(
            uid for task in self.extra for uid in task.unique_ids
        )


def plan_tasks(nodes: Mapping[str, Node], built: Iterable[str]) -> TaskPlan:
    """Which task stands for which dbt node, given the nodes Cosmos rendered a task for (``built``).

    - A built node's task stands for the node and the tests dbt selects with it (``nodes_per_task``).
    - A test between built nodes none of which is upstream of the others (two marts) gets a task of its own,
      after all of them, as Cosmos renders "detached" tests.
    - The tests of a source get one task per source, which the tasks of the nodes built from that source wait
      for: ``dbt build`` skips those nodes when a source test fails, and so does Airflow.
    Anything else (a test between a source and a model, say) has no task: the build task fails if it fails.
    """
    built = [uid for uid in built if uid in nodes]
    depends_on = {uid: node.depends_on for uid, node in nodes.items()}
    tests = [uid for uid, node in nodes.items() if node.resource_type == "test"]
    per_task = {uid: uids for uid, uids in nodes_per_task(depends_on, tests).items() if uid in set(built)}
    covered = {uid for uids in per_task.values() for uid in uids}
    extra: list[ExtraTask] = []
    source_tests: dict[str, list[str]] = {}
    for test in tests:
        parents = nodes[test].depends_on
        if test in covered or not parents:
            continue
        if all(parent in per_task for parent in parents):
            name = nodes[test].resource_name.split(".")[0]
            extra.append(ExtraTask(f"{name}_test", name, (test,), tuple(parents), ()))
        elif len(parents) == 1 and nodes.get(parents[0], Node("", (), "")).resource_type == "source":
            source_tests.setdefault(parents[0], []).append(test)
    for source, its_tests in sorted(source_tests.items()):
        name = nodes[source].resource_name
        readers = tuple(uid for uid in built if source in depends_on[uid])
        extra.append(ExtraTask(f"{name.replace('.', '_')}_source_test", f"source:{name}", tuple(its_tests), (),
                               readers))  # fmt: skip
    return TaskPlan(per_task, tuple(extra))


def nodes_per_task(depends_on: Mapping[str, Sequence[str]], tests: Iterable[str]) -> dict[str, list[str]]:
    """For each built node (model, seed, snapshot): the node and the tests its task stands for.

    The rule is dbt's ``--indirect-selection buildable``, the selection a task's retry runs
    (``dbt build --select <node>``): a test belongs to the task of a node it tests when every other node it
    tests is upstream of that one. So a relationships test from ``int_customers_routed_to_owners`` to
    ``stg_salesforce__users`` is ``int_customers_routed_to_owners``'s: it runs after both, and its failure stops
    what is built from ``int_customers_routed_to_owners``, as dbt build itself does. ``depends_on`` holds every
    node's parents; ``tests`` are the test nodes among them.
    """
    tests = set(tests)
    ancestors: dict[str, set[str]] = {}

    def upstream(uid: str) -> set[str]:
        if uid not in ancestors:
            ancestors[uid] = set()
            for parent in depends_on.get(uid, ()):
                ancestors[uid] |= {parent} | upstream(parent)
        return ancestors[uid]

    per_task = {uid: [uid] for uid in depends_on if uid not in tests}
    for test in sorted(tests):
        parents = set(depends_on.get(test, ()))
        for parent in sorted(parents & per_task.keys()):
            if parents - {parent} <= upstream(parent):
                per_task[parent].append(test)
    return per_task
