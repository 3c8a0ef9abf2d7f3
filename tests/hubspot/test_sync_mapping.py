"""The pure mapping functions: internal values, cleared values, reasons to quarantine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from accounts.hubspot.rules.mapping import (
    MappingConfig,
    OwnerRef,
    StageRef,
    Unmappable,
    company_domains,
    company_fields,
    deal_fields,
    owner_problem,
    parse_date,
    stage_fields,
)

OWNERS = {
    "7": OwnerRef(email="ann@example.com", user_pk=3),
    "8": OwnerRef(email="x@y.z", user_pk=None),
}


def _company(**props: str) -> dict[str, Any]:
    return {"id": "1", "properties": {"name": "Acme", **props}}


def test_company_maps_domain_owner_and_arr_and_clears_empty_values() -> None:
    fields = company_fields(
        _company(domain="HTTPS://www.Acme.com/x", hubspot_owner_id="7", annualrevenue="1,200.5"),
        config=MappingConfig(),
        owners=OWNERS,
    )
    assert fields == {
        "name": "Acme",
        "domain": "acme.com",
        "owner_id": 3,
        "arr": Decimal("1200.50"),
    }
    cleared = company_fields(
        _company(hubspot_owner_id="", annualrevenue=""), config=MappingConfig(), owners=OWNERS
    )
    assert (cleared["owner_id"], cleared["arr"], cleared["domain"]) == (None, Decimal("0"), "")
    assert "arr" not in company_fields(
        _company(), config=MappingConfig(arr_source="won_deals"), owners={}
    )


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        ({"name": ""}, "the company has no name"),
        ({"annualrevenue": "lots"}, "annualrevenue is not a number: 'lots'"),
    ],
)
def test_company_reasons(props: dict[str, str], reason: str) -> None:
    with pytest.raises(Unmappable) as caught:
        company_fields(_company(**props), config=MappingConfig(), owners=OWNERS)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("owner_id", "problem"),
    [
        ("9", "unknown HubSpot owner 9"),
        ("8", "HubSpot owner 8 (x@y.z) is not mapped to a user"),
    ],
)
def test_an_owner_lifecycle_cannot_name_leaves_the_company_mappable_without_one(
    owner_id: str, problem: str
) -> None:
    fields = company_fields(
        _company(hubspot_owner_id=owner_id), config=MappingConfig(), owners=OWNERS
    )
    assert (fields["name"], fields["owner_id"]) == ("Acme", None)
    assert owner_problem(owner_id, OWNERS) == problem
    assert owner_problem("", OWNERS) == ""


def test_company_domains_are_its_own_then_its_additional_ones_normalised() -> None:
    record = _company(
        domain="https://www.Acme.com/about", hs_additional_domains="acme.io; WWW.acme.co.uk.;;"
    )
    assert company_domains(record) == ["acme.com", "acme.io", "acme.co.uk"]
    assert company_domains(_company(domain="", hs_additional_domains="")) == []


def test_deal_stage_is_matched_by_internal_value_not_label() -> None:
    stages = {("default", "closedwon"): StageRef(pipeline_pk=1, stage_pk=2, is_won=True)}
    deal: dict[str, Any] = {
        "id": "5",
        "properties": {
            "dealname": "D",
            "pipeline": "default",
            "dealstage": "closedwon",
            "closedate": "1717000000000",
        },
        "associations": {
            "companies": {
                # As the engine reads them from associations v4: 4 is the primary
                # (type 5, with the unlabeled 341 beside it), 9 a plain link.
                "results": [
                    {"id": "9", "typeIds": [341]},
                    {"id": "4", "typeIds": [5, 341]},
                ]
            }
        },
    }
    fields = deal_fields(deal, stages=stages, accounts={"9": 90, "4": 40})
    assert (fields["stage_id"], fields["account_id"], fields["close_date"]) == (
        2,
        40,
        date(2024, 5, 29),
    )
    deal["properties"]["dealstage"] = "Closed Won"
    with pytest.raises(Unmappable, match="unknown stage 'Closed Won'"):
        deal_fields(deal, stages=stages, accounts={"4": 40})


def test_dates_and_stage_metadata() -> None:
    assert parse_date("2026-01-31T23:30:00-02:00", field="d") == date(2026, 2, 1)
    assert parse_date("", field="d") is None
    won = stage_fields(
        {"id": "w", "label": "Won", "metadata": {"isClosed": "true", "probability": "1.0"}}
    )
    lost = stage_fields(
        {"id": "l", "label": "Lost", "metadata": {"isClosed": "true", "probability": "0.0"}}
    )
    assert (won["is_won"], won["is_closed"], lost["is_won"], lost["is_closed"]) == (
        True,
        True,
        False,
        True,
    )
