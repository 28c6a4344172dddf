"""Serve the Salesforce emulator over HTTPS.

Run: ``python -m dev.salesforce --port 8444 --state-dir .local/salesforce --cert-dir .local/certs``.
Clients trust it through ``REQUESTS_CA_BUNDLE`` pointing at ``<cert-dir>/ca-bundle.pem``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from dev.localcloud.certs import SERVER_CERT, ensure_certificates
from dev.salesforce.app import create_app
from dev.world import build_world, crm_overlap

log = logging.getLogger("localcloud.salesforce")


class _Server(uvicorn.Server):
    """A uvicorn server that stops promptly and exits 0 on SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises SIGTERM after its graceful shutdown, so the process would die of the signal;
        # the store is closed by then, so returning is the clean stop.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle_exit)
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn closes an idle keep-alive connection with a TLS close_notify, and asyncio then waits up
        # to 30 s for the client to answer, which a client does only when it next uses the connection.
        # Like production servers, drop idle connections without waiting; requests in flight still finish.
        for connection in list(self.server_state.connections):
            cycle = getattr(connection, "cycle", None)
            if cycle is None or cycle.response_complete:
                connection.transport.abort()
        await super().shutdown(sockets)


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
        "--reject-secret", default="wrong", help="the password/client secret the token endpoint refuses"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    ensure_certificates(args.cert_dir)
    extra = json.loads(args.seed_extra.read_text()) if args.seed_extra else None
    if args.world_seed is not None:
        # Leads, contacts and accounts for part of the world the cloud app's signups come from.
        overlap = crm_overlap(build_world(args.world_seed))
        extra = {name: [*(extra or {}).get(name, []), *records] for name, records in overlap.items()}
    app = create_app(args.state_dir, seed=not args.no_seed, extra_seed=extra, rejected_secret=args.reject_secret)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ssl_certfile=str(args.cert_dir / SERVER_CERT),
        timeout_graceful_shutdown=10,  # for requests in flight; well inside the local cloud's 20 s stop
    )
    log.info("salesforce emulator on https://localhost:%d, state in %s", args.port, args.state_dir)
    _Server(config).run()  # returns after a graceful shutdown on SIGTERM/SIGINT
    log.info("salesforce emulator stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
