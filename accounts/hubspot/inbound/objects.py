"""What sync reads of each HubSpot object type: the order types are written in (companies
before the deals and contacts that point at them), their associations, and the
properties asked for."""

from __future__ import annotations

from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.field_rules import remote_properties, rules_load
from accounts.hubspot.rules.fields import ACCOUNT_ID_PROPERTY, DEAL_ID_PROPERTY
from accounts.hubspot.rules.mapping import Record
from accounts.hubspot.transport.client import HubSpotClient

OBJECT_ORDER = ("companies", "deals", "contacts")
# The ids a survivor absorbed in merges: asked for on every read, so polling sees merges.
MERGED_PROPERTY = "hs_merged_object_ids"
ASSOCIATIONS = {"companies": (), "deals": ("companies",), "contacts": ("companies",)}


def properties_for(object_type: str, config: mapping.MappingConfig) -> list[str]:
    if object_type == "companies":
        rules = rules_load(config)
        extra = [*remote_properties(rules), ACCOUNT_ID_PROPERTY, "hs_lastmodifieddate"]
        return list(dict.fromkeys([*config.company_properties(), *extra, MERGED_PROPERTY]))
    if object_type == "deals":
        return [*mapping.DEAL_PROPERTIES, DEAL_ID_PROPERTY, MERGED_PROPERTY]
    return [*mapping.CONTACT_PROPERTIES, MERGED_PROPERTY]


def with_associations(
    client: HubSpotClient, object_type: str, records: list[Record]
) -> list[Record]:
    """Add each record's companies with their v4 type ids (one call): search results
    carry no associations, and v3 lists name types in a way that cannot tell primary."""
    to_types = ASSOCIATIONS[object_type]
    if not to_types or not records:
        return records
    for to_type in to_types:
        links = client.read_associations(object_type, to_type, [str(r["id"]) for r in records])
        for record in records:
            rows = [
                {
                    "id": str(link["toObjectId"]),
                    "typeIds": [t.get("typeId") for t in link.get("associationTypes") or []],
                }
                for link in links.get(str(record["id"]), [])
            ]
            record.setdefault("associations", {})[to_type] = {"results": rows}
    return records
    for to_type in to_types:
        links = client.read_associations(object_type, to_type, [str(r["id"]) for r in records])
        for record in records:
            rows = [
                {
                    "id": str(link["toObjectId"]),
                    "type": "primary"
                    if any(
                        t.get("label") == "Primary" or t.get("typeId") in (1, 5)
                        for t in link.get("associationTypes") or []
                    )
                    else "unlabeled",
                }
                for link in links.get(str(record["id"]), [])
            ]
            record.setdefault("associations", {})[to_type] = {"results": rows}
    return records
