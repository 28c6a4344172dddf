"""The run page inside Airflow: a "What this run did" tab on every DAG run (shown for activate_salesforce runs).

A FastAPI app on the API server (``/activation-runs/{dag_id}/{run_id}``) renders ``include/activation/run_page.py``
from the run's own record in the warehouse (connection ``snowflake_warehouse``), behind Airflow's authentication:
whoever may read the DAG's runs may read the page. The tab is an external view on the DAG run page; its link is
relative, so it follows a deployment served under a path (Astro) as the UI itself does.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from urllib.parse import quote

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Path
from fastapi.responses import HTMLResponse

URL_PREFIX = "/activation-runs"
#: The run's tab in the Airflow UI: /dags/<dag>/runs/<run>/plugin/<URL_ROUTE>.
URL_ROUTE = "activation_run_page"


def page_path(dag_id: str, run_id: str) -> str:
    """The page's path on the API server, for one run."""
    return f"{URL_PREFIX}/{quote(dag_id, safe='')}/{quote(run_id, safe='')}"


app = FastAPI(title="Activation run page", docs_url=None, redoc_url=None, openapi_url=None)


@app.get(
    "/{dag_id}/{run_id}",
    response_class=HTMLResponse,
    dependencies=[Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.RUN))],
)
def activation_run_page(dag_id: Annotated[str, Path()], run_id: Annotated[str, Path()]) -> HTMLResponse:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from include.activation.run_page import build_page, read_steps, render
    from include.connections import SNOWFLAKE

    steps = read_steps(SnowflakeHook(snowflake_conn_id=SNOWFLAKE), dag_id, run_id)
    # Relative to this page (<prefix>/activation-runs/<dag>/<run>): the run in the Airflow UI, under any prefix.
    run_url = f"../../dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
    return HTMLResponse(render(build_page(dag_id, run_id, steps), run_url))


class ActivationRunPagePlugin(AirflowPlugin):
    name = "activation_run_page"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": app, "url_prefix": URL_PREFIX, "name": "Activation run page"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "What this run did",
            "href": f"{URL_PREFIX.lstrip('/')}/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": URL_ROUTE,
        }
    ]
