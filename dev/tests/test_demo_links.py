"""The links `make demo` prints: Airflow 3 UI routes for runs and failed tasks, the dbt docs view, API pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dev import dbt_docs, demo_links
from dev.demo import ACTIVATION, INGESTIONS, Made, failure_message, run_page_urls, where_to_look
from dev.localcloud.env import environment
from dev.localcloud.settings import load_settings

BASE = "http://localhost:8080"
RUN = "scheduled__2026-11-26T02:15:00+00:00"


def test_a_run_link_follows_the_ui_route_and_keeps_the_run_id_readable() -> None:
    assert demo_links.run_url(BASE, ACTIVATION, RUN) == f"{BASE}/dags/{ACTIVATION}/runs/{RUN}"
    assert demo_links.run_url(BASE + "/", "d", "r") == f"{BASE}/dags/d/runs/r"


@pytest.mark.parametrize(
    ("run_id", "encoded"),
    [
        ("manual run #2", "manual%20run%20%232"),
        ("asset_triggered__a/b?c", "asset_triggered__a%2Fb%3Fc"),
    ],
)
def test_a_run_id_that_is_not_url_safe_stays_one_path_segment(run_id: str, encoded: str) -> None:
    assert demo_links.run_url(BASE, "d", run_id) == f"{BASE}/dags/d/runs/{encoded}"


def test_a_task_link_has_the_mapped_index_only_for_a_mapped_instance() -> None:
    run = f"{BASE}/dags/d/runs/{RUN}"
    assert demo_links.task_url(BASE, "d", RUN, "sync_salesforce_contacts") == f"{run}/tasks/sync_salesforce_contacts"
    assert demo_links.task_url(BASE, "d", RUN, "t", map_index=0) == f"{run}/tasks/t/mapped/0"
    assert demo_links.task_url(BASE, "d", RUN, "t", map_index=3) == f"{run}/tasks/t/mapped/3"


def test_an_empty_id_is_refused() -> None:
    with pytest.raises(ValueError, match="empty id"):
        demo_links.run_url(BASE, "d", "")


def test_failed_tasks_come_first_then_those_they_stopped() -> None:
    instances = [
        {"task_id": "sync_b", "map_index": -1, "state": "upstream_failed"},
        {"task_id": "ok", "map_index": -1, "state": "success"},
        {"task_id": "waiting", "map_index": -1, "state": None},
        {"task_id": "load", "map_index": 2, "state": "failed"},
        {"task_id": "build", "map_index": -1, "state": "failed"},
    ]
    failed = demo_links.failed_tasks(instances)
    assert [(t.label, t.state) for t in failed] == [
        ("build", "failed"),
        ("load[2]", "failed"),
        ("sync_b", "upstream_failed"),
    ]


def test_a_failure_names_the_run_and_links_each_failed_task() -> None:
    message = failure_message(
        BASE, ACTIVATION, RUN, "failed", [{"task_id": "dbt_build", "map_index": -1, "state": "failed"}]
    )
    assert demo_links.run_url(BASE, ACTIVATION, RUN) in message
    assert demo_links.task_url(BASE, ACTIVATION, RUN, "dbt_build") in message
    assert "failed" in message


def test_an_external_view_without_a_route_is_reached_by_its_name() -> None:
    # The Airflow UI matches /plugin/:page against url_route, else the name lower-cased, first space -> "-".
    assert demo_links.plugin_page_url(BASE, "dbt Docs") == f"{BASE}/plugin/dbt-docs"


def test_api_pages_follow_the_configured_ports() -> None:
    settings = load_settings({"LOCALCLOUD_AIRFLOW_PORT": "13080", "LOCALCLOUD_HIGHTOUCH_PORT": "13002"})
    urls = {page.service: page.url for page in demo_links.api_pages(settings)}
    assert urls["Airflow REST API"] == "http://localhost:13080/docs"
    assert urls["Hightouch emulator"].endswith(":13002/docs")
    assert all(url.endswith("/docs") for url in urls.values())


def test_the_docs_setting_is_what_the_installed_cosmos_plugin_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from cosmos.plugin.airflow3 import _load_projects_from_conf

    monkeypatch.setenv("AIRFLOW__COSMOS__DBT_DOCS_PROJECTS", dbt_docs.cosmos_projects("s3://docs/dbt", "aws_landing"))
    projects = _load_projects_from_conf()
    assert projects[dbt_docs.SLUG]["dir"] == "s3://docs/dbt"
    assert projects[dbt_docs.SLUG]["conn_id"] == "aws_landing"
    assert projects[dbt_docs.SLUG]["name"] == dbt_docs.VIEW_NAME


def test_the_local_airflow_serves_the_docs_make_demo_writes(tmp_path: Path) -> None:
    settings = load_settings({"LOCALCLOUD_HOME": str(tmp_path), "LOCALCLOUD_AIRFLOW_PORT": "13080"})
    projects = json.loads(environment(settings)["AIRFLOW__COSMOS__DBT_DOCS_PROJECTS"])
    assert Path(projects[dbt_docs.SLUG]["dir"]) == dbt_docs.docs_dir(settings)
    assert "conn_id" not in projects[dbt_docs.SLUG]  # a local directory: no connection
    assert dbt_docs.site_url(BASE) == f"{BASE}/cosmos/{dbt_docs.SLUG}/dbt_docs_index.html"


def _runs() -> dict[str, str]:
    return {ACTIVATION: RUN, **{dag_id: f"scheduled__{dag_id}" for dag_id in INGESTIONS}}


def test_where_to_look_links_every_run_the_page_the_alerts_and_the_docs(tmp_path: Path) -> None:
    settings = load_settings({"LOCALCLOUD_HOME": str(tmp_path), "LOCALCLOUD_AIRFLOW_PORT": "13080"})
    base = "http://localhost:13080"
    page = run_page_urls(base, RUN)[0]
    (tmp_path / "localcloud.env").write_text(
        'AIRFLOW_CONN_ALERTS_WEBHOOK=\'{"conn_type":"slackwebhook","password":"http://127.0.0.1:1/hooks/k"}\'\n'
    )
    text = "\n".join(where_to_look(settings, _runs(), Made(docs=tmp_path / "dbt_docs", page=page)))
    for dag_id, run_id in _runs().items():
        assert demo_links.run_url(base, dag_id, run_id) in text
    assert f"Run page        {demo_links.run_url(base, ACTIVATION, RUN)}/plugin/activation_run_page" in text
    assert "Alerts          connection alerts_webhook -> http://127.0.0.1:1/hooks/k" in text
    assert f"{base}/plugin/dbt-docs" in text
    assert dbt_docs.site_url(base) in text
    assert f"{base}/docs" in text


def test_where_to_look_says_why_a_view_is_missing(tmp_path: Path) -> None:
    settings = load_settings({"LOCALCLOUD_HOME": str(tmp_path)})
    made = Made(docs_error="dbt docs generate failed: boom", page_error="OperationalError: no warehouse")
    text = "\n".join(where_to_look(settings, _runs(), made))
    assert made.failed
    assert "not generated: dbt docs generate failed: boom" in text
    assert "not served: OperationalError: no warehouse" in text
    assert "Alerts          connection alerts_webhook -> not configured (alerts go to task logs)" in text
    assert not Made(docs=tmp_path, page="http://localhost:8080/x").failed


@pytest.fixture
def api_server():
    """A stand-in API server on a free port that serves the docs page only when ``served`` says so."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    state = {"served": True}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = state["served"] and self.path == f"/cosmos/{dbt_docs.SLUG}/dbt_docs_index.html"
            self.send_response(200 if ok else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", state
    server.shutdown()


def test_docs_an_api_server_does_not_serve_are_reported_with_the_fix(api_server, tmp_path: Path) -> None:
    base, state = api_server
    settings = load_settings({"LOCALCLOUD_HOME": str(tmp_path)})
    dbt_docs.check_served(base, settings)  # served: nothing to say
    state["served"] = False
    with pytest.raises(dbt_docs.DbtDocsError, match=r"answers 404 .*make down && make up"):
        dbt_docs.check_served(base, settings)
