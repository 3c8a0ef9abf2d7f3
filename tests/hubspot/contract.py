"""Checks recorded HubSpot exchanges against docs/hubspot-openapi.yaml with openapi-core:
every request the sync sent, every answer the sandbox gave, every webhook delivery."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import Headers, ImmutableMultiDict

from accounts.hubspot.sandbox.app import Exchange

SPEC = Path(__file__).resolve().parents[2] / "docs" / "hubspot-openapi.yaml"
HOST = "https://api.hubapi.com"


@functools.cache
def spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC))


def _json(value: Any) -> bytes | None:
    return None if value is None else json.dumps(value).encode()


def _request(exchange: Exchange) -> MockRequest:
    return MockRequest(
        HOST,
        exchange.method.lower(),
        exchange.path,
        args=ImmutableMultiDict([(k, v) for k, values in exchange.query.items() for v in values]),
        headers=dict(exchange.headers),
        data=_json(exchange.body),
    )


def exchange_problems(exchanges: list[Exchange]) -> list[str]:
    """One line per request or response that breaks the description; [] when all hold."""
    api = spec()
    problems = []
    for exchange in exchanges:
        request = _request(exchange)
        where = f"{exchange.method} {exchange.path} -> {exchange.status}"
        for error in api.iter_request_errors(request):
            problems.append(f"request {where}: {_explain(error)}")
        response = MockResponse(
            _json(exchange.response) or b"", status_code=exchange.status, headers={}
        )
        for error in api.iter_response_errors(request, response):
            problems.append(f"response {where}: {_explain(error)}")
    return problems


@dataclass
class WebhookDelivery:
    """A webhook POST as openapi-core's WebhookRequest protocol reads it."""

    name: str
    method: str
    parameters: RequestParameters
    content_type: str
    body: bytes


def webhook_problems(headers: dict[str, str], raw: bytes) -> list[str]:
    """What breaks the description in one delivery HubSpot (the sandbox) made."""
    delivery = WebhookDelivery(
        name="crmEvents",
        method="post",
        parameters=RequestParameters(header=Headers(list(headers.items()))),
        content_type="application/json",
        body=raw,
    )
    return [f"webhook: {_explain(e)}" for e in spec().iter_webhook_request_errors(delivery)]


def _explain(error: Exception) -> str:
    details = [str(error)]
    cause = error.__cause__
    while cause is not None:
        inner = getattr(cause, "schema_errors", None)
        details.extend(str(e.message) for e in inner or [])
        if not inner:
            details.append(str(cause))
        cause = cause.__cause__
    return "; ".join(details)
