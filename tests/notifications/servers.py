"""Real servers on localhost for the notification tests: an SMTP server
(aiosmtpd) that keeps what it receives, and a stand-in for Slack's incoming
webhook that answers as Slack does (200 "ok", 429 with Retry-After, 500, 404
"no_service") from a script the test sets."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = _Mailbox()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages


@dataclass
class SlackState:
    script: deque[str] = field(default_factory=deque)
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _SlackHandler(BaseHTTPRequestHandler):
    state: SlackState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body.encode())

    def do_POST(self) -> None:
        with self.state.lock:
            self.state.requests += 1
            step = self.state.script.popleft() if self.state.script else "200"
        if step.startswith("hold:"):
            # A request that hangs before Slack takes it (its client is killed
            # meanwhile): nothing is posted.
            time.sleep(float(step.split(":")[1]))
            self.state.answers.append(503)
            return
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        code = int(step.split(":")[0])
        self.state.answers.append(code)
        if code == 200:
            self.state.received.append(payload)
            self._answer(200, "ok")
        elif code == 429:
            retry = step.split(":")[1] if ":" in step else "1"
            self._answer(429, "rate_limited", {"Retry-After": retry})
        elif code == 404:
            self._answer(404, "no_service")
        else:
            self._answer(code, "internal_error")


class SlackServer:
    """`script` steps: "200", "429:<retry-after>", "500", "404", "hold:<seconds>"."""

    def __init__(self) -> None:
        self.state = SlackState()
        handler = type("Handler", (_SlackHandler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/services/T000/B000/XXXX"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SlackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def expect(self, *steps: str) -> None:
        self.state.script.extend(steps)

    @property
    def received(self) -> list[dict[str, Any]]:
        return self.state.received


def body(message: EmailMessage, subtype: str) -> str:
    """The text/<subtype> part of a received email."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())
