"""`make alerts`: print what the local cloud's alerts webhook received, oldest first."""

from __future__ import annotations

import sys

import requests

from dev.localcloud.settings import CLOUD_APP_TOKEN, load_settings


def main() -> int:
    settings = load_settings()
    url = f"http://{settings.cloud_app_host}:{settings.cloud_app_port}/_admin/webhook-messages"
    try:
        response = requests.get(url, headers={"Authorization": f"Bearer {CLOUD_APP_TOKEN}"}, timeout=10)
        response.raise_for_status()
    except requests.RequestException as exc:
        print(f"The local chat is not reachable ({exc}): `make up` starts the local cloud.", file=sys.stderr)
        return 1
    messages = response.json()
    for message in messages:
        print(f"--- {message['received_at']}\n{message['body'].get('text', '')}\n")
    print(f"{len(messages)} alert(s) received at {url.replace('/_admin/webhook-messages', '/hooks/...')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
