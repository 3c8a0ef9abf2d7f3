"""Properties, pipelines, owners, associations v4, merges and property history."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException, SimplePublicObjectInputForCreate
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import OptionInput, PropertyCreate

from accounts.hubspot.sandbox import Sandbox, seed


def _create(hubspot: HubSpot, object_type: str, **props: str) -> str:
    body = SimplePublicObjectInputForCreate(properties=props)
    return hubspot.crm.objects.basic_api.create(object_type, body).id


def test_property_create_with_options_and_unique_value(hubspot: HubSpot) -> None:
    core = hubspot.crm.properties.core_api
    created = core.create(
        "deals",
        PropertyCreate(
            name="lifecycle_health",
            label="Health",
            type="enumeration",
            field_type="select",
            group_name="dealinformation",
            options=[OptionInput(label="Good", value="good", display_order=0, hidden=False)],
        ),
    )
    assert created.name == "lifecycle_health" and created.options[0].value == "good"
    names = {p.name for p in core.get_all("deals").results}
    assert {"lifecycle_health", "dealname", "dealstage", "pipeline"} <= names
    with pytest.raises(PropertiesApiException) as caught:
        core.create(
            "deals",
            PropertyCreate(
                name="lifecycle_health",
                label="x",
                type="string",
                field_type="text",
                group_name="dealinformation",
            ),
        )
    assert caught.value.status == 409


def test_pipeline_stage_metadata_values_are_strings(hubspot: HubSpot) -> None:
    pipeline = hubspot.crm.pipelines.pipelines_api.get_all("deals").results[0]
    closed_won = next(s for s in pipeline.stages if s.id == "closedwon")
    assert closed_won.metadata == {"isClosed": "true", "probability": "1.0"}


def test_owners_list(hubspot: HubSpot, sandbox: Sandbox) -> None:
    seed(sandbox, {"owners": [{"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee"}]})
    owners = hubspot.crm.owners.owners_api.get_page().results
    assert [(o.email, o.first_name, o.type, o.archived) for o in owners] == [
        ("ann@example.com", "Ann", "PERSON", False)
    ]
    assert isinstance(owners[0].user_id, int)


def test_default_association_links_both_ways(hubspot: HubSpot) -> None:
    deal = _create(hubspot, "deals", dealname="Renewal")
    company = _create(hubspot, "companies", name="Acme")
    hubspot.crm.associations.v4.basic_api.create_default("deals", deal, "companies", company)
    got = hubspot.crm.objects.basic_api.get_by_id("companies", company, associations=["deals"])
    assert got.associations["deals"].results[0].id == deal
    # A default link is unlabeled; live portals name it so in v3.
    assert got.associations["deals"].results[0].type == "company_to_deal_unlabeled"
    read = hubspot.crm.associations.v4.batch_api.get_page(
        "deals", "companies", {"inputs": [{"id": deal}]}
    )
    # HubSpot sends toObjectId as a number; the client's model turns it into a string.
    assert read.results[0].to[0].to_object_id == company
    assert read.results[0].to[0].association_types[0].type_id == 341


def test_batch_associations_create_read_archive(hubspot: HubSpot) -> None:
    deal = _create(hubspot, "deals", dealname="New")
    companies = [_create(hubspot, "companies", name=n) for n in ("A", "B")]
    batch = hubspot.crm.associations.v4.batch_api
    batch.create(
        "deals",
        "companies",
        {
            "inputs": [
                {
                    "from": {"id": deal},
                    "to": {"id": c},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}],
                }
                for c, t in zip(companies, (5, 341), strict=True)
            ]
        },
    )
    read = batch.get_page("deals", "companies", {"inputs": [{"id": deal}]})
    types = {t.to_object_id: [a.type_id for a in t.association_types] for t in read.results[0].to}
    # HubSpot keeps the unlabeled link beside the primary one.
    assert types == {companies[0]: [5, 341], companies[1]: [341]}
    batch.archive(
        "deals", "companies", {"inputs": [{"from": {"id": deal}, "to": [{"id": companies[0]}]}]}
    )
    read = batch.get_page("deals", "companies", {"inputs": [{"id": deal}]})
    assert [t.to_object_id for t in read.results[0].to] == [companies[1]]


def test_associations_batch_read_caps_at_1000(hubspot: HubSpot) -> None:
    from hubspot.crm.associations.v4 import ApiException as AssociationsApiException

    with pytest.raises(AssociationsApiException) as caught:
        hubspot.crm.associations.v4.batch_api.get_page(
            "deals", "companies", {"inputs": [{"id": str(i)} for i in range(1001)]}
        )
    assert caught.value.status == 400


@pytest.mark.parametrize("new_id", [False, True])
def test_merge_keeps_primary_values_and_old_ids_return_the_survivor(
    hubspot: HubSpot, sandbox: Sandbox, new_id: bool
) -> None:
    sandbox.merge_new_ids = new_id
    primary = _create(hubspot, "companies", name="Acme")
    merged = _create(hubspot, "companies", name="Acme Inc", domain="acme.com")
    deal = _create(hubspot, "deals", dealname="D")
    hubspot.crm.associations.v4.basic_api.create_default("deals", deal, "companies", merged)
    survivor = hubspot.crm.companies.basic_api.merge(
        {"primaryObjectId": primary, "objectIdToMerge": merged}
    )
    assert (survivor.id != primary) is new_id
    assert survivor.properties["name"] == "Acme"
    assert survivor.properties["domain"] == "acme.com"
    merged_ids = set(survivor.properties["hs_merged_object_ids"].split(";"))
    assert merged_ids == ({merged, primary} if new_id else {merged})
    api = hubspot.crm.objects.basic_api
    for old in (primary, merged):
        assert api.get_by_id("companies", old).id == survivor.id
    assert [r.id for r in api.get_page("companies").results] == [survivor.id]
    linked = api.get_by_id("deals", deal, associations=["companies"]).associations
    assert linked["companies"].results[0].id == survivor.id


def test_property_history_newest_first_on_get_list_and_batch_read(
    hubspot: HubSpot, sandbox: Sandbox
) -> None:
    from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectInput

    rid = _create(hubspot, "companies", name="One")
    api = hubspot.crm.objects.basic_api
    api.update("companies", rid, SimplePublicObjectInput(properties={"name": "Two"}))
    got = api.get_by_id("companies", rid, properties_with_history=["name"])
    assert [h.value for h in got.properties_with_history["name"]] == ["Two", "One"]
    page = api.get_page("companies", properties_with_history=["name"])
    assert [h.value for h in page.results[0].properties_with_history["name"]] == ["Two", "One"]
    batch = hubspot.crm.objects.batch_api.read(
        "companies",
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": rid}], properties=[], properties_with_history=["name"]
        ),
    )
    assert batch.results[0].properties_with_history["name"][0].value == "Two"


def test_missing_record_is_404_with_hubspot_body(hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as caught:
        hubspot.crm.objects.basic_api.get_by_id("deals", "424242")
    assert caught.value.status == 404


def test_malformed_input_is_a_400_not_a_dropped_connection(hubspot: HubSpot) -> None:
    from hubspot.crm.associations.v4 import ApiException as AssociationsApiException

    with pytest.raises(AssociationsApiException) as caught:
        hubspot.crm.associations.v4.batch_api.create(
            "deals", "companies", {"inputs": [{"to": {"id": "1"}}]}
        )
    assert caught.value.status == 400
