"""Property groups and property updates, through hubspot-api-client and HubSpotClient."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyGroupCreate, PropertyUpdate

from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer, dump, load, seed
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError

from .conftest import TOKEN, error_body

HEALTH = {
    "name": "lifecycle_health",
    "label": "Health",
    "type": "enumeration",
    "fieldType": "select",
    "groupName": "lifecycle",
    "options": [
        {"label": "Good", "value": "good", "displayOrder": 0, "hidden": False},
        {"label": "Poor", "value": "poor", "displayOrder": 1, "hidden": False},
    ],
}


@pytest.fixture
def client(server: SandboxServer) -> HubSpotClient:
    return HubSpotClient(access_token=TOKEN, base_url=server.url)


def _lifecycle_group(client: HubSpotClient) -> None:
    client.create_property_group("companies", {"name": "lifecycle", "label": "Lifecycle"})


def _raw(server: SandboxServer, method: str, path: str, body: dict[str, Any]) -> int:
    """Send what hubspot-api-client's models refuse to build; return the status."""
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_each_object_type_starts_with_hubspots_default_groups(hubspot: HubSpot) -> None:
    groups_api, core = hubspot.crm.properties.groups_api, hubspot.crm.properties.core_api
    for object_type, own in [
        ("companies", "companyinformation"),
        ("deals", "dealinformation"),
        ("contacts", "contactinformation"),
    ]:
        groups = groups_api.get_all(object_type).results
        names = {g.name for g in groups}
        assert own in names
        assert all(g.label and g.archived is False for g in groups)
        # Every property HubSpot ships sits in a group the portal has.
        assert {p.group_name for p in core.get_all(object_type).results} <= names


def test_group_created_then_a_property_in_it(client: HubSpotClient) -> None:
    created = client.create_property_group(
        "companies", {"name": "lifecycle", "label": "Lifecycle", "displayOrder": 7}
    )
    assert created == {
        "name": "lifecycle",
        "label": "Lifecycle",
        "displayOrder": 7,
        "archived": False,
    }
    assert "lifecycle" in {g["name"] for g in client.property_groups("companies")}
    # Groups belong to one object type.
    assert "lifecycle" not in {g["name"] for g in client.property_groups("deals")}

    client.create_property("companies", HEALTH)
    health = next(p for p in client.properties("companies") if p["name"] == "lifecycle_health")
    assert health["groupName"] == "lifecycle"


def test_duplicate_group_answers_409(hubspot: HubSpot) -> None:
    groups_api = hubspot.crm.properties.groups_api
    groups_api.create("deals", PropertyGroupCreate(name="lifecycle", label="Lifecycle"))
    with pytest.raises(PropertiesApiException) as caught:
        groups_api.create("deals", PropertyGroupCreate(name="lifecycle", label="Again"))
    assert caught.value.status == 409
    assert error_body(caught.value)["category"] == "OBJECT_ALREADY_EXISTS"
    labels = [g.label for g in groups_api.get_all("deals").results if g.name == "lifecycle"]
    assert labels == ["Lifecycle"]


@pytest.mark.parametrize("body", [{"label": "No name"}, {"name": "nolabel"}])
def test_group_without_name_or_label_answers_400(
    server: SandboxServer, client: HubSpotClient, body: dict[str, Any]
) -> None:
    assert _raw(server, "POST", "/crm/v3/properties/companies/groups", body) == 400
    assert "nolabel" not in {g["name"] for g in client.property_groups("companies")}


def test_property_in_an_unknown_group_answers_400_naming_it(client: HubSpotClient) -> None:
    with pytest.raises(HubSpotError) as caught:
        client.create_property("companies", HEALTH)
    assert caught.value.status == 400 and "lifecycle" in caught.value.message
    assert "lifecycle_health" not in {p["name"] for p in client.properties("companies")}


def test_update_replaces_enumeration_options_and_stamps_updated_at(
    client: HubSpotClient, hubspot: HubSpot, clock: ManualClock
) -> None:
    _lifecycle_group(client)
    created = client.create_property("companies", HEALTH)
    clock.advance(seconds=60)
    updated = client.update_property(
        "companies",
        "lifecycle_health",
        {
            "label": "Account health",
            "options": [
                {"label": "Healthy", "value": "healthy", "displayOrder": 0, "hidden": False},
                {"label": "At risk", "value": "at_risk", "displayOrder": 1, "hidden": True},
            ],
        },
    )
    assert updated["updatedAt"] > created["updatedAt"]
    assert updated["createdAt"] == created["createdAt"]

    read = hubspot.crm.properties.core_api.get_by_name("companies", "lifecycle_health")
    assert read.label == "Account health"
    # The whole list is replaced: "good" and "poor" are gone, not kept alongside.
    assert [(o.value, o.label, o.hidden) for o in read.options] == [
        ("healthy", "Healthy", False),
        ("at_risk", "At risk", True),
    ]


def test_update_moves_a_property_between_existing_groups_only(client: HubSpotClient) -> None:
    _lifecycle_group(client)
    client.create_property("companies", HEALTH)
    moved = client.update_property(
        "companies", "lifecycle_health", {"groupName": "companyinformation"}
    )
    assert moved["groupName"] == "companyinformation"
    with pytest.raises(HubSpotError) as caught:
        client.update_property("companies", "lifecycle_health", {"groupName": "nowhere"})
    assert caught.value.status == 400 and "nowhere" in caught.value.message


def test_update_of_an_unknown_property_answers_404(hubspot: HubSpot) -> None:
    with pytest.raises(PropertiesApiException) as caught:
        hubspot.crm.properties.core_api.update(
            "companies", "no_such_property", PropertyUpdate(label="x")
        )
    assert caught.value.status == 404
    assert error_body(caught.value)["category"] == "OBJECT_NOT_FOUND"


def test_hubspot_defined_property_keeps_its_type_and_name(
    hubspot: HubSpot, server: SandboxServer
) -> None:
    core = hubspot.crm.properties.core_api
    with pytest.raises(PropertiesApiException) as caught:
        core.update("companies", "domain", PropertyUpdate(type="number", field_type="number"))
    assert caught.value.status == 400
    assert _raw(server, "PATCH", "/crm/v3/properties/companies/domain", {"name": "web"}) == 400
    # Restating the type it already has is no change, and the label may change.
    relabelled = core.update("companies", "domain", PropertyUpdate(type="string", label="Web"))
    assert (relabelled.type, relabelled.label) == ("string", "Web")


def test_custom_property_may_change_type(client: HubSpotClient) -> None:
    _lifecycle_group(client)
    client.create_property(
        "companies",
        {
            "name": "lifecycle_seats",
            "label": "Seats",
            "type": "string",
            "fieldType": "text",
            "groupName": "lifecycle",
        },
    )
    changed = client.update_property(
        "companies", "lifecycle_seats", {"type": "number", "fieldType": "number"}
    )
    assert (changed["type"], changed["fieldType"]) == ("number", "number")
    with pytest.raises(HubSpotError) as caught:
        client.update_property("companies", "lifecycle_seats", {"type": "money"})
    assert caught.value.status == 400


def test_groups_and_updated_properties_survive_dump_and_load(
    client: HubSpotClient, sandbox: Sandbox
) -> None:
    _lifecycle_group(client)
    client.create_property("companies", HEALTH)
    client.update_property("companies", "lifecycle_health", {"options": []})
    state = json.loads(json.dumps(dump(sandbox)))

    restored = Sandbox(clock=ManualClock())
    load(restored, state)
    assert "lifecycle" in restored.store.groups["companies"]
    assert restored.store.properties["companies"]["lifecycle_health"]["options"] == []


def test_properties_seeded_or_loaded_without_groups_get_their_group(sandbox: Sandbox) -> None:
    seed(sandbox, {"properties": {"deals": [{"name": "plan_tier", "groupName": "plans"}]}})
    assert "plans" in sandbox.store.groups["deals"]

    state = json.loads(json.dumps(dump(sandbox)))
    del state["groups"]  # a dump from before the sandbox had groups
    restored = Sandbox(clock=ManualClock())
    load(restored, state)
    assert {"dealinformation", "plans"} <= set(restored.store.groups["deals"])
