"""HubSpot's documented payloads (tests/hubspot/fixtures/, one file each, see its README)
through both sides: the sync's parsers must read each as its `expect` says, and the
sandbox must answer the same request, or emit the same event, in the same shape. A
misreading of HubSpot can no longer hide by being shared by the sandbox and the sync."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug import Request as WsgiRequest
from werkzeug import Response

from accounts.hubspot.inbound.events import plan_events
from accounts.hubspot.inbound.poller import with_associations
from accounts.hubspot.models import WebhookEvent
from accounts.hubspot.rules.mapping import (
    DEAL_PROPERTIES,
    MappingConfig,
    OwnerRef,
    StageRef,
    associated_ids,
    company_fields,
    deal_fields,
    display,
    stage_fields,
)
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.sandbox.http import Request
from accounts.hubspot.sandbox.operations import merge
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.http_retries import RetryPolicy
from accounts.hubspot.webhooks import events_parse

from .conftest import PORTS, TOKEN, Receiver
from .recording import recording_server

FIXTURES = Path(__file__).with_name("fixtures")
WEBHOOKS = sorted((FIXTURES / "webhooks").glob("*.json"))
CRM = sorted((FIXTURES / "crm").glob("*.json"))
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# Fields HubSpot adds to some events only (documented as optional).
OPTIONAL_EVENT_FIELDS = {
    "sourceId",
    "changeFlag",
    "numberOfPropertiesMoved",
    "isPrimaryAssociation",
}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def shape(value: Any) -> Any:
    """What a JSON value looks like: keys, JSON types, and for strings whether they are
    ISO datetimes or digits (so epoch milliseconds never pass for ISO)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return sorted({json.dumps(shape(v), sort_keys=True) for v in value})
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    if ISO.match(value):
        return "iso-datetime"
    return "digits" if value.isdigit() else "string"


# -- webhooks -------------------------------------------------------------------------


def _plan(events: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [
        WebhookEvent(
            pk=i,
            subscription_type=e["subscriptionType"],
            object_id=str(e["objectId"]),
            occurred_ms=int(e["occurredAt"]),
            change_source=str(e.get("changeSource", "")),
            payload=e,
        )
        for i, e in enumerate(events)
    ]
    plan = plan_events(rows)
    found: dict[str, Any] = {}
    for (object_type, object_id), action in plan.actions.items():
        found.setdefault(action, []).append(f"{object_type}:{object_id}")
    if plan.merges:
        found["merges"] = [[t, s, m] for t, s, m in plan.merges]
    if plan.values:
        found["values"] = {k: [list(v) for v in vs] for k, vs in plan.values.items()}
    return {k: sorted(v) if isinstance(v, list) and k != "merges" else v for k, v in found.items()}


@pytest.mark.parametrize("path", WEBHOOKS, ids=lambda p: p.stem)
def test_documented_webhook_payloads_parse_into_the_expected_plan(path: Path) -> None:
    fixture = _load(path)
    parsed = events_parse(json.dumps(fixture["events"]).encode())
    # Documented payloads are events HubSpot sends: none may be refused.
    assert parsed.refused == []
    assert _plan(parsed.events) == {
        k: sorted(v) if isinstance(v, list) and k != "merges" else v
        for k, v in fixture["expect"].items()
    }


PLURAL = {"company": "companies", "contact": "contacts", "deal": "deals"}


def _sandbox_event(receiver: Receiver, kind: str) -> dict[str, Any]:
    """The event of `kind` a fresh sandbox delivers when a user causes one."""
    sandbox = Sandbox(access_token=TOKEN)
    settings = sandbox.webhooks.settings
    settings.target_url, settings.batch_window_s = receiver.url, 0.01
    ui = Source(source_type="CRM_UI", source_id="userId:7", change_source="CRM_UI", user_id="7")
    ids = seed(
        sandbox,
        {
            "companies": [
                {"key": "x", "properties": {"name": "A"}},
                {"key": "y", "properties": {"name": "B"}},
            ],
            "contacts": [{"key": "x", "properties": {"email": "p@a.example"}}],
            "deals": [{"key": "x", "properties": {"dealname": "D"}}],
        },
    )
    store = sandbox.store
    singular, action = kind.split(".")
    object_type = PLURAL[singular]
    record = store.find(object_type, ids[object_type]["x"])
    prop = {"company": "name", "contact": "jobtitle", "deal": "dealname"}[singular]
    sandbox.webhooks.subscribe(kind, prop if action == "propertyChange" else "")
    sandbox.webhooks.start()
    try:
        if action == "propertyChange":
            store.update(record, {prop: "Changed"}, source=ui)
        elif action == "creation":
            store.create(object_type, {prop: "New"}, source=ui)
        elif action == "deletion":
            store.archive(record, source=ui)
        elif action == "restore":
            store.archive(record, source=ui)
            store.restore(record, source=ui)
        elif action == "merge":
            merge(store, object_type, primary_id=record.id, merged_id=ids[object_type]["y"])
        elif action == "associationChange":
            store.associate("deals", ids["deals"]["x"], "companies", ids["companies"]["x"], [5])
        assert sandbox.webhooks.wait_idle()
    finally:
        sandbox.webhooks.stop()
    return next(e for e in receiver.events() if e["subscriptionType"] == kind)


@pytest.mark.parametrize("path", WEBHOOKS, ids=lambda p: p.stem)
def test_the_sandbox_emits_documented_events_in_the_documented_shape(
    path: Path, receiver: Receiver
) -> None:
    for documented in _load(path)["events"]:
        emitted = _sandbox_event(receiver, documented["subscriptionType"])
        receiver.received.clear()
        want = {k: v for k, v in shape(documented).items() if k not in OPTIONAL_EVENT_FIELDS}
        got = {k: v for k, v in shape(emitted).items() if k not in OPTIONAL_EVENT_FIELDS}
        # The sandbox also names the record in association events (HubSpot's example
        # does not): an extra field a reader can ignore, never a missing one.
        if "objectId" not in want:
            got.pop("objectId", None)
        assert got == want, documented["subscriptionType"]


# -- CRM exchanges --------------------------------------------------------------------


class Replay:
    """A real HTTP server that answers every request with one documented response."""

    def __init__(self, status: int, body: Any) -> None:
        self.requests: list[tuple[str, str]] = []
        payload = json.dumps(body)

        def answer(request: WsgiRequest) -> Response:
            self.requests.append((request.method, request.full_path.removesuffix("?")))
            return Response(payload, status=status, content_type="application/json")

        self._serving = ExitStack()
        server = self._serving.enter_context(recording_server(answer, ports=PORTS, method="__ALL"))
        self.url = f"http://127.0.0.1:{server.port}"

    def close(self) -> None:
        self._serving.close()


def _client(url: str) -> HubSpotClient:
    return HubSpotClient(
        access_token=TOKEN,
        base_url=url,
        timeout=(2.0, 5.0),
        policy=RetryPolicy(max_attempts=2, backoff_base=0.0, jitter=lambda: 0.0),
        sleep=lambda seconds: None,
    )


def _parse_deals(client: HubSpotClient, replay: Replay) -> Any:
    records, after = client.list_page("deals", properties=DEAL_PROPERTIES)
    assert after is None
    record = {
        **records[0],
        "associations": {"companies": {"results": [{"id": "5432109876", "typeIds": [5, 341]}]}},
    }
    fields = deal_fields(
        record,
        stages={("default", "closedwon"): StageRef(pipeline_pk=1, stage_pk=2, is_won=True)},
        accounts={"5432109876": 7},
    )
    keep = ("name", "amount", "close_date", "stage_id", "account_id")
    return {k: display(fields[k]) if k in {"amount", "close_date"} else fields[k] for k in keep}


def _parse_associations(client: HubSpotClient, replay: Replay) -> Any:
    records = with_associations(client, "deals", [{"id": "9876543210"}, {"id": "9876543211"}])
    return {r["id"]: associated_ids(r, "companies") for r in records}


def _parse_pipelines(client: HubSpotClient, replay: Replay) -> Any:
    [pipeline] = client.pipelines("deals")
    return [
        [s["id"], f["is_closed"], f["is_won"], display(f["probability"])]
        for s in pipeline["stages"]
        for f in [stage_fields(s)]
    ]


def _parse_company(client: HubSpotClient, replay: Replay) -> Any:
    record = client.get("companies", "5432109876", properties=["name", "domain"])
    owners = {"501": OwnerRef(email="ann@example.com", user_pk=3)}
    fields = company_fields(record, config=MappingConfig(), owners=owners)
    return {**fields, "arr": display(fields["arr"])}


def _parse_error(client: HubSpotClient, replay: Replay) -> Any:
    with pytest.raises(HubSpotError) as caught:
        client.update("companies", "5432109876", properties={"annualrevenue": "lots"})
    error = caught.value
    assert "lots was not a valid number." in error.message
    return {"status": error.status, "category": error.category, "retried": len(replay.requests) > 1}


PARSERS: dict[str, Callable[[HubSpotClient, Replay], Any]] = {
    "deals.list": _parse_deals,
    "associations.deals.companies.read": _parse_associations,
    "pipelines.deals": _parse_pipelines,
    "companies.get": _parse_company,
    "error.invalid-number": _parse_error,
}


def test_every_crm_fixture_has_a_parser() -> None:
    assert sorted(p.stem for p in CRM) == sorted(PARSERS)


@pytest.fixture
def replayed(request: pytest.FixtureRequest) -> Iterator[tuple[dict[str, Any], Replay]]:
    fixture = _load(request.param)
    replay = Replay(fixture["response"]["status"], fixture["response"]["body"])
    yield fixture, replay
    replay.close()


@pytest.mark.parametrize("replayed", CRM, ids=lambda p: p.stem, indirect=True)
def test_documented_answers_parse_as_expected(replayed: tuple[dict[str, Any], Replay]) -> None:
    fixture, replay = replayed
    name = next(p.stem for p in CRM if _load(p) == fixture)
    assert PARSERS[name](_client(replay.url), replay) == fixture["expect"]


def _resolve(value: Any, ids: dict[str, dict[str, str]]) -> Any:
    """`{deals:d1}` placeholders -> the ids the sandbox gave."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+):(\w+)\}", lambda m: ids[m[1]][m[2]], value)
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("path", CRM, ids=lambda p: p.stem)
def test_the_sandbox_answers_documented_requests_in_the_documented_shape(path: Path) -> None:
    fixture = _load(path)
    sandbox = Sandbox(access_token=TOKEN)
    ids = seed(sandbox, fixture["seed"])
    asked = _resolve(fixture["request"], ids)
    query = asked.get("query") or {}
    answer = sandbox.handle(
        Request(
            method=asked["method"],
            path=asked["path"],
            query=query,
            body=asked.get("body"),
            headers={"authorization": f"Bearer {TOKEN}"},
            base_url="https://api.hubapi.com",
        )
    )
    assert answer.status == fixture["response"]["status"]
    assert shape(answer.body) == shape(fixture["response"]["body"]), urlencode(query)
