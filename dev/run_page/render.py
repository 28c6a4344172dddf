"""Render the run page: one self-contained HTML file (no script, no external asset) under ``.local/runs/``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dev.run_page.shape import OBJECTS, RunView

TEMPLATE = "run_page.html.j2"
PLURALS = {"Account": "Accounts", "Contact": "Contacts", "Opportunity": "Opportunities", "Task": "Outreach tasks"}


@dataclass(frozen=True)
class RunContext:
    """Where the page's numbers come from: the run and its interval, with links back to Airflow."""

    activation_run_id: str
    activation_run_url: str
    interval_start: str
    interval_end: str
    started_at: datetime
    generated_at: datetime
    dbt_docs_url: str | None = None


def page_path(runs_dir: Path, run_id: str) -> Path:
    """One file per activation run; run ids hold ':' and '+', which some file systems and browsers mangle."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_")
    if not safe:
        raise ValueError(f"cannot name a page after run id {run_id!r}")
    return runs_dir / f"{safe}.html"


def render(view: RunView, context: RunContext) -> str:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    widest = max([view.signups, *(t.total for t in view.tallies.values())], default=0) or 1
    owner_widest = max([o.signups for o in view.owners], default=0) or 1
    return env.get_template(TEMPLATE).render(
        view=view, run=context, objects=OBJECTS, plurals=PLURALS, widest=widest, owner_widest=owner_widest
    )


def write(view: RunView, context: RunContext, runs_dir: Path) -> Path:
    path = page_path(runs_dir, context.activation_run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(view, context), encoding="utf-8")
    return path
