"""Applies include/upstream_fixes.py in every Airflow process that loads plugins (the API server: where the UI and
the REST API clear tasks). Delete this file with that module once Airflow fixes what it fixes."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from include.upstream_fixes import fix_deadline_recalculation_on_clear

fix_deadline_recalculation_on_clear()


class UpstreamFixes(AirflowPlugin):
    name = "upstream_fixes"
