"""A real sandbox HTTP server per test, and the real hubspot-api-client pointed at it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hubspot import HubSpot
from werkzeug import Request, Response

from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer
from tests.hubspot.recording import recording_server

TOKEN = "sandbox-test-token"
PORTS = range(8120, 8200)


def free_port(ports: range = PORTS) -> int:
    """A free port in the range this project may use (8111-8199)."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def serve(sandbox: Sandbox) -> SandboxServer:
    for _ in range(20):
        try:
            return SandboxServer(sandbox, port=free_port()).start()
        except OSError:  # another worker took the port between probe and bind
            continue
    raise RuntimeError("could not bind the sandbox")


@pytest.fixture(autouse=True)
def _push_breaker_closed() -> Iterator[None]:
    """The push's circuit breaker lives in the cache, which outlives a test: each test
    starts and ends with it closed."""
    from accounts.hubspot.outbound.breaker import breaker_reset

    breaker_reset()
    yield
    breaker_reset()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Sandbox:
    return Sandbox(clock=clock, tier="off", access_token=TOKEN)


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    running = serve(sandbox)
    yield running
    running.stop()


@pytest.fixture
def hubspot(server: SandboxServer) -> HubSpot:
    return HubSpot(access_token=TOKEN, host=server.url)


@dataclass
class Received:
    """A webhook POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: str

    @property
    def events(self) -> list[dict[str, Any]]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A stand-in for our webhook endpoint: records requests, answers `statuses` in turn."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0  # seconds each answer takes
    active: int = 0
    max_active: int = 0  # most requests seen in flight at once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e for r in self.received for e in r.events]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    def answer(request: Request) -> Response:
        raw = request.get_data(as_text=True)
        with state.lock:
            state.received.append(Received(request.path, dict(request.headers.items()), raw))
            status = state.statuses.pop(0) if state.statuses else 204
            state.active += 1
            state.max_active = max(state.max_active, state.active)
        time.sleep(state.delay)
        with state.lock:
            state.active -= 1
        return Response(status=status)

    with recording_server(answer, ports=PORTS) as server:
        state.url = server.url_for("/hubspot/webhooks")
        yield state


def error_body(exc: Any) -> dict[str, Any]:
    """The JSON body of a hubspot-api-client ApiException."""
    return json.loads(exc.body)
