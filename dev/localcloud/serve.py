"""How every stand-in serves HTTP(S): uvicorn, stopping promptly and cleanly on SIGTERM.

``make down`` sends SIGTERM to each service's process group. Plain uvicorn re-raises the signal after its
graceful shutdown (the process dies of it, before any cleanup after ``run()``) and waits up to 30 s on idle
TLS keep-alive connections. This server does neither.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn


class GracefulServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle_exit)
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn closes an idle keep-alive connection with a TLS close_notify and asyncio then waits for the
        # client's answer, which comes only when the client next uses it. Like production servers, drop idle
        # connections at once; requests in flight still finish.
        for connection in list(self.server_state.connections):
            cycle = getattr(connection, "cycle", None)
            if cycle is None or cycle.response_complete:
                connection.transport.abort()
        await super().shutdown(sockets)


def serve(app: Any, host: str, port: int, certfile: Path | None = None) -> None:
    """Serve until SIGTERM/SIGINT; returns after a graceful shutdown so callers can clean up."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", ssl_certfile=str(certfile) if certfile else None
    )
    GracefulServer(config).run()
