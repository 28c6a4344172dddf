"""Run the cloud app API emulator: ``python -m dev.cloud_app --port 8001 --state-dir .local/cloud_app``."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path

from dev.cloud_app.app import create_app
from dev.cloud_app.generator import GeneratorConfig
from dev.localcloud.serve import serve
from dev.localcloud.settings import CLOUD_APP_TOKEN


def main(argv: list[str] | None = None) -> int:
    defaults = GeneratorConfig()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--token", default=os.environ.get("CLOUD_APP_TOKEN", CLOUD_APP_TOKEN))
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--start", type=datetime.fromisoformat, default=defaults.start, help="first generated instant")
    parser.add_argument("--signups-per-hour", type=int, default=defaults.signups_per_hour)
    parser.add_argument("--mess-ratio", type=float, default=defaults.mess_ratio)
    parser.add_argument("--known-people-ratio", type=float, default=defaults.known_people_ratio)
    args = parser.parse_args(argv)
    config = GeneratorConfig(
        seed=args.seed,
        start=args.start,
        signups_per_hour=args.signups_per_hour,
        mess_ratio=args.mess_ratio,
        known_people_ratio=args.known_people_ratio,
    )
    app = create_app(config, args.state_dir, args.token)
    serve(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
