"""HubSpotClient against the sandbox: each call's shape, and its waits and retries."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer, seed
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.http_retries import RetryPolicy

from .conftest import TOKEN


class FakeSleep:
    """Records waits and moves the sandbox clock instead of sleeping."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds=seconds)


@pytest.fixture
def sandbox(clock: ManualClock) -> Sandbox:
    return Sandbox(clock=clock, tier="professional", access_token=TOKEN)


@pytest.fixture
def sleep(clock: ManualClock) -> FakeSleep:
    return FakeSleep(clock)


@pytest.fixture
def client(server: SandboxServer, sleep: FakeSleep) -> HubSpotClient:
    return HubSpotClient(
        access_token=TOKEN,
        base_url=server.url,
        timeout=(5.0, 10.0),  # generous: a loaded CI machine must not cause retries
        policy=RetryPolicy(jitter=lambda: 0.0),
        sleep=sleep,
    )


def _upsert_key(sandbox: Sandbox) -> None:
    seed(
        sandbox,
        {
            "properties": {
                "companies": [
                    {"name": "lifecycle_account_id", "type": "string", "hasUniqueValue": True}
                ]
            }
        },
    )


def test_list_pages_yields_each_page(client: HubSpotClient, sandbox: Sandbox) -> None:
    seed(sandbox, {"companies": [{"properties": {"name": f"C{i}"}} for i in range(25)]})
    pages = list(client.list_pages("companies", properties=["name"], page_size=10))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert pages[2][-1]["properties"]["name"] == "C24"


def test_batch_upsert_chunks_by_100_and_reports_new(
    client: HubSpotClient, sandbox: Sandbox
) -> None:
    _upsert_key(sandbox)
    inputs = [{"id": f"acc-{i}", "properties": {"name": f"A{i}"}} for i in range(230)]
    first = client.batch_upsert("companies", inputs, id_property="lifecycle_account_id")
    assert len(first.results) == 230 and all(r["new"] for r in first.results)
    again = client.batch_upsert("companies", inputs[:3], id_property="lifecycle_account_id")
    assert [r["new"] for r in again.results] == [False] * 3
    assert len(sandbox.store.ordered("companies")) == 230


def test_batch_upsert_collects_207_errors(client: HubSpotClient, sandbox: Sandbox) -> None:
    _upsert_key(sandbox)
    result = client.batch_upsert(
        "companies",
        [{"id": "a", "properties": {"name": "A"}}, {"id": "b", "properties": {"industry": "x"}}],
        id_property="lifecycle_account_id",
    )
    assert len(result.results) == 1
    assert len(result.errors) == 1 and "INVALID_OPTION" in result.errors[0]["message"]


def test_batch_read_update_and_get(client: HubSpotClient, sandbox: Sandbox) -> None:
    ids = seed(sandbox, {"deals": [{"key": "d", "properties": {"dealname": "Renewal"}}]})["deals"]
    client.batch_update("deals", [{"id": ids["d"], "properties": {"amount": "1200"}}])
    read = client.batch_read("deals", [ids["d"], "999"], properties=["amount"])
    assert read.results[0]["properties"]["amount"] == "1200"
    assert read.errors[0]["category"] == "OBJECT_NOT_FOUND"
    history = client.get("deals", ids["d"], properties_with_history=["amount"])
    assert history["propertiesWithHistory"]["amount"][0]["value"] == "1200"


def test_search_page_pages_with_after(client: HubSpotClient, sandbox: Sandbox) -> None:
    seed(sandbox, {"companies": [{"properties": {"name": f"C{i}"}} for i in range(5)]})
    sort = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    first = client.search_page("companies", sorts=sort, limit=3)
    assert first.total == 5 and len(first.results) == 3 and first.after == "3"
    last = client.search_page("companies", sorts=sort, limit=3, after=first.after)
    assert len(last.results) == 2 and last.after is None


def test_metadata_calls(client: HubSpotClient, sandbox: Sandbox) -> None:
    seed(sandbox, {"owners": [{"email": "ann@example.com"}, {"email": "bo@example.com"}]})
    assert [o["email"] for o in client.owners()] == ["ann@example.com", "bo@example.com"]
    stages = client.pipelines("deals")[0]["stages"]
    assert stages[0]["metadata"]["isClosed"] == "false"
    client.create_property(
        "companies",
        {
            "name": "lifecycle_health",
            "label": "Health",
            "type": "string",
            "fieldType": "text",
            "groupName": "companyinformation",
        },
    )
    assert "lifecycle_health" in {p["name"] for p in client.properties("companies")}


def test_associations(client: HubSpotClient, sandbox: Sandbox) -> None:
    ids = seed(
        sandbox,
        {
            "companies": [{"key": "a", "properties": {"name": "A"}}],
            "deals": [{"key": "d1", "properties": {}}, {"key": "d2", "properties": {}}],
        },
    )
    company, d1, d2 = ids["companies"]["a"], ids["deals"]["d1"], ids["deals"]["d2"]
    client.associate_default("deals", d1, "companies", company)
    client.create_associations("deals", "companies", [(d2, company, 5)])
    found = client.read_associations("companies", "deals", [company])
    assert sorted(str(t["toObjectId"]) for t in found[company]) == sorted([d1, d2])
    client.archive_associations("deals", "companies", [(d1, company)])
    assert [
        str(t["toObjectId"])
        for t in client.read_associations("companies", "deals", [company])[company]
    ] == [d2]


def test_merge_returns_the_survivor(client: HubSpotClient, sandbox: Sandbox) -> None:
    ids = seed(sandbox, {"contacts": [{"key": k, "properties": {}} for k in ("a", "b")]})
    survivor = client.merge(
        "contacts", primary_id=ids["contacts"]["a"], merged_id=ids["contacts"]["b"]
    )
    assert survivor["properties"]["hs_merged_object_ids"] == ids["contacts"]["b"]


# -- waits and retries ----------------------------------------------------------


def test_ten_secondly_429_waits_ten_seconds_then_succeeds(
    client: HubSpotClient, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    sandbox.limiter.saturate()
    assert list(client.list_pages("companies")) == [[]]
    assert sleep.waits == [10.0]


def test_search_secondly_429_waits_one_second(
    client: HubSpotClient, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    sandbox.limiter.saturate(search=True)
    assert client.search_page("companies").total == 0
    assert sleep.waits == [1.0]


def test_daily_429_raises_without_retrying(
    client: HubSpotClient, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    sandbox.limiter.use_daily(625_000)
    with pytest.raises(HubSpotError) as caught:
        client.properties("companies")
    assert caught.value.is_daily_limit and caught.value.status == 429
    assert caught.value.correlation_id
    assert sleep.waits == []


def test_5xx_backs_off_exponentially(
    client: HubSpotClient, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    sandbox.faults.queue(502, 503, 500)
    assert client.pipelines() != []
    assert sleep.waits == [1.0, 2.0, 4.0]


def test_post_is_retried_and_creates_once(
    client: HubSpotClient, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    _upsert_key(sandbox)
    sandbox.faults.queue(423, 502)
    result = client.batch_upsert(
        "companies", [{"id": "a", "properties": {"name": "A"}}], id_property="lifecycle_account_id"
    )
    assert [r["new"] for r in result.results] == [True]
    assert len(sandbox.store.ordered("companies")) == 1
    assert sleep.waits == [1.0, 2.0]


def test_dropped_connection_and_timeout_are_retried(
    server: SandboxServer, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    impatient = HubSpotClient(
        access_token=TOKEN,
        base_url=server.url,
        timeout=(5.0, 0.3),
        policy=RetryPolicy(jitter=lambda: 0.0),
        sleep=sleep,
    )
    sandbox.faults.queue("drop", "slow:1.5")
    assert impatient.pipelines()
    assert sleep.waits == [1.0, 2.0]


def test_gives_up_after_max_attempts(
    client: HubSpotClient, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    sandbox.faults.queue(*[502] * 6)
    with pytest.raises(HubSpotError) as caught:
        client.owners()
    assert caught.value.status == 502
    assert len(sleep.waits) == 5


def test_validation_error_is_raised_at_once(client: HubSpotClient, sleep: FakeSleep) -> None:
    with pytest.raises(HubSpotError) as caught:
        client.create("companies", properties={"no_such_property": "x"})
    assert caught.value.status == 400 and caught.value.category == "VALIDATION_ERROR"
    assert sleep.waits == []


@pytest.mark.django_db
def test_from_settings_uses_the_configured_portal(
    server: SandboxServer, sandbox: Sandbox, settings: Any
) -> None:
    settings.HUBSPOT_ACCESS_TOKEN = TOKEN
    settings.HUBSPOT_BASE_URL = server.url + "/"
    settings.HUBSPOT_TIER = "enterprise"
    seed(sandbox, {"companies": [{"properties": {"name": "Acme"}}]})
    client = HubSpotClient.from_settings()
    assert [len(p) for p in client.list_pages("companies")] == [1]
    settings.HUBSPOT_ACCESS_TOKEN = "revoked"
    with pytest.raises(HubSpotError) as caught:
        list(HubSpotClient.from_settings().list_pages("companies"))
    assert caught.value.status == 401


def test_batch_read_by_unique_property(client: HubSpotClient, sandbox: Sandbox) -> None:
    seed(sandbox, {"contacts": [{"properties": {"email": "ann@acme.com"}}]})
    read = client.batch_read(
        "contacts", ["ann@acme.com", "nobody@acme.com"], properties=["email"], id_property="email"
    )
    assert [r["properties"]["email"] for r in read.results] == ["ann@acme.com"]
    assert read.errors[0]["context"]["ids"] == ["nobody@acme.com"]


def test_upserts_locked_for_two_seconds_are_retried_past_the_lock(
    client: HubSpotClient, sandbox: Sandbox, sleep: FakeSleep
) -> None:
    _upsert_key(sandbox)
    sandbox.faults.configure(lock_after_upsert_s=2.0)
    rows = [{"id": f"acc-{i}", "properties": {"name": f"A{i}"}} for i in range(150)]
    result = client.batch_upsert("companies", rows, id_property="lifecycle_account_id")
    assert len(result.results) == 150
    # The second chunk meets the lock: 1 s is not enough, 1 + 2 s is.
    assert sleep.waits == [1.0, 2.0]
