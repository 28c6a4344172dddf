"""``make logs``: the last lines of the local cloud's service logs, then follow them as they grow (like ``tail -F``).

Each service writes ``<LOCALCLOUD_HOME>/logs/<service>.log``; with more than one log, every line is prefixed
with its service's name. Airflow's task logs are elsewhere: ``<LOCALCLOUD_HOME>/airflow/logs/`` (README).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dev.localcloud.services import log_tail


@dataclass
class _Followed:
    name: str
    path: Path
    position: int = 0
    partial: bytes = field(default=b"")

    def new_lines(self) -> list[str]:
        """Complete lines written since the last call; starts over when the file was truncated or replaced."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self.position:
            self.position, self.partial = 0, b""
        if size == self.position:
            return []
        with self.path.open("rb") as log:
            log.seek(self.position)
            data = self.partial + log.read()
            self.position = log.tell()
        *lines, self.partial = data.split(b"\n")
        return [line.decode(errors="replace") for line in lines]


def follow(
    logs: dict[str, Path],
    *,
    lines: int = 20,
    keep_following: Callable[[], bool] = lambda: True,
    interval: float = 0.5,
) -> Iterator[str]:
    """The last ``lines`` of each log, then every line appended to any of them while ``keep_following()``."""
    width = max(map(len, logs)) if len(logs) > 1 else 0

    def prefixed(name: str, line: str) -> str:
        return f"{name:<{width}} | {line}" if width else line

    # Where each log ends now, before the first line is shown: what is written while they are read is followed.
    followed = [_Followed(name, path, path.stat().st_size if path.exists() else 0) for name, path in logs.items()]
    tails = [(name, log_tail(path, lines)) for name, path in logs.items()]
    for name, tail in tails:
        for line in tail:
            yield prefixed(name, line)
    while keep_following():
        for entry in followed:
            for line in entry.new_lines():
                yield prefixed(entry.name, line)
        time.sleep(interval)
