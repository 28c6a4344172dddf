"""One dbt build's structured log, read into per-node results and per-task verdicts (no Airflow, no dbt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.transform.build_results import (
    BuildLog,
    ExtraTask,
    Node,
    NodeResult,
    Outcome,
    judge,
    nodes_per_task,
    parse_log_line,
    plan_tasks,
    report_lines,
)

MODEL = "model.shop.stg_orders"
TEST = "test.shop.not_null_stg_orders_id.1a2b"
OTHER_TEST = "test.shop.unique_stg_orders_id.3c4d"


def line(name: str, msg: str, uid: str | None = None, status: str | None = None, level: str = "info") -> str:
    """A line as dbt-core 1.11 writes it with --log-format json (fields trimmed to the ones read)."""
    data = {"node_info": {"unique_id": uid, "node_status": status}} if uid else {}
    return json.dumps({"data": data, "info": {"name": name, "level": level, "msg": msg, "ts": "2026-11-30T08:13:04Z"}})


def result(uid: str, status: str) -> NodeResult:
    return NodeResult(unique_id=uid, status=status, lines=[f"{uid} {status}"])


def test_a_dbt_json_line_becomes_an_event_and_anything_else_is_ignored() -> None:
    event = parse_log_line(line("LogTestResult", "1 of 2 PASS not_null", TEST, "pass"))
    assert event is not None
    assert (event.name, event.unique_id, event.node_status, event.ends_node) == ("LogTestResult", TEST, "pass", True)
    assert parse_log_line("  warnings.warn(") is None
    assert parse_log_line('["a list"]') is None
    started = parse_log_line(line("LogStartLine", "1 of 2 START", MODEL, "started"))
    assert started is not None
    assert not started.ends_node


def test_a_passing_node_is_published_as_soon_as_dbt_reports_it_with_its_own_lines() -> None:
    build = BuildLog()
    start = line("LogStartLine", "1 of 2 START sql view model stg_orders", MODEL, "started")
    assert build.feed(parse_log_line(start)) == []
    assert build.feed(parse_log_line(line("MainReportVersion", "Running with dbt=1.11"))) == []
    ready = build.feed(parse_log_line(line("LogModelResult", "1 of 2 OK created stg_orders", MODEL, "success")))
    assert ready == [
        {"unique_id": MODEL, "status": "success",
         "lines": ["1 of 2 START sql view model stg_orders", "1 of 2 OK created stg_orders"]}
    ]  # fmt: skip


def test_a_failure_waits_for_the_summary_and_carries_its_details_and_the_failing_sql(tmp_path: Path) -> None:
    compiled = tmp_path / "target" / "compiled" / "not_null.sql"
    compiled.parent.mkdir(parents=True)
    compiled.write_text("select * from stg_orders where id is null\n")
    build = BuildLog(project_dir=tmp_path)
    assert build.feed(parse_log_line(line("LogTestResult", "2 of 2 FAIL 3 not_null", TEST, "fail", "error"))) == []
    for name, msg in [
        ("RunResultFailure", "Failure in test not_null (models/_orders.yml)"),
        ("RunResultError", "  Got 3 results, configured to fail if != 0"),
        ("SQLCompiledPath", "  compiled code at target/compiled/not_null.sql"),
    ]:
        assert build.feed(parse_log_line(line(name, msg, TEST, "None", "error"))) == []
    [failure] = build.finish()
    assert failure["status"] == "fail"
    assert "  Got 3 results, configured to fail if != 0" in failure["lines"]
    assert any("select * from stg_orders where id is null" in text for text in failure["lines"])
    assert build.failures == [failure]


def test_a_node_dbt_skipped_is_published_at_once_and_reported_once() -> None:
    build = BuildLog()
    skip = parse_log_line(line("SkippingDetails", "3 of 9 SKIP relation int_orders", MODEL, "skipped"))
    assert [r["status"] for r in build.feed(skip)] == ["skipped"]
    assert build.feed(skip) == []


def test_a_retry_always_runs_dbt_for_its_nodes() -> None:
    verdict = judge([MODEL, TEST], {MODEL: result(MODEL, "success"), TEST: result(TEST, "pass")}, "success", 2)
    assert verdict.outcome is Outcome.RUN_DBT


def test_while_the_build_runs_a_task_with_missing_results_waits() -> None:
    verdict = judge([MODEL, TEST], {MODEL: result(MODEL, "success"), TEST: None}, "running", 1)
    assert verdict.outcome is Outcome.WAIT
    assert judge([MODEL], {MODEL: None}, "up_for_retry", 1).outcome is Outcome.WAIT


@pytest.mark.parametrize("state", ["failed", "upstream_failed", "skipped"])
def test_when_the_build_task_ended_without_running_the_nodes_the_task_skips(state: str) -> None:
    verdict = judge([MODEL, TEST], {MODEL: None, TEST: None}, state, 1)
    assert verdict.outcome is Outcome.SKIPPED
    assert state in verdict.reason


def test_nodes_the_successful_build_did_not_report_are_run_by_the_task_itself() -> None:
    verdict = judge([MODEL, TEST], {MODEL: result(MODEL, "success"), TEST: None}, "success", 1)
    assert verdict.outcome is Outcome.RUN_DBT
    assert TEST in verdict.reason


@pytest.mark.parametrize("status", ["pass", "warn", "success"])
def test_every_node_passed_or_warned_means_success(status: str) -> None:
    verdict = judge([MODEL, TEST], {MODEL: result(MODEL, "success"), TEST: result(TEST, status)}, "running", 1)
    assert verdict.outcome is Outcome.SUCCESS


@pytest.mark.parametrize("status", ["fail", "error", "runtime error"])
def test_one_failed_node_fails_the_task_and_names_it(status: str) -> None:
    results = {MODEL: result(MODEL, "success"), TEST: result(TEST, status), OTHER_TEST: result(OTHER_TEST, "pass")}
    verdict = judge([MODEL, TEST, OTHER_TEST], results, "success", 1)
    assert verdict.outcome is Outcome.FAILED
    assert TEST in verdict.reason
    assert OTHER_TEST not in verdict.reason
    lines = report_lines(verdict)
    assert f"{TEST}: {status}" in lines
    assert f"    {TEST} {status}" in lines


def test_nodes_dbt_skipped_skip_the_task() -> None:
    verdict = judge([MODEL, TEST], {MODEL: result(MODEL, "skipped"), TEST: result(TEST, "skipped")}, "success", 1)
    assert verdict.outcome is Outcome.SKIPPED


def test_a_task_stands_for_its_node_and_the_tests_dbt_build_selects_with_it() -> None:
    depends_on = {
        "seed.shop.prices": [],
        "model.shop.stg_orders": [],
        "model.shop.orders": ["model.shop.stg_orders", "seed.shop.prices"],
        "model.shop.customers": ["model.shop.stg_orders"],
        "test.shop.not_null_orders_id": ["model.shop.orders"],
        # relationships to an upstream node: runs with the downstream one, after both
        "test.shop.relationships_orders_price": ["model.shop.orders", "seed.shop.prices"],
        # between two siblings: neither task's `dbt build --select` covers it
        "test.shop.relationships_orders_customer": ["model.shop.orders", "model.shop.customers"],
    }
    tests = [uid for uid in depends_on if uid.startswith("test.")]
    per_task = nodes_per_task(depends_on, tests)
    assert per_task["model.shop.orders"] == [
        "model.shop.orders", "test.shop.not_null_orders_id", "test.shop.relationships_orders_price"
    ]  # fmt: skip
    assert per_task["seed.shop.prices"] == ["seed.shop.prices"]
    assert per_task["model.shop.customers"] == ["model.shop.customers"]
    assert not any("relationships_orders_customer" in uid for uids in per_task.values() for uid in uids)


def test_the_plan_gives_tests_no_node_task_covers_a_task_of_their_own() -> None:
    nodes = {
        "source.shop.raw.orders": Node("source", (), "raw.orders"),
        "model.shop.stg_orders": Node("model", ("source.shop.raw.orders",), "stg_orders"),
        "model.shop.orders": Node("model", ("model.shop.stg_orders",), "orders"),
        "model.shop.customers": Node("model", ("model.shop.stg_orders",), "customers"),
        "test.shop.not_null_orders_id.1": Node("test", ("model.shop.orders",), "not_null_orders_id"),
        "test.shop.relationships_orders_customer.2": Node(
            "test", ("model.shop.orders", "model.shop.customers"), "relationships_orders_customer"
        ),
        "test.shop.source_not_null_raw_orders_id.3": Node("test", ("source.shop.raw.orders",), "source_not_null"),
        "test.shop.source_unique_raw_orders_id.4": Node("test", ("source.shop.raw.orders",), "source_unique"),
        # a source upstream of the model: the model's task runs it (dbt's buildable selection)
        "test.shop.orders_match_raw.5": Node("test", ("source.shop.raw.orders", "model.shop.orders"), "match_raw"),
        "source.shop.raw.refunds": Node("source", (), "raw.refunds"),
        "test.shop.refunds_match_orders.6": Node(
            "test", ("source.shop.raw.refunds", "model.shop.orders"), "refunds_match_orders"
        ),
    }
    plan = plan_tasks(nodes, ["model.shop.stg_orders", "model.shop.orders", "model.shop.customers"])
    assert plan.per_task["model.shop.orders"] == [
        "model.shop.orders", "test.shop.not_null_orders_id.1", "test.shop.orders_match_raw.5"
    ]  # fmt: skip
    detached, source = plan.extra
    assert detached == ExtraTask(
        "relationships_orders_customer_test", "relationships_orders_customer",
        ("test.shop.relationships_orders_customer.2",), ("model.shop.orders", "model.shop.customers"), (),
    )  # fmt: skip
    assert source == ExtraTask(
        "raw_orders_source_test", "source:raw.orders",
        ("test.shop.source_not_null_raw_orders_id.3", "test.shop.source_unique_raw_orders_id.4"),
        (), ("model.shop.stg_orders",),
    )  # fmt: skip
    # a source no built node reads: no task can run the test after both, so the build task answers for it
    assert "test.shop.refunds_match_orders.6" not in plan.reported
