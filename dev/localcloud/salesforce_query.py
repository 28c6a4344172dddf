"""Run one SOQL query on the local Salesforce and print the records: ``make soql Q='SELECT Name FROM Account'``."""

from __future__ import annotations

import os
import sys
from typing import Any

from dev.localcloud.env import read_env_file
from dev.localcloud.settings import load_settings
from include.connections import SALESFORCE


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Relationship fields (Owner.Name) come back nested; print them as dotted columns."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print("usage: make soql Q='SELECT Id, Name FROM Account LIMIT 5'", file=sys.stderr)
        return 2
    settings = load_settings()
    if not settings.env_file.exists():
        print("the local cloud has not been started here: run `make up` first", file=sys.stderr)
        return 1
    # The same connection the DAGs use (AIRFLOW_CONN_SALESFORCE_CRM), so this is what Airflow would see.
    os.environ.update(read_env_file(settings.env_file))
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from simple_salesforce.exceptions import SalesforceError

    try:
        records = SalesforceHook(salesforce_conn_id=SALESFORCE).get_conn().query_all(argv[0])["records"]
    except RequestsConnectionError:
        print(f"cannot reach the local Salesforce on port {settings.salesforce_port}: `make up`", file=sys.stderr)
        return 1
    except SalesforceError as exc:
        print(f"Salesforce refused the query: {exc.content}", file=sys.stderr)
        return 1
    rows = [_flatten(r) for r in records]
    columns = list(dict.fromkeys(c for row in rows for c in row))
    print("\t".join(columns))
    for row in rows:
        print("\t".join("" if row.get(c) is None else str(row.get(c)) for c in columns))
    print(f"({len(rows)} records)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
