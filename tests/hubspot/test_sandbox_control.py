"""/_sandbox controls, state files, fault injection and the management command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException
from hubspot.crm.properties import PropertyCreate

from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer, dump, load, seed

from .conftest import TOKEN, free_port


def _control(server: SandboxServer, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def test_seed_tier_and_state_over_http(server: SandboxServer, hubspot: HubSpot) -> None:
    ids = _control(
        server,
        "POST",
        "/_sandbox/seed",
        {"companies": [{"key": "acme", "properties": {"name": "Acme"}}]},
    )["ids"]
    assert hubspot.crm.objects.basic_api.get_by_id("companies", ids["companies"]["acme"])
    assert _control(server, "PUT", "/_sandbox/tier", {"tier": "enterprise"}) == {
        "tier": "enterprise"
    }
    _, _, headers = hubspot.crm.objects.basic_api.get_page_with_http_info("companies")
    assert headers["X-HubSpot-RateLimit-Daily"] == "1000000"
    state = _control(server, "GET", "/_sandbox/state")
    assert state["tier"] == "enterprise"
    assert [r["properties"]["name"] for r in state["records"]["companies"]] == ["Acme"]


def test_unknown_tier_is_400(server: SandboxServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _control(server, "PUT", "/_sandbox/tier", {"tier": "platinum"})
    assert caught.value.code == 400


def test_clock_advance_and_bulk_edit(server: SandboxServer, clock: ManualClock) -> None:
    start = clock.now_ms()
    assert (
        _control(server, "POST", "/_sandbox/clock/advance", {"seconds": 5})["now"] == start + 5000
    )
    ids = _control(
        server,
        "POST",
        "/_sandbox/seed",
        {"deals": [{"key": k, "properties": {"dealname": k}} for k in "abc"]},
    )["ids"]
    edited = _control(
        server,
        "POST",
        "/_sandbox/objects/deals/bulk-edit",
        {"ids": list(ids["deals"].values()), "properties": {"amount": "10"}},
    )
    stamps = {r["properties"]["hs_lastmodifieddate"] for r in edited["results"]}
    assert len(edited["results"]) == 3 and len(stamps) == 1


def test_restore_brings_an_archived_record_back(server: SandboxServer, hubspot: HubSpot) -> None:
    created = _control(server, "POST", "/_sandbox/objects/deals", {"properties": {"dealname": "X"}})
    _control(server, "DELETE", f"/_sandbox/objects/deals/{created['id']}")
    assert hubspot.crm.objects.basic_api.get_page("deals").results == []
    _control(server, "POST", f"/_sandbox/objects/deals/{created['id']}/restore", {})
    assert [r.id for r in hubspot.crm.objects.basic_api.get_page("deals").results] == [
        created["id"]
    ]


def test_error_share_and_locked_upserts(server: SandboxServer, hubspot: HubSpot) -> None:
    _control(server, "PUT", "/_sandbox/faults", {"error_rate": 1.0, "error_status": 503})
    with pytest.raises(ApiException) as caught:
        hubspot.crm.objects.basic_api.get_page("companies")
    assert caught.value.status == 503
    _control(server, "PUT", "/_sandbox/faults", {"error_rate": 0.0, "locked_upsert_rate": 1.0})
    hubspot.crm.objects.basic_api.get_page("companies")  # only upserts are locked
    with pytest.raises(ApiException) as caught:
        hubspot.crm.objects.batch_api.upsert("companies", {"inputs": []})
    assert caught.value.status == 423


def test_dump_and_load_round_trip(sandbox: Sandbox, clock: ManualClock) -> None:
    ids = seed(
        sandbox,
        {
            "owners": [{"email": "ann@example.com"}],
            "companies": [{"key": "a", "properties": {"name": "A"}}],
            "deals": [{"key": "d", "properties": {"dealname": "D"}}],
            "associations": [{"from": "deals", "fromKey": "d", "to": "companies", "toKey": "a"}],
        },
    )
    state = json.loads(json.dumps(dump(sandbox)))
    copy = Sandbox(clock=clock)
    load(copy, state)
    assert dump(copy) == state
    company = copy.store.find("companies", ids["companies"]["a"])
    assert copy.store.associated("companies", company.id, "deals") == {ids["deals"]["d"]: {342}}
    assert copy.store.search_view("companies")[0][0].id == company.id
    assert copy.store.create("companies", {"name": "B"}).id == str(state["next_id"])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    """Django's startup can take a while on a busy machine; the port tells when it is up."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1].decode()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the sandbox command did not start listening")


def test_management_command_serves_and_saves_state(tmp_path: Path) -> None:
    # Ports no in-process sandbox uses: another xdist worker could otherwise take the
    # port between our probe and the command's bind, and answer in its place.
    port = free_port(range(8200, 8220))
    state = tmp_path / "var" / "portal.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lifecycle.settings.test"}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "hubspot_sandbox",
            "--port",
            str(port),
            "--tier",
            "free",
            "--state",
            str(state),
            "--token",
            TOKEN,
            "--search-delay-ms",
            "0",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_listening(port, process)
        client = HubSpot(access_token=TOKEN, host=f"http://127.0.0.1:{port}")
        client.crm.objects.basic_api.create("companies", {"properties": {"name": "A"}})
        _, _, headers = client.crm.objects.basic_api.get_page_with_http_info("companies")
        assert headers["X-HubSpot-RateLimit-Max"] == "100"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()
    saved = json.loads(state.read_text())
    assert [r["properties"]["name"] for r in saved["records"]["companies"]] == ["A"]


def test_demo_portal_is_linked_and_valid(hubspot: HubSpot, sandbox: Sandbox) -> None:
    from accounts.hubspot.sandbox.demo import demo_portal

    ids = demo_portal(sandbox, companies=5)
    assert len(ids["companies"]) == 5 and ids["deals"] and ids["contacts"]
    assert len(hubspot.crm.owners.owners_api.get_page().results) == 4
    company = ids["companies"]["c0"]
    got = hubspot.crm.objects.basic_api.get_by_id(
        "companies", company, associations=["deals", "contacts"]
    )
    assert got.associations["deals"].results and got.associations["contacts"].results
    assert demo_portal(Sandbox(), companies=5) == ids  # the same portal every run


def test_restore_is_refused_while_a_live_record_holds_its_unique_value(
    server: SandboxServer, hubspot: HubSpot
) -> None:
    hubspot.crm.properties.core_api.create(
        "deals",
        PropertyCreate(
            name="lifecycle_deal_id",
            label="Lifecycle deal id",
            type="string",
            field_type="text",
            group_name="dealinformation",
            has_unique_value=True,
        ),
    )
    first = _control(
        server, "POST", "/_sandbox/objects/deals", {"properties": {"lifecycle_deal_id": "7"}}
    )
    _control(server, "DELETE", f"/_sandbox/objects/deals/{first['id']}")
    second = _control(
        server, "POST", "/_sandbox/objects/deals", {"properties": {"lifecycle_deal_id": "7"}}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        _control(server, "POST", f"/_sandbox/objects/deals/{first['id']}/restore", {})
    assert refused.value.code == 409
    body = json.loads(refused.value.read())
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Deal already exists. Existing ID: {second['id']}"
    live = [r.id for r in hubspot.crm.objects.basic_api.get_page("deals").results]
    assert live == [second["id"]]
