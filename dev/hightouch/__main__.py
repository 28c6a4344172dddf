"""Run the Hightouch emulator: ``python -m dev.hightouch --port 8002 --state-dir .local/hightouch ...``."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from dev.hightouch.app import RateLimitBody, create_app
from dev.hightouch.destination import SalesforceDestination
from dev.hightouch.runner import SyncRunner
from dev.hightouch.store import Store
from dev.hightouch.workspace import Workspace
from dev.localcloud.serve import serve
from dev.localcloud.settings import HIGHTOUCH_TOKEN
from include.hightouch.syncs import SYNCS_FILE, load_syncs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--syncs", type=Path, default=SYNCS_FILE, help="syncs-as-code file")
    parser.add_argument("--token", default=os.environ.get("HIGHTOUCH_TOKEN", HIGHTOUCH_TOKEN))
    parser.add_argument("--snowflake-host", default="localhost", help="a name the stand-in's certificate holds")
    parser.add_argument("--snowflake-port", type=int, required=True, help="the warehouse the models live in")
    parser.add_argument("--salesforce-url", required=True, help="e.g. https://localhost:8444")
    parser.add_argument("--salesforce-client-id", default="hightouch")
    parser.add_argument("--salesforce-client-secret", default="hightouch")
    parser.add_argument(
        "--runs-order",
        choices=["newest-first", "oldest-first"],
        default="newest-first",
        help="direction of GET /syncs/{id}/runs listings (the API reference documents none)",
    )
    parser.add_argument("--rate-limit", type=int, default=200, help="requests per window (Hightouch: 200)")
    parser.add_argument("--rate-limit-seconds", type=float, default=10.0, help="the window (Hightouch: 10 s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    catalogue = load_syncs(args.syncs)
    store = Store(args.state_dir / "hightouch.sqlite")
    runner = SyncRunner(
        catalogue,
        store,
        args.snowflake_host,
        args.snowflake_port,
        lambda: SalesforceDestination(args.salesforce_url, args.salesforce_client_id, args.salesforce_client_secret),
    )
    app = create_app(
        Workspace(catalogue, store),
        store,
        runner,
        args.token,
        runs_newest_first=args.runs_order == "newest-first",
        rate_limit=RateLimitBody(requests=args.rate_limit, seconds=args.rate_limit_seconds),
    )
    serve(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
