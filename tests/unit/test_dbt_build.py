"""The dbt group of activate_salesforce: one `dbt build` task, and every dbt node stood for by exactly one task.

Rules checked across the rendered DAG, the dbt project and the build task, so a fork that adds models, tests or a
relationships test between two marts keeps a task that shows each node's result.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from include.transform.build_results import FAILURE_STATUSES
from include.transform.cosmos_config import ACTIVATION_EXCLUDE, ACTIVATION_SELECT
from include.transform.dbt_build import (
    BUILD_TASK_ID,
    PROGRESS_KEY,
    BuildResultTrigger,
    DbtBuildProducer,
    result_key,
)

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "activate_salesforce.py"), safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["activate_salesforce"]


@pytest.fixture(scope="module")
def group(dag):
    return dag.task_group_dict["transform"]


def _node_tasks(dag) -> list[Any]:
    return [task for task in dag.tasks if hasattr(task, "unique_ids")]


def test_every_rendered_dbt_node_is_stood_for_by_exactly_one_task(dag, group) -> None:
    rendered = {uid for uid, node in group.dbt_graph.filtered_nodes.items() if node.resource_type.value != "source"}
    stood_for = [uid for task in _node_tasks(dag) for uid in task.unique_ids]
    assert sorted(stood_for) == sorted(set(stood_for)), "a node is reported by two tasks"
    assert set(stood_for) == rendered


def test_the_build_task_builds_the_rendered_selection_and_knows_every_reported_node(dag) -> None:
    build = dag.task_dict[f"transform.{BUILD_TASK_ID}"]
    assert isinstance(build, DbtBuildProducer)
    assert (build.select, build.exclude) == (" ".join(ACTIVATION_SELECT), " ".join(ACTIVATION_EXCLUDE))
    assert build.reported_ids == {uid for task in _node_tasks(dag) for uid in task.unique_ids}


def test_the_build_task_parses_from_the_groups_cosmos_cache_like_the_node_tasks(dag, group) -> None:
    """A build starts from the partial parse file the last one left in the group's cache (dbt then re-parses only
    what changed), as Cosmos's own tasks of the group do."""
    build = dag.task_dict[f"transform.{BUILD_TASK_ID}"]
    assert build.partial_parse
    assert build.cache_dir is not None
    assert build.cache_dir == group.dbt_graph.cache_dir == _node_tasks(dag)[0].cache_dir


def test_every_node_task_starts_in_the_triggerer_watching_the_build(dag) -> None:
    for task in _node_tasks(dag):
        args = task.start_trigger_args
        assert task.start_from_trigger, task.task_id
        assert args.trigger_cls == f"{BuildResultTrigger.__module__}.{BuildResultTrigger.__qualname__}"
        assert args.trigger_kwargs == {"unique_ids": task.unique_ids, "build_task_id": f"transform.{BUILD_TASK_ID}"}
        assert callable(getattr(task, args.next_method)), task.task_id
        assert task.retries >= 1, f"{task.task_id}: its retry is how a fixed failure is re-checked"


def test_a_node_task_waits_for_the_tasks_of_every_node_it_tests(dag, group) -> None:
    nodes = group.dbt_graph.filtered_nodes
    task_of = {uid: task for task in _node_tasks(dag) for uid in task.unique_ids}
    for task in _node_tasks(dag):
        for uid in task.unique_ids:
            for parent in nodes[uid].depends_on:
                if parent in task_of and task_of[parent] is not task:
                    assert task_of[parent].task_id in task.get_flat_relative_ids(upstream=True), (task.task_id, parent)


def test_nothing_after_the_group_starts_before_the_build_task_ended(dag) -> None:
    build_id = f"transform.{BUILD_TASK_ID}"
    assert dag.task_dict[build_id].downstream_task_ids - {t for t in dag.task_ids if t.startswith("transform.")}
    for task in dag.tasks:
        if task.task_id.startswith("sync_"):
            assert build_id in task.get_flat_relative_ids(upstream=True), task.task_id


class _TaskInstance:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed.append((key, json.loads(json.dumps(value))))


def _line(name: str, msg: str, uid: str | None = None, status: str | None = None) -> str:
    data = {"node_info": {"unique_id": uid, "node_status": status}} if uid else {}
    return json.dumps({"data": data, "info": {"name": name, "level": "info", "msg": msg}})


def _producer(reported: list[str]) -> tuple[DbtBuildProducer, _TaskInstance]:
    producer = DbtBuildProducer(
        task_id="dbt_build_probe", project_dir=str(DAGS), profile_config=None, threads=4, reported_ids=reported
    )
    ti = _TaskInstance()
    producer._ti = ti
    return producer, ti


def test_the_build_task_publishes_each_result_and_the_progress_as_dbt_reports_them() -> None:
    producer, ti = _producer(["model.p.a", "test.p.t"])
    producer._on_line(_line("LogModelResult", "1 of 2 OK created a", "model.p.a", "success"), {})
    assert ti.pushed == [
        (result_key("model.p.a"), {"unique_id": "model.p.a", "status": "success", "lines": ["1 of 2 OK created a"]}),
        (PROGRESS_KEY, {"model.p.a": "success"}),
    ]


def test_a_failed_node_with_a_task_of_its_own_leaves_the_build_task_green() -> None:
    producer, ti = _producer(["model.p.a", "test.p.t"])
    producer._on_line(_line("LogTestResult", "2 of 2 FAIL 1 t", "test.p.t", "fail"), {})
    assert ti.pushed == [], "a failure waits for dbt's summary"
    producer.handle_exception_subprocess(SimpleNamespace(exit_code=1, full_output=[]))
    assert ti.pushed[-1] == (PROGRESS_KEY, {"test.p.t": "fail"})
    assert ti.pushed[0][1]["status"] in FAILURE_STATUSES


def test_the_build_task_fails_when_a_node_no_task_stands_for_failed() -> None:
    from airflow.sdk.exceptions import AirflowException

    producer, _ = _producer(["model.p.a"])
    producer._on_line(_line("LogTestResult", "1 of 1 FAIL 1 source_test", "test.p.on_a_source", "fail"), {})
    with pytest.raises(AirflowException, match=r"test\.p\.on_a_source"):
        producer.handle_exception_subprocess(SimpleNamespace(exit_code=1, full_output=[]))


@pytest.mark.parametrize("exit_code", [1, 2])
def test_the_build_task_fails_when_dbt_failed_without_a_failed_node_to_show(exit_code: int) -> None:
    from airflow.sdk.exceptions import AirflowException

    producer, _ = _producer(["model.p.a"])
    with pytest.raises(AirflowException, match="non-zero exit code"):
        producer.handle_exception_subprocess(SimpleNamespace(exit_code=exit_code, full_output=["boom"]))


def _seeded_producer(monkeypatch, stored: dict[str, str]) -> tuple[DbtBuildProducer, _TaskInstance]:
    import cosmos.cache

    monkeypatch.setattr(cosmos.cache, "get_cache_seed_checksum", lambda scope, uid: stored.get(uid))
    monkeypatch.setattr(cosmos.cache, "store_cache_seed_checksum", lambda scope, uid, c: stored.__setitem__(uid, c))
    producer = DbtBuildProducer(
        task_id="dbt_build_seeds", project_dir=str(DAGS), profile_config=None, threads=4, exclude="path:x",
        reported_ids=["seed.p.prices", "test.p.prices_unique", "seed.p.roster"],
        seeds={"seed.p.prices": ("new", ["seed.p.prices", "test.p.prices_unique"]),
               "seed.p.roster": ("r1", ["seed.p.roster"])},
        change_scope="activate_salesforce__transform",
    )  # fmt: skip
    ti = _TaskInstance()
    producer._ti = ti
    return producer, ti


def test_a_seed_unchanged_since_its_last_load_is_not_reloaded_and_its_task_is_told(monkeypatch) -> None:
    producer, ti = _seeded_producer(monkeypatch, {"seed.p.prices": "new", "seed.p.roster": "old"})
    assert producer._unchanged_seeds() == ["seed.p.prices"]
    producer.exclude = " ".join([producer.exclude, "prices"])  # what execute() does before dbt runs
    from include.transform.dbt_build import _unchanged_seed_results

    producer._publish(_unchanged_seed_results("seed.p.prices", ["seed.p.prices", "test.p.prices_unique"]))
    assert dict(ti.pushed)[PROGRESS_KEY] == {"seed.p.prices": "no-op", "test.p.prices_unique": "no-op"}


def test_a_seed_is_remembered_only_when_it_loaded_and_its_tests_passed(monkeypatch) -> None:
    stored: dict[str, str] = {}
    producer, _ = _seeded_producer(monkeypatch, stored)
    producer._on_line(_line("LogSeedResult", "OK loaded prices", "seed.p.prices", "success"), {})
    producer._on_line(_line("LogTestResult", "FAIL 1 prices_unique", "test.p.prices_unique", "fail"), {})
    producer._on_line(_line("LogSeedResult", "OK loaded roster", "seed.p.roster", "success"), {})
    producer.handle_exception_subprocess(SimpleNamespace(exit_code=1, full_output=[]))
    producer._remember_loaded_seeds()
    assert stored == {"seed.p.roster": "r1"}, "prices' test failed: it must load (and be tested) again next run"


# --- node tasks waiting on the build: one shared read per poll --------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _counting_reader(state: str | None = "running") -> tuple[list[tuple[str, str, str]], Any]:
    from include.transform.dbt_build import BuildSnapshot

    calls: list[tuple[str, str, str]] = []

    def read(dag_id: str, run_id: str, build_task_id: str) -> BuildSnapshot:
        calls.append((dag_id, run_id, build_task_id))
        return BuildSnapshot(state, {"model.p.a": "success"})

    return calls, read


def test_every_trigger_of_a_run_shares_one_read_per_poll() -> None:
    import asyncio

    from include.transform.dbt_build import SharedSnapshots

    calls, read = _counting_reader()
    clock = _Clock()
    shared = SharedSnapshots(read, clock=clock)

    async def poll_twice() -> None:
        for _ in range(2):
            snapshots = await asyncio.gather(*(shared.get("d", "r1", "b", max_age=1.0) for _ in range(20)))
            assert {s.progress["model.p.a"] for s in snapshots} == {"success"}
            await shared.get("d", "r2", "b", max_age=1.0)  # another run of the DAG reads its own
            clock.now += 1.0

    asyncio.run(poll_twice())
    assert calls == [("d", "r1", "b"), ("d", "r2", "b")] * 2


def test_a_failed_read_is_not_shared_with_the_next_poll() -> None:
    import asyncio

    from include.transform.dbt_build import BuildSnapshot, SharedSnapshots

    answers: list[Any] = [ConnectionError("API server restarting"), BuildSnapshot("success", {})]

    def read(*_: str) -> BuildSnapshot:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    shared = SharedSnapshots(read, clock=_Clock())

    async def poll() -> BuildSnapshot:
        return await shared.get("d", "r", "b", max_age=60.0)

    with pytest.raises(ConnectionError):
        asyncio.run(poll())
    assert asyncio.run(poll()).build_state == "success"


def test_the_build_state_is_read_before_its_progress(monkeypatch) -> None:
    """A build that ends between the two reads: its progress, read second, is already final. (Read the other way
    round, its last node looked missing from a finished build, and its task ran dbt again.)"""
    from airflow.sdk.execution_time import task_runner, xcom

    from include.transform.build_results import Outcome, judge
    from include.transform.dbt_build import read_build

    final = {PROGRESS_KEY: {"model.p.a": "success"},
             result_key("model.p.a"): {"unique_id": "model.p.a", "status": "success", "lines": []}}  # fmt: skip
    build: dict[str, Any] = {"state": "running", "xcoms": {}}

    def then_the_build_ends(answer: Any) -> Any:
        build.update(state="success", xcoms=final)  # dbt reports the last node, the build task ends
        return answer

    monkeypatch.setattr(
        task_runner.RuntimeTaskInstance, "get_task_states",
        staticmethod(lambda **_: then_the_build_ends({"r": {"b": build["state"]}})),
    )  # fmt: skip
    monkeypatch.setattr(
        xcom.XCom, "get_one", classmethod(lambda cls, *, key, **_: then_the_build_ends(build["xcoms"].get(key)))
    )
    results, state = read_build("d", "r", "b", ["model.p.a"])
    assert judge(["model.p.a"], results, state, try_number=1).outcome is Outcome.SUCCESS
