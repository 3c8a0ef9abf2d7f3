"""Error reports go to the DSN given, and only when one is given (a local HTTP server
stands in for Sentry; the SDK runs in its own process, as in a deployment)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

REPORT = """
import django
django.setup()
import logging
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("accounts").exception("push failed")
import sentry_sdk
sentry_sdk.flush(5)
print("initialised" if sentry_sdk.get_client().is_active() else "off")
"""


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://public@127.0.0.1:{httpd.server_address[1]}/1", received
    httpd.shutdown()
    httpd.server_close()


def _run(dsn: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lifecycle.settings.production",
        "DJANGO_SECRET_KEY": "sentry-test-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
        "SENTRY_DSN": dsn,
    }
    out = subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def test_an_error_logged_in_production_reaches_the_sentry_dsn(
    collector: tuple[str, list[bytes]],
) -> None:
    dsn, received = collector
    assert _run(dsn) == "initialised"
    assert any(b"ZeroDivisionError" in body and b"push failed" in body for body in received)


def test_without_a_dsn_nothing_is_initialised(collector: tuple[str, list[bytes]]) -> None:
    _dsn, received = collector
    assert _run("") == "off"
    assert received == []
