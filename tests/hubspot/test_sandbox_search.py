"""Search in the sandbox: filters, one sort, offset paging, caps, index delay, archives."""

from __future__ import annotations

from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException, PublicObjectSearchRequest

from accounts.hubspot.sandbox import ManualClock, Sandbox, seed
from accounts.hubspot.sandbox.operations import bulk_edit
from accounts.hubspot.sandbox.store import Source

from .conftest import error_body


def _search(hubspot: HubSpot, object_type: str = "companies", **body: Any) -> Any:
    return hubspot.crm.objects.search_api.do_search(object_type, PublicObjectSearchRequest(**body))


def _names(result: Any) -> list[str]:
    return [r.properties["name"] for r in result.results]


def _one(prop: str, op: str, value: Any = None, **extra: Any) -> list[dict[str, Any]]:
    f = {"propertyName": prop, "operator": op, **extra}
    if value is not None:
        f["value"] = value
    return [{"filters": [f]}]


@pytest.fixture
def companies(sandbox: Sandbox) -> dict[str, str]:
    rows = [
        ("Acme Corp", "acme.com", "100"),
        ("Globex", "globex.com", "250"),
        ("Initech", "", "900"),
        ("Acme Labs", "acmelabs.io", ""),
    ]
    return seed(
        sandbox,
        {
            "companies": [
                {"key": n, "properties": {"name": n, "domain": d, "annualrevenue": r}}
                for n, d, r in rows
            ]
        },
    )["companies"]


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (_one("name", "EQ", "globex"), ["Globex"]),
        (_one("name", "NEQ", "Globex"), ["Acme Corp", "Initech", "Acme Labs"]),
        (_one("annualrevenue", "GT", "100"), ["Globex", "Initech"]),
        (_one("annualrevenue", "GTE", "100"), ["Acme Corp", "Globex", "Initech"]),
        (_one("annualrevenue", "LT", "250"), ["Acme Corp"]),
        (_one("annualrevenue", "LTE", "250"), ["Acme Corp", "Globex"]),
        (_one("annualrevenue", "BETWEEN", "200", highValue="900"), ["Globex", "Initech"]),
        (_one("name", "IN", values=["initech", "globex"]), ["Globex", "Initech"]),
        (_one("name", "NOT_IN", values=["initech", "globex"]), ["Acme Corp", "Acme Labs"]),
        (_one("domain", "HAS_PROPERTY"), ["Acme Corp", "Globex", "Acme Labs"]),
        (_one("domain", "NOT_HAS_PROPERTY"), ["Initech"]),
        (_one("name", "CONTAINS_TOKEN", "acme"), ["Acme Corp", "Acme Labs"]),
        (_one("name", "CONTAINS_TOKEN", "lab*"), ["Acme Labs"]),
        (_one("name", "NOT_CONTAINS_TOKEN", "acme"), ["Globex", "Initech"]),
        (
            [*_one("name", "EQ", "Globex"), *_one("annualrevenue", "GT", "800")],
            ["Globex", "Initech"],
        ),
    ],
)
def test_filter_operators(
    hubspot: HubSpot, companies: dict[str, str], groups: Any, expected: list[str]
) -> None:
    result = _search(hubspot, filter_groups=groups, properties=["name"])
    assert _names(result) == expected
    assert result.total == len(expected)


def test_dates_filter_as_epoch_ms_strings(
    hubspot: HubSpot, sandbox: Sandbox, clock: ManualClock
) -> None:
    seed(sandbox, {"companies": [{"properties": {"name": "Old"}}]})
    clock.advance(seconds=60)
    cutoff = clock.now_ms()
    seed(sandbox, {"companies": [{"properties": {"name": "New"}}]})
    result = _search(
        hubspot,
        filter_groups=_one("hs_lastmodifieddate", "GTE", str(cutoff)),
        properties=["name"],
    )
    assert _names(result) == ["New"]


def test_sort_descending_and_offset_paging(hubspot: HubSpot, companies: dict[str, str]) -> None:
    sorts = [{"propertyName": "name", "direction": "DESCENDING"}]
    first = _search(hubspot, sorts=sorts, limit=3, properties=["name"])
    assert _names(first) == ["Initech", "Globex", "Acme Labs"]
    assert first.total == 4 and first.paging.next.after == "3"
    last = _search(hubspot, sorts=sorts, limit=3, after="3", properties=["name"])
    assert _names(last) == ["Acme Corp"] and last.paging is None


def test_limit_over_200_and_more_than_one_sort_are_400(hubspot: HubSpot) -> None:
    for body in (
        {"limit": 201},
        {"sorts": [{"propertyName": "name"}, {"propertyName": "domain"}]},
        {
            "filter_groups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}]
            * 6
        },
    ):
        with pytest.raises(ApiException) as caught:
            _search(hubspot, **body)
        assert caught.value.status == 400, body


def test_paging_past_10000_is_400(hubspot: HubSpot) -> None:
    assert _search(hubspot, limit=200, after="9800").results == []
    with pytest.raises(ApiException) as caught:
        _search(hubspot, limit=200, after="9900")
    assert caught.value.status == 400
    assert error_body(caught.value)["category"] == "VALIDATION_ERROR"


def test_new_and_changed_records_reach_search_after_the_delay(
    hubspot: HubSpot, clock: ManualClock
) -> None:
    from hubspot.crm.objects import SimplePublicObjectInput, SimplePublicObjectInputForCreate

    sandbox_delay_s = 3
    hubspot_api = hubspot.crm.objects.basic_api  # this module's sandbox lags by 3 s
    rid = hubspot_api.create(
        "companies", SimplePublicObjectInputForCreate(properties={"name": "Fresh"})
    ).id
    assert _search(hubspot).total == 0
    clock.advance(seconds=sandbox_delay_s)
    assert _names(_search(hubspot, properties=["name"])) == ["Fresh"]
    hubspot_api.update("companies", rid, SimplePublicObjectInput(properties={"name": "Renamed"}))
    assert _names(_search(hubspot, properties=["name"])) == ["Fresh"]  # stale until indexed
    clock.advance(seconds=sandbox_delay_s)
    assert _names(_search(hubspot, properties=["name"])) == ["Renamed"]


@pytest.fixture
def sandbox(clock: ManualClock) -> Sandbox:
    """Searches here lag writes by three seconds, like HubSpot's index."""
    return Sandbox(clock=clock, access_token="sandbox-test-token", search_delay_ms=3_000)


def test_archived_records_never_appear(
    hubspot: HubSpot, sandbox: Sandbox, companies: dict[str, str], clock: ManualClock
) -> None:
    hubspot.crm.objects.basic_api.archive("companies", companies["Globex"])
    clock.advance(seconds=3)
    assert "Globex" not in _names(_search(hubspot, properties=["name"]))


def test_bulk_edit_stamps_one_instant_on_every_record(
    hubspot: HubSpot, sandbox: Sandbox, companies: dict[str, str], clock: ManualClock
) -> None:
    clock.advance(seconds=10)
    bulk_edit(
        sandbox.store,
        "companies",
        ids=list(companies.values()),
        values={"industry": "COMPUTER_SOFTWARE"},
        source=Source(source_type="CRM_UI", change_source="CRM_UI"),
    )
    clock.advance(seconds=3)
    result = _search(hubspot, filter_groups=_one("industry", "EQ", "COMPUTER_SOFTWARE"))
    stamps = {r.properties["hs_lastmodifieddate"] for r in result.results}
    assert result.total == 4 and len(stamps) == 1


def test_ten_thousand_cap_with_real_data_reports_the_full_total(
    hubspot: HubSpot, sandbox: Sandbox, clock: ManualClock
) -> None:
    """A month-end bulk edit: 10,050 records share one hs_lastmodifieddate."""
    instant = clock.now_ms()
    store = sandbox.store
    with store.lock:
        for i in range(10_050):
            store.create("companies", {"name": f"C{i}"}, at_ms=instant)
    clock.advance(seconds=3)
    same_instant = _one("hs_lastmodifieddate", "EQ", str(instant))
    sorts = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    page = _search(hubspot, filter_groups=same_instant, sorts=sorts, limit=200, after="9800")
    assert page.total == 10_050 and len(page.results) == 200
    assert page.paging.next.after == "10000"
    with pytest.raises(ApiException) as caught:
        _search(hubspot, filter_groups=same_instant, sorts=sorts, limit=200, after="10000")
    assert caught.value.status == 400
    # Restarting past the last id seen (the (timestamp, id) cursor) reaches the rest.
    last_id = int(page.results[-1].id)
    rest = _search(
        hubspot,
        filter_groups=[
            {
                "filters": [
                    {
                        "propertyName": "hs_lastmodifieddate",
                        "operator": "EQ",
                        "value": str(instant),
                    },
                    {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
                ]
            }
        ],
        sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        limit=200,
    )
    assert rest.total == 50 and int(rest.results[0].id) == last_id + 1


def test_contacts_use_lastmodifieddate(hubspot: HubSpot, sandbox: Sandbox) -> None:
    seed(sandbox, {"contacts": [{"properties": {"email": "ann@acme.com"}}]})
    found = _search(
        hubspot,
        "contacts",
        filter_groups=_one("lastmodifieddate", "GTE", "0"),
        properties=["email"],
    )
    assert [r.properties["email"] for r in found.results] == ["ann@acme.com"]
    assert "hs_lastmodifieddate" not in found.results[0].properties
