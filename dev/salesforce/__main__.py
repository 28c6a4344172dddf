"""Serve the Salesforce emulator over HTTPS.

Run: ``python -m dev.salesforce --port 8444 --state-dir .local/salesforce --cert-dir .local/certs``.
Clients trust it through ``REQUESTS_CA_BUNDLE`` pointing at ``<cert-dir>/ca-bundle.pem``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from dev.localcloud.certs import (
    SALESFORCE_APP_CERT,
    SALESFORCE_APP_CONSUMER_KEY,
    SERVER_CERT,
    ensure_certificates,
)
from dev.localcloud.serve import serve
from dev.salesforce.app import create_app
from dev.salesforce.org import OrgConfigError
from dev.world import build_world, crm_overlap

log = logging.getLogger("localcloud.salesforce")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--cert-dir", type=Path, required=True)
    parser.add_argument(
        "--world-seed", type=int, help="also seed records overlapping the cloud app's signups (dev.world seed)"
    )
    parser.add_argument("--no-seed", action="store_true", help="start an empty org (only the API user)")
    parser.add_argument(
        "--seed-extra",
        type=Path,
        help='JSON file of records added to the demo org on first start: {"Lead": [{...}], ...}',
    )
    parser.add_argument(
        "--org-config",
        type=Path,
        help="JSON file customising the org (a custom field removed or renamed, a picklist value gone, ...): "
        "see README.md; without it the org keeps the customisation it last had",
    )
    parser.add_argument(
        "--reject-secret", default="wrong", help="the password/client secret the token endpoint refuses"
    )
    parser.add_argument(
        "--connected-app",
        action="append",
        default=[],
        metavar="CONSUMER_KEY=CERTIFICATE",
        help="a connected app the JWT bearer flow signs in through (repeatable); the local cloud's own app "
        f"({SALESFORCE_APP_CONSUMER_KEY}, <cert-dir>/{SALESFORCE_APP_CERT}) is always registered",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    ensure_certificates(args.cert_dir)
    certificates = {SALESFORCE_APP_CONSUMER_KEY: (args.cert_dir / SALESFORCE_APP_CERT).read_bytes()}
    for entry in args.connected_app:
        consumer_key, _, path = entry.partition("=")
        certificates[consumer_key] = Path(path).read_bytes()
    extra = json.loads(args.seed_extra.read_text()) if args.seed_extra else None
    if args.world_seed is not None:
        # Leads, contacts and accounts for part of the world the cloud app's signups come from.
        overlap = crm_overlap(build_world(args.world_seed))
        extra = {name: [*(extra or {}).get(name, []), *records] for name, records in overlap.items()}
    org_config = json.loads(args.org_config.read_text()) if args.org_config else None
    try:
        app = create_app(
            args.state_dir,
            seed=not args.no_seed,
            extra_seed=extra,
            org_config=org_config,
            rejected_secret=args.reject_secret,
            connected_app_certificates=certificates,
        )
    except OrgConfigError as error:
        log.error("cannot customise the org: %s", error)
        return 2
    log.info("salesforce emulator on https://localhost:%d, state in %s", args.port, args.state_dir)
    serve(app, args.host, args.port, args.cert_dir / SERVER_CERT)
    log.info("salesforce emulator stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
