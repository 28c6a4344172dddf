"""``python -m dev.dag_test DAG_ID [LOGICAL_DATE]``: ``airflow dags test`` for the local cloud's tools (benchmarks).

One difference, for an Airflow bug: Airflow 3.3.2's ``dag.test()`` cannot start a run of a DAG with a deadline (it
looks the ``DeadlineAlert`` up by the alert object instead of its serialized id: ``StatementError "'dict' object
has no attribute 'hex'"``), so the DAG runs without it. The deadline is exercised under the scheduler
(tests/integration/test_airflow_scheduler.py). Everything else is ``DAG.test()``, which ``airflow dags test`` runs.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime


def main(argv: list[str]) -> int:
    from airflow.dag_processing.dagbag import DagBag

    dag_id, logical_date = argv[0], datetime.fromisoformat(argv[1]) if len(argv) > 1 else None
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"], safe_mode=False)
    dag = bag.dags.get(dag_id)
    if dag is None:
        print(f"DAG {dag_id} not found; import errors: {bag.import_errors}", file=sys.stderr)
        return 2
    dag.deadline = None
    run = dag.test(logical_date=logical_date)
    state = getattr(run.state, "value", run.state)
    print(f"DagRun Finished: dag_id={dag_id}, logical_date={run.logical_date}, run_id={run.run_id}, state={state}")
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
