"""The sandbox refuses what HubSpot refuses and answers as HubSpot answers (docs/hubspot-facts.md,
"Details that matter for fidelity"), driven through the real hubspot-api-client."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException

from accounts.hubspot.sandbox import Sandbox, SandboxServer, seed

from .conftest import TOKEN, error_body, serve


def _create(hubspot: HubSpot, object_type: str, **properties: str) -> str:
    made = hubspot.crm.objects.basic_api.create(object_type, {"properties": properties})
    return str(made.id)


def _refused(call: Any, *args: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        call(*args)
    assert caught.value.status == 400
    return error_body(caught.value)


def _get(server: SandboxServer, path: str) -> Any:
    request = urllib.request.Request(
        server.url + path, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


# -- associations ---------------------------------------------------------------------


def test_a_primary_company_link_keeps_the_unlabeled_one_beside_it_with_live_v3_names(
    hubspot: HubSpot, sandbox: Sandbox
) -> None:
    deal = _create(hubspot, "deals", dealname="Renewal")
    contact = _create(hubspot, "contacts", email="pat@acme.example")
    acme, other = (_create(hubspot, "companies", name=n) for n in ("Acme", "Other"))
    spec = {"associationCategory": "HUBSPOT_DEFINED"}
    batch = hubspot.crm.associations.v4.batch_api
    batch.create(
        "deals",
        "companies",
        {
            "inputs": [
                {
                    "from": {"id": deal},
                    "to": {"id": acme},
                    "types": [{**spec, "associationTypeId": 5}],
                },
                {
                    "from": {"id": deal},
                    "to": {"id": other},
                    "types": [{**spec, "associationTypeId": 341}],
                },
            ]
        },
    )
    batch.create(
        "contacts",
        "companies",
        {
            "inputs": [
                {
                    "from": {"id": contact},
                    "to": {"id": acme},
                    "types": [{**spec, "associationTypeId": 1}],
                }
            ]
        },
    )

    assert sandbox.store.associated("deals", deal, "companies") == {acme: {5, 341}, other: {341}}
    assert sandbox.store.associated("contacts", contact, "companies") == {acme: {1, 279}}
    assert sandbox.store.associated("companies", acme, "deals") == {deal: {6, 342}}
    got = hubspot.crm.objects.basic_api.get_by_id("deals", deal, associations=["companies"])
    assert [(r.id, r.type) for r in got.associations["companies"].results] == [
        (acme, "deal_to_company"),
        (acme, "deal_to_company_unlabeled"),
        (other, "deal_to_company_unlabeled"),
    ]
    # A deal has one primary company: making `other` primary takes it off `acme`.
    batch.create(
        "deals",
        "companies",
        {
            "inputs": [
                {
                    "from": {"id": deal},
                    "to": {"id": other},
                    "types": [{**spec, "associationTypeId": 5}],
                }
            ]
        },
    )
    assert sandbox.store.associated("deals", deal, "companies") == {acme: {341}, other: {5, 341}}
    assert sandbox.store.associated("companies", acme, "deals") == {deal: {342}}


def test_v4_batch_read_answers_207_with_no_associations_found_per_id_without_links(
    hubspot: HubSpot, server: SandboxServer
) -> None:
    linked, lonely, unknown = (_create(hubspot, "deals", dealname=n) for n in ("A", "B", "C"))
    company = _create(hubspot, "companies", name="Acme")
    hubspot.crm.associations.v4.basic_api.create_default("deals", linked, "companies", company)
    body = {"inputs": [{"id": linked}, {"id": lonely}, {"id": unknown}]}
    request = urllib.request.Request(
        server.url + "/crm/v4/associations/deals/companies/batch/read",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        status, answer = response.status, json.loads(response.read())

    assert status == 207
    assert [r["from"]["id"] for r in answer["results"]] == [linked]
    assert answer["numErrors"] == 2
    for error, asked in zip(answer["errors"], (lonely, unknown), strict=True):
        assert error["category"] == "OBJECT_NOT_FOUND"
        assert error["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
        assert error["message"] == f"No company is associated with deal {asked}."
        assert error["context"]["fromObjectId"] == [asked]


# -- values ---------------------------------------------------------------------------


def test_a_non_number_in_a_number_property_is_a_validation_error_naming_the_property(
    hubspot: HubSpot, sandbox: Sandbox
) -> None:
    body = _refused(
        hubspot.crm.objects.basic_api.create,
        "deals",
        {"properties": {"dealname": "X", "amount": "lots"}},
    )
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: [")
    detail = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert detail[0]["error"] == "INVALID_INTEGER" and detail[0]["name"] == "amount"
    assert body["errors"] == [
        {
            "message": "lots was not a valid number.",
            "code": "INVALID_INTEGER",
            "context": {"propertyName": ["amount"]},
        }
    ]
    assert sandbox.store.ordered("deals") == []  # nothing made


def test_a_deal_stage_outside_its_pipeline_is_refused_on_create_and_update(
    hubspot: HubSpot, sandbox: Sandbox
) -> None:
    seed(
        sandbox,
        {
            "pipelines": [
                {"id": "renewals", "label": "Renewals", "stages": [{"id": "due", "label": "Due"}]}
            ]
        },
    )
    api = hubspot.crm.objects.basic_api
    body = _refused(
        api.create,
        "deals",
        {"properties": {"dealname": "X", "pipeline": "default", "dealstage": "due"}},
    )
    assert body["errors"][0]["code"] == "INVALID_OPTION"
    assert body["errors"][0]["context"] == {"propertyName": ["dealstage"]}
    deal = _create(hubspot, "deals", dealname="R", pipeline="renewals", dealstage="due")
    # The stage is checked against the deal's current pipeline when only it changes.
    _refused(api.update, "deals", deal, {"properties": {"dealstage": "closedwon"}})
    api.update("deals", deal, {"properties": {"pipeline": "default", "dealstage": "closedwon"}})
    assert sandbox.store.find("deals", deal).properties["dealstage"] == "closedwon"


def test_dates_must_be_midnight_utc_and_come_back_as_dates(
    hubspot: HubSpot, sandbox: Sandbox
) -> None:
    hubspot.crm.properties.core_api.create(
        "companies",
        {
            "name": "renews_on",
            "label": "Renews on",
            "type": "date",
            "fieldType": "date",
            "groupName": "companyinformation",
        },
    )
    api = hubspot.crm.objects.basic_api
    body = _refused(
        api.create, "companies", {"properties": {"name": "A", "renews_on": "1717000000000"}}
    )
    assert body["errors"][0]["code"] == "INVALID_DATE"
    assert "not midnight" in body["errors"][0]["message"]
    by_ms = _create(hubspot, "companies", name="B", renews_on="1716940800000")
    by_iso = _create(hubspot, "companies", name="C", renews_on="2024-05-29")
    for company in (by_ms, by_iso):
        got = api.get_by_id("companies", company, properties=["renews_on"])
        assert got.properties["renews_on"] == "2024-05-29"


def test_datetimes_written_as_epoch_ms_come_back_as_iso_and_numbers_normalised(
    hubspot: HubSpot,
) -> None:
    deal = _create(hubspot, "deals", dealname="D", closedate="1717000000000", amount="1500.00")
    got = hubspot.crm.objects.basic_api.get_by_id("deals", deal, properties=["closedate", "amount"])
    assert got.properties["closedate"] == "2024-05-29T16:26:40.000Z"
    assert got.properties["amount"] == "1500"
    hubspot.crm.objects.basic_api.update("deals", deal, {"properties": {"amount": "12.50"}})
    got = hubspot.crm.objects.basic_api.get_by_id("deals", deal, properties=["amount"])
    assert got.properties["amount"] == "12.5"


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({"name": "A", "no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"name": "A", "industry": "Computer Software"}, "INVALID_OPTION"),  # a label
        ({"name": "A", "annualrevenue": " 5"}, "INVALID_PROPERTY_VALUE"),
        ({"name": "A", "hs_lastmodifieddate": "1717000000000"}, "READ_ONLY_VALUE"),
    ],
)
def test_unknown_properties_labels_for_options_spaces_and_read_only_values_are_refused(
    hubspot: HubSpot, sandbox: Sandbox, properties: dict[str, str], code: str
) -> None:
    body = _refused(hubspot.crm.objects.basic_api.create, "companies", {"properties": properties})
    assert [e["code"] for e in body["errors"]] == [code]
    assert sandbox.store.ordered("companies") == []


def test_a_batch_with_one_bad_input_changes_nothing(hubspot: HubSpot, sandbox: Sandbox) -> None:
    inputs = [
        {"properties": {"name": "Fine"}},
        {"properties": {"name": "Bad", "annualrevenue": "lots"}},
    ]
    _refused(hubspot.crm.objects.batch_api.create, "companies", {"inputs": inputs})
    assert sandbox.store.ordered("companies") == []


def test_more_than_100_inputs_and_missing_required_fields_are_refused(
    server: SandboxServer, sandbox: Sandbox
) -> None:
    def post(path: str, body: Any) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            server.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = post(
        "/crm/v3/objects/companies/batch/create",
        {"inputs": [{"properties": {"name": f"C{i}"}} for i in range(101)]},
    )
    assert (status, body["category"], body["context"]) == (
        400,
        "VALIDATION_ERROR",
        {"limit": ["100"]},
    )
    status, body = post("/crm/v3/objects/companies/batch/update", {"inputs": [{"properties": {}}]})
    assert status == 400
    assert body["message"].endswith(
        "Cannot build BatchInputSimplePublicObjectBatchInput, some of required attributes "
        "are not set [id]"
    )
    status, body = post("/crm/v3/objects/companies/batch/read", {"inputs": [{"id": "1"}]})
    assert status == 400 and body["message"].endswith("[properties, propertiesWithHistory]")
    status, body = post("/crm/v3/objects/companies", {"associations": []})
    assert status == 400 and "[properties]" in body["message"]
    assert sandbox.store.ordered("companies") == []


def test_a_lenient_sandbox_keeps_what_a_strict_one_refuses() -> None:
    loose = Sandbox(strict=False, access_token=TOKEN)
    running = serve(loose)
    try:
        api = HubSpot(access_token=TOKEN, host=running.url).crm.objects.basic_api
        made = api.create("deals", {"properties": {"dealname": "X", "amount": "lots"}})
        assert loose.store.find("deals", made.id).properties["amount"] == "lots"
    finally:
        running.stop()


# -- requests -------------------------------------------------------------------------


def test_enumeration_options_without_hidden_are_refused(
    hubspot: HubSpot, server: SandboxServer
) -> None:
    definition = {
        "name": "tier",
        "label": "Tier",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "companyinformation",
        "options": [{"label": "Gold", "value": "gold", "displayOrder": 0}],
    }
    request = urllib.request.Request(
        server.url + "/crm/v3/properties/companies",
        data=json.dumps(definition).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert "Cannot build OptionInput" in json.loads(caught.value.read())["message"]
    definition["options"][0]["hidden"] = False  # type: ignore[index]
    made = hubspot.crm.properties.core_api.create("companies", definition)
    assert [(o.value, o.hidden) for o in made.options] == [("gold", False)]


def test_next_page_link_keeps_the_properties_and_associations_asked_for(
    server: SandboxServer, sandbox: Sandbox
) -> None:
    seed(sandbox, {"companies": [{"properties": {"name": f"C{i}"}} for i in range(3)]})
    first = _get(server, "/crm/v3/objects/companies?limit=2&properties=name&associations=deals")
    link = first["paging"]["next"]["link"]
    query = parse_qs(urlsplit(link).query)
    assert query == {
        "properties": ["name"],
        "associations": ["deals"],
        "limit": ["2"],
        "after": [first["paging"]["next"]["after"]],
    }
    second = _get(server, urlsplit(link).path + "?" + urlsplit(link).query)
    assert [r["properties"]["name"] for r in second["results"]] == ["C2"]


# -- third-party readers ----------------------------------------------------------------


def test_schemas_list_is_empty_without_custom_objects(server: SandboxServer) -> None:
    assert _get(server, "/crm/v3/schemas") == {"results": []}


def test_v2_property_list_is_a_bare_array_with_epoch_times(server: SandboxServer) -> None:
    props = _get(server, "/properties/v2/deal/properties")
    by_name = {p["name"]: p for p in props}
    assert by_name["amount"]["type"] == "number"
    assert by_name["dealstage"]["externalOptions"] is True
    assert all(isinstance(p["createdAt"], int) for p in props)


def test_v2_property_lists_answer_for_hubspots_other_standard_objects_only(
    server: SandboxServer,
) -> None:
    names = {p["name"] for p in _get(server, "/properties/v2/deal_split/properties")}
    assert names == {"hs_object_id", "hs_createdate", "hs_lastmodifieddate"}
    with pytest.raises(urllib.error.HTTPError) as caught:
        _get(server, "/properties/v2/no_such_object/properties")
    assert caught.value.code == 404
