"""Is an Airflow connection usable for Hightouch? Checked before any call, so a bad one fails at once and clearly.

airflow-provider-hightouch sends ``Authorization: Bearer <password>``, through ``HttpHook``. ``HttpHook`` replaces
that header with Basic auth as soon as the connection has a login, and Hightouch then refuses every call (401),
which the provider reports only as "Exceeded max number of retries". The rules below are the connection the
README documents: ``host`` = ``https://api.hightouch.com``, ``password`` = the workspace's API key, login empty
(Hightouch API keys: https://hightouch.com/docs/developer-tools/api-guide).
"""

from __future__ import annotations

from typing import Protocol

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowFailException


class ConnectionLike(Protocol):
    conn_id: str
    host: str | None
    schema: str | None
    login: str | None
    password: str | None


def connection_problems(conn: ConnectionLike) -> list[str]:
    """What is wrong with ``conn`` as a Hightouch connection, one sentence with its fix per problem; [] if usable."""
    problems: list[str] = []
    if conn.login:
        problems.append(
            f"has a login ({conn.login!r}): the HTTP hook then sends Basic auth instead of the Bearer token and"
            " Hightouch refuses every call; leave the login empty and put the API key in the password"
        )
    if not conn.password:
        problems.append("has no password: put the Hightouch workspace API key (Settings > API keys) in the password")
    host = conn.host or ""
    if not host:
        problems.append("has no host: set the host to https://api.hightouch.com")
    elif "://" not in host and (conn.schema or "http") != "https":
        problems.append(
            f"has the host {host!r} without a scheme, so calls would go over plain http: set the host to https://{host}"
        )
    return problems


def describe_host(conn: ConnectionLike) -> str:
    """The base URL the hook calls, as people configure it (host, with the scheme the hook would use)."""
    host = conn.host or ""
    return host if "://" in host else f"{conn.schema or 'http'}://{host}"


def checked_connection(conn_id: str) -> ConnectionLike:
    """The connection ``conn_id``, or AirflowFailException (no retry: a retry cannot fix it) naming every problem."""
    conn = BaseHook.get_connection(conn_id)
    problems = connection_problems(conn)
    if problems:
        raise AirflowFailException(f"Airflow connection {conn_id!r} for Hightouch " + "; it ".join(problems))
    return conn
