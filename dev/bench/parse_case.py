"""One DagBag fill of a folder, in a fresh process. Prints one JSON line: seconds, per-file seconds, DAGs, tasks.

``--structure`` prints each DAG's task ids and edges instead (used to generate the plain @task baseline).
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--structure", action="store_true")
    args = parser.parse_args()
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=args.folder)
    seconds = time.perf_counter() - started
    if bag.import_errors:
        print(json.dumps({"import_errors": {str(k): str(v)[-1500:] for k, v in bag.import_errors.items()}}))
        return 1
    if args.structure:
        structure = {
            dag_id: {
                "tasks": sorted(dag.task_dict),
                "edges": sorted([t.task_id, d] for t in dag.tasks for d in sorted(t.downstream_task_ids)),
            }
            for dag_id, dag in sorted(bag.dags.items())
        }
        print(json.dumps(structure))
        return 0
    files = {stat.file.rsplit("/", 1)[-1]: stat.duration.total_seconds() for stat in bag.dagbag_stats}
    tasks = {dag_id: len(dag.tasks) for dag_id, dag in bag.dags.items()}
    print(json.dumps({"seconds": seconds, "files": files, "tasks": tasks}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
