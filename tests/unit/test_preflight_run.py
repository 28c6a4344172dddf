"""How checks read and what the command and the DAG's tasks do with them; the dbt manifest's promises."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from include.preflight import __main__ as cli
from include.preflight import run as runner
from include.preflight.checks import Check, Status, failed, passed, skipped, summary
from include.preflight.dbt_manifest import load_mart_promises, mart_promises, table_key

OK = passed("S3", "landing bucket landing", "put, listed and deleted")
BROKEN = failed("Salesforce", "Contact fields", "Workspace_Id__c is missing", "create the custom field")


def test_a_line_is_one_mark_the_check_and_for_a_failure_its_fix() -> None:
    assert OK.line() == "✓ S3: landing bucket landing: put, listed and deleted"
    assert BROKEN.line() == "✗ Salesforce: Contact fields: Workspace_Id__c is missing → fix: create the custom field"
    assert skipped("Hightouch", "sync x", "not checked").line() == "- Hightouch: sync x: not checked"


def test_a_failure_without_a_fix_is_refused() -> None:
    with pytest.raises(ValueError, match="must say how to fix it"):
        Check("S3", "x", Status.FAILED, "broken")


def test_the_summary_counts_each_outcome() -> None:
    assert summary([OK, BROKEN]) == "2 checks: 1 passed, 1 failed"
    assert summary([OK, skipped("a", "b", "c")]) == "2 checks: 1 passed, 0 failed, 1 skipped"


@pytest.fixture
def fake_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Check]]]:
    results = {"s3": [OK], "snowflake": [OK], "salesforce": [BROKEN], "hightouch": [OK]}
    monkeypatch.setattr(runner, "service_checks", lambda service: results[service])
    monkeypatch.setenv("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")  # the command quiets logging for its process
    yield results
    logging.disable(logging.NOTSET)


def test_the_command_prints_every_line_and_exits_1_on_any_failure(fake_services, capsys) -> None:
    assert cli.main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [OK.line(), OK.line(), BROKEN.line(), OK.line(), "4 checks: 3 passed, 1 failed"]


def test_the_command_exits_0_when_every_check_passes(fake_services, capsys) -> None:
    assert cli.main(["--only", "s3,hightouch"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 checks: 2 passed, 0 failed"


def test_an_unknown_service_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--only", "s4"])
    assert exit_info.value.code == 2
    assert "unknown service(s) s4" in capsys.readouterr().err


def test_a_task_fails_without_retry_on_a_failed_check_and_returns_the_lines_otherwise(fake_services) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    assert runner.run_in_task("s3") == [OK.line()]
    with pytest.raises(AirflowFailException, match="Workspace_Id__c is missing"):
        runner.run_in_task("salesforce")


# --- the dbt manifest ------------------------------------------------------------------------------------------


def test_tables_are_keyed_by_schema_and_table() -> None:
    assert table_key("ANALYTICS.MARTS.SYNC_X") == table_key('"marts"."sync_x"') == "MARTS.SYNC_X"


def test_promises_come_from_contracts_and_enabled_accepted_values_tests() -> None:
    manifest = {
        "nodes": {
            "model.p.sync_x": {
                "resource_type": "model",
                "schema": "MARTS",
                "name": "sync_x",
                "alias": "sync_x",
                "columns": {"kind": {"data_type": "varchar"}, "amount": {"data_type": "number(12, 2)"}},
            },
            "test.p.accepted_kind": {
                "resource_type": "test",
                "attached_node": "model.p.sync_x",
                "config": {"enabled": True},
                "test_metadata": {"name": "accepted_values", "kwargs": {"column_name": "kind", "values": ["A", "B"]}},
            },
            "test.p.disabled": {
                "resource_type": "test",
                "attached_node": "model.p.sync_x",
                "config": {"enabled": False},
                "test_metadata": {"name": "accepted_values", "kwargs": {"column_name": "amount", "values": [1]}},
            },
        }
    }
    promises = mart_promises(manifest)
    assert promises.contract_type("ANALYTICS.MARTS.SYNC_X", "KIND") == "varchar"
    assert promises.values("ANALYTICS.MARTS.SYNC_X", "kind") == ("A", "B")
    assert promises.values("ANALYTICS.MARTS.SYNC_X", "amount") is None


def test_the_promises_come_from_the_projects_manifest() -> None:
    assert load_mart_promises().values("ANALYTICS.MARTS.SYNC_SALESFORCE_CONTACTS", "LEAD_SOURCE") == ("Product Signup",)


def test_a_missing_manifest_says_how_to_build_it(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="make setup"):
        load_mart_promises(tmp_path / "manifest.json")
