"""The sandbox over real HTTP (stdlib ThreadingHTTPServer), so hubspot-api-client can be
pointed at it with `HubSpot(access_token=..., host=server.url)`."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import SplitResult, parse_qs, urlsplit

from .app import Sandbox
from .errors import SandboxError, correlation_id
from .http import Request, Response

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, each keep-alive response
    # waits for the client's delayed ACK (~40 ms), as no real HubSpot answer does.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("sandbox %s", format % args)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        host = self.headers.get("Host", f"127.0.0.1:{self.server.server_port}")
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            base_url=f"http://{host}",
        )
        app = self.server.sandbox
        with self.server.calls_lock:
            self.server.calls[(self.command, parts.path)] += 1
            self.server.in_flight += 1
        try:
            self._answer(parts, raw, request, app)
        finally:
            with self.server.calls_lock:
                self.server.in_flight -= 1

    def _answer(self, parts: SplitResult, raw: bytes, request: Request, app: Sandbox) -> None:
        try:
            request.body = json.loads(raw) if raw.strip() else None
        except ValueError:
            self._send(Response(400, SandboxError(400, "Invalid input JSON").body()))
            return
        fault = app.fault_for(request)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault is not None and fault.status == 429:
            body = {  # a queued 429 answers as HubSpot's ten-secondly limit does
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": correlation_id(),
                "policyName": "TEN_SECONDLY_ROLLING",
            }
            self._send(Response(429, body))
            return
        if fault is not None and fault.kind in {"error", "locked"}:
            body = {
                "status": "error",
                "message": "internal error" if fault.kind == "error" else "Resource is locked",
                "correlationId": correlation_id(),
                "category": "LOCKED" if fault.kind == "locked" else "INTERNAL_ERROR",
            }
            self._send(Response(fault.status, body))
            return
        self._send(app.handle(request))

    def _send(self, response: Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Clients keep connections alive; closing must not wait for them to hang up.
    block_on_close = False
    sandbox: Sandbox
    calls: Counter[tuple[str, str]]
    calls_lock: threading.Lock
    in_flight: int


class SandboxServer:
    """Serve a `Sandbox` on 127.0.0.1:`port` (0 picks a free port) in a background thread."""

    def __init__(self, sandbox: Sandbox, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self._httpd = _Server((host, port), _Handler)
        self._httpd.sandbox = sandbox
        self._httpd.calls = Counter()
        self._httpd.calls_lock = threading.Lock()
        self._httpd.in_flight = 0
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> Counter[tuple[str, str]]:
        """Requests served, by (method, path): what tests count to see sync settle."""
        return self._httpd.calls

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being answered (a "slow" fault's request lands when
        its sleep ends, whether or not its client still waits); False on `timeout`."""
        deadline = time.monotonic() + timeout
        while self._httpd.in_flight:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self.sandbox.webhooks.start()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="hubspot-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Block serving requests (for the management command)."""
        self.sandbox.webhooks.start()
        try:
            self._httpd.serve_forever()
        finally:
            self.sandbox.webhooks.stop()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self.sandbox.webhooks.stop()
