"""The sandbox's /crm/v3/objects endpoints match docs/hubspot-facts.md, through the real client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer, seed

from .conftest import error_body

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _get_json(url: str) -> Any:
    import json
    import urllib.request

    req = urllib.request.Request(url, headers={"Authorization": "Bearer sandbox-test-token"})
    return json.loads(urllib.request.urlopen(req).read())


def _create(hubspot: HubSpot, object_type: str = "companies", **props: str) -> str:
    body = SimplePublicObjectInputForCreate(properties=props)
    return hubspot.crm.objects.basic_api.create(object_type, body).id


def test_create_answers_201_with_string_properties_and_ms_timestamps(hubspot: HubSpot) -> None:
    api = hubspot.crm.objects.basic_api
    body = SimplePublicObjectInputForCreate(properties={"name": "Acme", "annualrevenue": 1200})
    record, status, _ = api.create_with_http_info("companies", body)
    assert status == 201
    created = api.get_by_id("companies", record.id, properties=["name", "annualrevenue"])
    assert created.properties["annualrevenue"] == "1200"
    assert created.properties["hs_object_id"] == created.id
    assert ISO_MS.match(created.properties["hs_lastmodifieddate"])
    assert ISO_MS.match(created.properties["createdate"])
    assert created.archived is False


def test_raw_record_shape(server: SandboxServer, sandbox: Sandbox) -> None:
    import json
    import urllib.request

    sandbox.store.create("companies", {"name": "Acme", "domain": "acme.com"})
    req = urllib.request.Request(
        f"{server.url}/crm/v3/objects/companies/1001",
        headers={"Authorization": "Bearer sandbox-test-token"},
    )
    body = json.loads(urllib.request.urlopen(req).read())
    assert set(body) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert all(isinstance(v, str) for v in body["properties"].values())
    assert ISO_MS.match(body["createdAt"]) and ISO_MS.match(body["updatedAt"])


def test_list_pages_with_after_and_omits_paging_on_last_page(
    hubspot: HubSpot, sandbox: Sandbox
) -> None:
    seed(sandbox, {"companies": [{"properties": {"name": f"C{i}"}} for i in range(25)]})
    api = hubspot.crm.objects.basic_api
    first = api.get_page("companies")
    assert len(first.results) == 10  # default limit
    assert first.paging.next.after == "1011"
    assert first.paging.next.link.endswith("limit=10&after=1011")
    seen, after = [], None
    while True:
        page = api.get_page("companies", limit=10, after=after, properties=["name"])
        seen += [r.properties["name"] for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == [f"C{i}" for i in range(25)]


def test_list_limit_over_100_is_a_400(hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as caught:
        hubspot.crm.objects.basic_api.get_page("companies", limit=101)
    assert caught.value.status == 400
    body = error_body(caught.value)
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"]


def test_update_bumps_modified_date_but_calculated_change_does_not(
    hubspot: HubSpot, sandbox: Sandbox, clock: ManualClock
) -> None:
    rid = _create(hubspot, name="Acme")
    before = sandbox.store.find("companies", rid).properties["hs_lastmodifieddate"]
    clock.advance(seconds=5)
    sandbox.store.update(
        sandbox.store.find("companies", rid), {"num_associated_deals": "3"}, allow_read_only=True
    )
    assert sandbox.store.find("companies", rid).properties["hs_lastmodifieddate"] == before
    updated = hubspot.crm.objects.basic_api.update(
        "companies", rid, SimplePublicObjectInput(properties={"name": "Acme Corp"})
    )
    assert updated.properties["name"] == "Acme Corp"
    assert updated.properties["hs_lastmodifieddate"] > before


def test_unknown_property_and_invalid_option_are_validation_errors(hubspot: HubSpot) -> None:
    api = hubspot.crm.objects.basic_api
    with pytest.raises(ApiException) as caught:
        api.create("companies", SimplePublicObjectInputForCreate(properties={"nope": "x"}))
    assert caught.value.status == 400
    assert "PROPERTY_DOESNT_EXIST" in error_body(caught.value)["message"]
    with pytest.raises(ApiException) as caught:
        body = SimplePublicObjectInputForCreate(properties={"industry": "Computer Software"})
        api.create("companies", body)  # the label, not the internal value
    assert "INVALID_OPTION" in error_body(caught.value)["message"]


def test_get_by_id_property_and_archived(hubspot: HubSpot) -> None:
    api = hubspot.crm.objects.basic_api
    rid = _create(hubspot, "contacts", email="ann@acme.com")
    found = api.get_by_id("contacts", "ann@acme.com", id_property="email")
    assert found.id == rid
    api.archive("contacts", rid)
    with pytest.raises(ApiException) as caught:
        api.get_by_id("contacts", rid)
    assert caught.value.status == 404
    assert api.get_by_id("contacts", rid, archived=True).archived is True
    assert [r.id for r in api.get_page("contacts", archived=True).results] == [rid]
    assert api.get_page("contacts").results == []


def test_batch_caps_at_100_inputs(hubspot: HubSpot) -> None:
    batch = hubspot.crm.objects.batch_api
    inputs = [{"properties": {"name": str(i)}} for i in range(101)]
    with pytest.raises(ApiException) as caught:
        batch.create("companies", BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    assert caught.value.status == 400
    created = batch.create(
        "companies", BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs[:100])
    )
    assert len(created.results) == 100


def test_batch_read_reports_missing_ids_with_207(hubspot: HubSpot) -> None:
    rid = _create(hubspot, name="Acme")
    data, status, _ = hubspot.crm.objects.batch_api.read_with_http_info(
        "companies",
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": rid}, {"id": "999999"}], properties=["name"], properties_with_history=[]
        ),
    )
    assert status == 207
    assert [r.id for r in data.results] == [rid]
    assert data.num_errors == 1 and data.errors[0].category == "OBJECT_NOT_FOUND"


def test_batch_read_with_history_caps_at_50(hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as caught:
        hubspot.crm.objects.batch_api.read(
            "companies",
            BatchReadInputSimplePublicObjectId(
                inputs=[{"id": str(i)} for i in range(51)],
                properties=[],
                properties_with_history=["name"],
            ),
        )
    assert caught.value.status == 400


def _unique_property(hubspot: HubSpot) -> None:
    from hubspot.crm.properties import PropertyCreate

    hubspot.crm.properties.core_api.create(
        "companies",
        PropertyCreate(
            name="lifecycle_account_id",
            label="Lifecycle account id",
            type="string",
            field_type="text",
            group_name="companyinformation",
            has_unique_value=True,
        ),
    )


def test_upsert_creates_then_updates_by_unique_property(hubspot: HubSpot) -> None:
    _unique_property(hubspot)
    batch = hubspot.crm.objects.batch_api
    body = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[{"idProperty": "lifecycle_account_id", "id": "acc-42", "properties": {"name": "A"}}]
    )
    first = batch.upsert("companies", body)
    assert first.status == "COMPLETE" and first.results[0].new is True
    body.inputs[0]["properties"] = {"name": "B"}
    second = batch.upsert("companies", body)
    assert second.results[0].new is False
    assert second.results[0].id == first.results[0].id
    assert second.results[0].properties["name"] == "B"


def test_upsert_by_non_unique_property_is_refused(hubspot: HubSpot) -> None:
    body = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[{"idProperty": "domain", "id": "acme.com", "properties": {"name": "A"}}]
    )
    with pytest.raises(ApiException) as caught:
        hubspot.crm.objects.batch_api.upsert("companies", body)
    assert caught.value.status == 400


def test_upsert_partial_failure_is_207_with_errors(hubspot: HubSpot) -> None:
    _unique_property(hubspot)
    body = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            {"idProperty": "lifecycle_account_id", "id": "ok", "properties": {"name": "A"}},
            {"idProperty": "lifecycle_account_id", "id": "bad", "properties": {"industry": "x"}},
        ]
    )
    data, status, _ = hubspot.crm.objects.batch_api.upsert_with_http_info("companies", body)
    assert status == 207
    assert data.num_errors == 1 and len(data.results) == 1
    assert "INVALID_OPTION" in data.errors[0].message


def test_batch_update_and_archive(hubspot: HubSpot) -> None:
    ids = [_create(hubspot, name=n) for n in ("A", "B")]
    batch = hubspot.crm.objects.batch_api
    updated = batch.update(
        "companies",
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {"domain": f"{i}.com"}} for i in ids]
        ),
    )
    assert sorted(r.properties["domain"] for r in updated.results) == [f"{i}.com" for i in ids]
    batch.archive("companies", {"inputs": [{"id": ids[0]}]})
    assert [r.id for r in hubspot.crm.objects.basic_api.get_page("companies").results] == ids[1:]


def test_cleared_value_is_absent_and_empty_in_history(hubspot: HubSpot) -> None:
    rid = _create(hubspot, name="Acme", domain="acme.com")
    api = hubspot.crm.objects.basic_api
    api.update("companies", rid, SimplePublicObjectInput(properties={"domain": ""}))
    got = api.get_by_id("companies", rid, properties=["domain"], properties_with_history=["domain"])
    assert got.properties.get("domain") in (None, "")
    history = got.properties_with_history["domain"]
    assert [h.value for h in history] == ["", "acme.com"]
    assert history[0].source_type == "INTEGRATION"


def test_a_list_page_lists_100_links_of_a_type_inline_and_pages_the_rest(
    hubspot: HubSpot, sandbox: Sandbox
) -> None:
    """HubSpot's v3 records carry at most 100 links per associated type and a per-record
    `paging` to the rest; one link per v3 type name (a primary link is two)."""
    people = [{"key": f"p{i}", "properties": {"email": f"p{i}@x.example"}} for i in range(120)]
    ids = seed(
        sandbox,
        {
            "companies": [{"key": "c", "properties": {"name": "Acme"}}],
            "contacts": people,
            "notes": [{"key": "big", "properties": {"hs_timestamp": "2026-05-04T10:00:00Z"}}],
            "deals": [
                {
                    "key": "d",
                    "properties": {
                        "dealname": "D",
                        "pipeline": "default",
                        "dealstage": "closedwon",
                    },
                }
            ],
            "associations": [
                *(
                    {"from": "notes", "fromKey": "big", "to": "contacts", "toKey": p["key"]}
                    for p in people
                ),
                {"from": "notes", "fromKey": "big", "to": "companies", "toKey": "c"},
                {"from": "deals", "fromKey": "d", "to": "companies", "toKey": "c", "types": [5]},
            ],
        },
    )
    api = hubspot.crm.objects.basic_api
    note = api.get_page("notes", associations=["contacts", "companies"]).results[0]
    contacts = note.associations["contacts"]
    assert len(contacts.results) == 100
    assert [r.id for r in contacts.results] == [ids["contacts"][f"p{i}"] for i in range(100)]
    assert contacts.paging.next.after
    assert contacts.paging.next.link.endswith(
        f"/crm/v3/objects/0-46/{note.id}/associations/0-1?after={contacts.paging.next.after}"
    )
    # The link leads to the rest, as HubSpot's does.
    rest = _get_json(contacts.paging.next.link)
    assert [r["id"] for r in rest["results"]] == [ids["contacts"][f"p{i}"] for i in range(100, 120)]
    assert {r["type"] for r in rest["results"]} == {"note_to_contact"} and "paging" not in rest
    companies = note.associations["companies"]
    assert len(companies.results) == 1 and companies.paging is None
    deal = api.get_page("deals", associations=["companies"]).results[0]
    assert sorted(r.type for r in deal.associations["companies"].results) == [
        "deal_to_company",
        "deal_to_company_unlabeled",
    ]
