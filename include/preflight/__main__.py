"""``python -m include.preflight``: one line per check, ``✓`` or ``✗`` with its fix; exit status 1 on any ``✗``.

It reads the same connections as the pipeline (``AIRFLOW_CONN_*`` from the environment, or the secrets backend
Airflow is configured with) and the same settings (``LANDING_BUCKET``, ``SNOWFLAKE_*``). ``make preflight`` runs it
with the local cloud's environment when you have not set any ``AIRFLOW_CONN_*`` yourself.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from include.preflight.run import SERVICES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.preflight", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(SERVICES), help=f"comma-separated services to check (default: {','.join(SERVICES)})"
    )
    parser.add_argument("--verbose", action="store_true", help="keep the clients' own log lines")
    parser.add_argument(
        "--salesforce-checklist",
        action="store_true",
        help="print the Salesforce fields, picklist values and permissions checked (markdown) and exit",
    )
    parser.add_argument(
        "--update-fork-guide",
        action="store_true",
        help="write that checklist into docs/fork-this-template.md (after changing the mirror, syncs.yaml or a mart)",
    )
    args = parser.parse_args(argv)
    if args.salesforce_checklist or args.update_fork_guide:
        from include.preflight.checklist import FORK_GUIDE, default_checklist, replace_section

        checklist = default_checklist()
        if args.update_fork_guide:
            FORK_GUIDE.write_text(replace_section(FORK_GUIDE.read_text(), checklist))
            print(f"updated the Salesforce checklist in {FORK_GUIDE}")
        else:
            print(checklist)
        return 0
    services = [s.strip().lower() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}: choose from {', '.join(SERVICES)}")
    if not args.verbose:  # connector banners and hook chatter would bury the check lines
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")  # read when Airflow is first imported
        logging.disable(logging.WARNING)
        warnings.filterwarnings("ignore")

    from include.preflight.checks import summary
    from include.preflight.run import run

    results = []
    for check in run(services):
        results.append(check)
        print(check.line(), flush=True)
    print(summary(results))
    return 1 if any(c.failed for c in results) else 0


if __name__ == "__main__":
    sys.exit(main())
