"""Fixtures for the sync tests: a sandbox on this suite's ports (8301-8399), the real
HubSpotClient pointed at it, and portfolio builders."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from werkzeug import Request, Response

from accounts.hubspot import twoway
from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer, seed
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.http_retries import RetryPolicy
from tests.hubspot.recording import recording_server

TOKEN = "sync-test-token"
SECRET = "sync-test-secret"
PORTS = range(8301, 8400)


def _serve(sandbox: Sandbox) -> SandboxServer:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        try:
            return SandboxServer(sandbox, port=port).start()
        except OSError:
            continue
    raise RuntimeError("no free port in 8301-8399")


@pytest.fixture
def sync_clock() -> ManualClock:
    # HubSpot's clock and ours agree, as they do in production.
    return ManualClock(start_ms=int(time.time() * 1000) - 3_600_000)


@pytest.fixture
def sync_sandbox(sync_clock: ManualClock) -> Sandbox:
    return Sandbox(clock=sync_clock, tier="off", access_token=TOKEN)


@pytest.fixture
def sync_server(sync_sandbox: Sandbox) -> Iterator[SandboxServer]:
    server = _serve(sync_sandbox)
    yield server
    server.stop()


@pytest.fixture
def client(sync_server: SandboxServer) -> HubSpotClient:
    return HubSpotClient(
        access_token=TOKEN,
        base_url=sync_server.url,
        timeout=(2.0, 10.0),
        policy=RetryPolicy(max_attempts=2, backoff_base=0.0, jitter=lambda: 0.0),
        sleep=lambda seconds: None,
    )


@pytest.fixture
def hubspot_settings(sync_server: SandboxServer) -> Iterator[None]:
    """Tasks and views build their client from settings: point them at the sandbox."""
    with override_settings(
        HUBSPOT_ACCESS_TOKEN=TOKEN,
        HUBSPOT_BASE_URL=sync_server.url,
        HUBSPOT_CLIENT_SECRET=SECRET,
        HUBSPOT_TIER="professional",
        HUBSPOT_ARR_SOURCE="annualrevenue",
    ):
        yield


def portfolio(
    sandbox: Sandbox,
    *,
    companies: int,
    deals_per_company: int = 2,
    contacts_per_company: int = 0,
    owner_email: str = "",
    stage: str = "closedwon",
) -> dict[str, dict[str, str]]:
    """Seed companies (with domains and revenue), their deals and contacts."""
    data: dict[str, Any] = {"companies": [], "deals": [], "contacts": [], "associations": []}
    if owner_email:
        data["owners"] = [
            {"email": owner_email, "firstName": "Ann", "lastName": "Owner", "id": "501"}
        ]
    for i in range(companies):
        props = {
            "name": f"Company {i}",
            "domain": f"https://www.co{i}.example/",
            "annualrevenue": "1000",
        }
        if owner_email:
            props["hubspot_owner_id"] = "501"
        data["companies"].append({"key": f"c{i}", "properties": props})
        for j in range(deals_per_company):
            data["deals"].append(
                {
                    "key": f"d{i}-{j}",
                    "properties": {
                        "dealname": f"Deal {i}-{j}",
                        "amount": "500",
                        "closedate": "2026-03-01T00:00:00.000Z",
                        "pipeline": "default",
                        "dealstage": stage,
                    },
                }
            )
            data["associations"].append(
                {"from": "deals", "fromKey": f"d{i}-{j}", "to": "companies", "toKey": f"c{i}"}
            )
        for k in range(contacts_per_company):
            data["contacts"].append(
                {
                    "key": f"p{i}-{k}",
                    "properties": {
                        "email": f"person{k}@co{i}.example",
                        "firstname": "Pat",
                        "lastname": f"{i}-{k}",
                        "jobtitle": "CTO",
                    },
                }
            )
            data["associations"].append(
                {"from": "contacts", "fromKey": f"p{i}-{k}", "to": "companies", "toKey": f"c{i}"}
            )
    return seed(sandbox, data)


def clock_of(sandbox: Sandbox) -> ManualClock:
    """The sandbox of these tests runs on a manual clock."""
    assert isinstance(sandbox.clock, ManualClock)
    return sandbox.clock


def poll(client: HubSpotClient, sandbox: Sandbox) -> None:
    """One incremental sync, once HubSpot's search shows the latest edits."""
    from accounts.hubspot.inbound.importer import run_start
    from accounts.hubspot.inbound.poller import poll_run
    from accounts.hubspot.models import SyncRun

    clock_of(sandbox).advance(seconds=5)  # past the search index delay
    poll_run(run_start(SyncRun.Kind.POLL), client=client)


def catch_up(clock: ManualClock) -> None:
    """Move HubSpot's clock to the present, so edits come after our last import started."""
    clock.advance(ms=max(int(time.time() * 1000) - clock.now_ms(), 0))


@pytest.fixture
def capture() -> Iterator[dict[str, Any]]:
    """Where the sandbox delivers, so a real delivery can be replayed into Django."""
    state: dict[str, Any] = {"requests": []}

    def answer(request: Request) -> Response:
        state["requests"].append((dict(request.headers.items()), request.get_data()))
        return Response(status=204)

    # From the top of this suite's range, clear of the sandboxes that start at its bottom.
    with recording_server(answer, ports=range(PORTS.stop - 1, PORTS.start - 1, -1)) as server:
        state["port"] = server.port
        yield state


WEBHOOK_URL = "/hubspot/webhooks/"


def webhooks_to(sandbox: Sandbox, capture: dict[str, Any]) -> None:
    """The sandbox delivers every synced property's changes to `capture`."""
    hooks = sandbox.webhooks.settings
    hooks.target_url = f"http://127.0.0.1:{capture['port']}{WEBHOOK_URL}"
    hooks.client_secret = SECRET
    hooks.batch_window_s = 0.01
    for rule in twoway.rules_load():
        sandbox.webhooks.subscribe("company.propertyChange", rule.property)


def webhooks_deliver(sandbox: Sandbox, capture: dict[str, Any]) -> None:
    """The deliveries the sandbox made, through our receiver (which applies them)."""
    assert sandbox.webhooks.wait_idle()
    pending, capture["requests"] = capture["requests"], []
    for headers, raw in pending:
        response = Client().post(
            WEBHOOK_URL,
            raw,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
            SERVER_NAME="127.0.0.1",
            SERVER_PORT=str(capture["port"]),
        )
        assert response.status_code == 204, response.content
