"""A deal Lifecycle made, as HubSpot stores it, and the fingerprint of that: the push
sends the properties, and inbound compares fingerprints to tell whether HubSpot's copy
is still the one we pushed."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from accounts.hubspot.rules import fields as fieldspecs
from accounts.models import Deal


def properties_hash(properties: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()


def deal_properties(deal: Deal) -> dict[str, str]:
    """The deal as HubSpot stores it; ValueError when its pipeline is not HubSpot's."""
    if not deal.pipeline.hubspot_id or not deal.stage.hubspot_id:
        raise ValueError(
            f"pipeline {deal.pipeline.label} / stage {deal.stage.label} is not a HubSpot "
            "pipeline stage: map the renewal pipeline to one imported from HubSpot"
        )
    close = ""
    if deal.close_date:
        close = str(int(datetime(*deal.close_date.timetuple()[:3], tzinfo=UTC).timestamp() * 1000))
    return {
        fieldspecs.DEAL_ID_PROPERTY: str(deal.pk),
        "dealname": deal.name,
        "amount": fieldspecs.canonical_number(deal.amount),
        "closedate": close,
        "pipeline": deal.pipeline.hubspot_id,
        "dealstage": deal.stage.hubspot_id,
    }


def deal_fingerprint(deal: Deal) -> str:
    """The hash of the deal as HubSpot stores it (ValueError: not a HubSpot pipeline)."""
    return properties_hash(deal_properties(deal))
