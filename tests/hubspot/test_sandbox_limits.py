"""Rate limits per tier: headers, the ten-second and daily buckets, search's 5/s."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException, PublicObjectSearchRequest

from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer

from .conftest import TOKEN, error_body


@pytest.fixture
def sandbox(clock: ManualClock) -> Sandbox:
    return Sandbox(clock=clock, tier="free", access_token=TOKEN)


def _list(hubspot: HubSpot) -> dict[str, str]:
    _, status, headers = hubspot.crm.objects.basic_api.get_page_with_http_info("companies")
    assert status == 200
    return dict(headers)


def test_normal_responses_carry_rate_limit_headers(hubspot: HubSpot) -> None:
    headers = _list(hubspot)
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert headers["X-HubSpot-RateLimit-Max"] == "100"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "99"
    assert headers["X-HubSpot-RateLimit-Daily"] == "250000"
    assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "249999"


def test_ten_second_bucket_answers_429_then_refills(hubspot: HubSpot, clock: ManualClock) -> None:
    for _ in range(100):
        _list(hubspot)
    with pytest.raises(ApiException) as caught:
        _list(hubspot)
    assert caught.value.status == 429
    body = error_body(caught.value)
    assert body == {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": body["correlationId"],
        "policyName": "TEN_SECONDLY_ROLLING",
        "requestId": body["requestId"],
    }
    assert len(body["requestId"]) == 32
    clock.advance(seconds=9.9)
    with pytest.raises(ApiException):
        _list(hubspot)
    clock.advance(seconds=0.2)
    assert _list(hubspot)["X-HubSpot-RateLimit-Remaining"] == "99"


def test_daily_bucket_answers_429_with_daily_policy(hubspot: HubSpot, sandbox: Sandbox) -> None:
    sandbox.limiter.use_daily(250_000)
    with pytest.raises(ApiException) as caught:
        _list(hubspot)
    body = error_body(caught.value)
    assert caught.value.status == 429
    assert body["policyName"] == "DAILY"
    assert body["message"] == "You have reached your daily limit."


def test_search_allows_five_per_second_without_headers(
    hubspot: HubSpot, clock: ManualClock
) -> None:
    search = hubspot.crm.objects.search_api
    for _ in range(5):
        _, status, headers = search.do_search_with_http_info(
            "companies", PublicObjectSearchRequest()
        )
        assert status == 200
        assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in headers)
    with pytest.raises(ApiException) as caught:
        search.do_search("companies", PublicObjectSearchRequest())
    body = error_body(caught.value)
    assert caught.value.status == 429
    assert body["message"] == "You have reached your secondly limit."
    assert body["category"] == "RATE_LIMITS" and "policyName" not in body
    clock.advance(seconds=1)
    search.do_search("companies", PublicObjectSearchRequest())


def test_tier_off_sends_no_headers_and_never_limits(hubspot: HubSpot, sandbox: Sandbox) -> None:
    sandbox.limiter.set_tier("off")
    for _ in range(150):
        headers = _list(hubspot)
    assert "X-HubSpot-RateLimit-Max" not in headers


def test_professional_tier_allows_190(hubspot: HubSpot, sandbox: Sandbox) -> None:
    sandbox.limiter.set_tier("professional")
    headers = _list(hubspot)
    assert headers["X-HubSpot-RateLimit-Max"] == "190"
    assert headers["X-HubSpot-RateLimit-Daily"] == "625000"


def test_wrong_token_is_401(server: SandboxServer) -> None:
    bad = HubSpot(access_token="wrong", host=server.url)
    with pytest.raises(ApiException) as caught:
        bad.crm.objects.basic_api.get_page("companies")
    assert caught.value.status == 401
    assert error_body(caught.value)["category"] == "INVALID_AUTHENTICATION"
