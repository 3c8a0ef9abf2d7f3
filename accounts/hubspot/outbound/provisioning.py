"""Our property group and properties in the portal (the CS fields, the unique
`lifecycle_account_id` and `lifecycle_deal_id`), created when missing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError

logger = logging.getLogger(__name__)


# -- provisioning ------------------------------------------------------------------------


@dataclass
class Provisioned:
    group_created: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def _created(create: Callable[[], Any]) -> bool:
    """Run a create; another worker provisioning at the same moment (409) is fine."""
    try:
        create()
    except HubSpotError as exc:
        if exc.status == 409:
            return False
        raise
    return True


def provision(client: HubSpotClient) -> Provisioned:
    """Make the portal hold what Lifecycle writes: the property group, each custom
    company property with its type, enumeration options in step with our choices, and
    the unique `lifecycle_account_id`. Idempotent: run on connect and before pushes."""
    done = Provisioned()
    for object_type in ("companies", "deals"):
        groups = {g.get("name") for g in client.property_groups(object_type)}
        if fieldspecs.PROPERTY_GROUP["name"] not in groups:
            done.group_created |= _created(
                partial(client.create_property_group, object_type, dict(fieldspecs.PROPERTY_GROUP))
            )
    deal_props = {p["name"] for p in client.properties("deals")}
    if fieldspecs.DEAL_ID_PROPERTY not in deal_props and _created(
        partial(client.create_property, "deals", fieldspecs.DEAL_ID_DEFINITION)
    ):
        done.created.append(fieldspecs.DEAL_ID_PROPERTY)
    existing = {p["name"]: p for p in client.properties("companies")}
    for definition in fieldspecs.definitions():
        current = existing.get(definition["name"])
        if current is None:
            if _created(partial(client.create_property, "companies", definition)):
                done.created.append(definition["name"])
            continue
        wanted = [(o["value"], o["label"]) for o in definition.get("options") or []]
        have = [(o.get("value"), o.get("label")) for o in current.get("options") or []]
        if wanted and wanted != have:
            client.update_property(
                "companies", definition["name"], {"options": definition["options"]}
            )
            done.updated.append(definition["name"])
    return done
