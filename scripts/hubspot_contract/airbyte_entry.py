"""Run Airbyte's source-hubspot unchanged against another host (the sandbox).

The connector's base URL is fixed at https://api.hubapi.com (manifest.yaml `url_base`,
streams.py `BASE_URL`) with no setting to change it, so this entry point redirects at
the HTTP transport: every requests Session gets an adapter for that prefix which sends
the same request to the sandbox instead. Nothing of the connector is patched.

    python airbyte_entry.py http://127.0.0.1:9501 read --config c.json --catalog k.json

Runs inside the contract virtualenv (Python 3.10/3.11, airbyte-source-hubspot).
"""

from __future__ import annotations

import sys
from typing import Any

import requests
from requests.adapters import HTTPAdapter

HUBSPOT = "https://api.hubapi.com"


class ToSandbox(HTTPAdapter):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        request.url = self.target + request.url[len(HUBSPOT) :]
        return super().send(request, **kwargs)


def main() -> None:
    target, args = sys.argv[1], sys.argv[2:]
    original = requests.Session.__init__

    def session_init(self: requests.Session, *a: Any, **k: Any) -> None:
        original(self, *a, **k)
        self.mount(HUBSPOT, ToSandbox(target))

    requests.Session.__init__ = session_init  # type: ignore[method-assign]
    from source_hubspot.run import run

    sys.argv = ["source-hubspot", *args]
    run()


if __name__ == "__main__":
    main()
