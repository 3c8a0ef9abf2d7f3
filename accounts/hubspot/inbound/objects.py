"""What sync reads of each HubSpot object type: the order types are written in (companies
before the deals and contacts that point at them), their associations, and the
properties asked for."""

from __future__ import annotations

from django.conf import settings

from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.field_rules import remote_properties, rules_load
from accounts.hubspot.rules.fields import ACCOUNT_ID_PROPERTY, DEAL_ID_PROPERTY
from accounts.hubspot.rules.mapping import Record
from accounts.hubspot.rules.support_mapping import SUPPORT_TYPES, support_properties
from accounts.hubspot.transport.client import HubSpotClient

# The ids a survivor absorbed in merges: asked for on every read, so polling sees merges.
MERGED_PROPERTY = "hs_merged_object_ids"
# Support objects (tickets, survey answers, engagements) come after the contacts they
# may point at; which of them sync is the deployment's HUBSPOT_SUPPORT_OBJECTS.
OBJECT_ORDER = (
    "companies",
    "deals",
    "contacts",
    *(t for t in SUPPORT_TYPES if t in getattr(settings, "HUBSPOT_SUPPORT_OBJECTS", ())),
)
ASSOCIATIONS = {
    "companies": (),
    "deals": ("companies",),
    "contacts": ("companies",),
    **{t: ("companies", "contacts") for t in SUPPORT_TYPES},
}


def properties_for(object_type: str, config: mapping.MappingConfig) -> list[str]:
    if object_type == "companies":
        rules = rules_load(config)
        extra = [*remote_properties(rules), ACCOUNT_ID_PROPERTY, "hs_lastmodifieddate"]
        return list(dict.fromkeys([*config.company_properties(), *extra, MERGED_PROPERTY]))
    if object_type == "deals":
        return [*mapping.DEAL_PROPERTIES, DEAL_ID_PROPERTY, MERGED_PROPERTY]
    if object_type in SUPPORT_TYPES:
        return [*support_properties(object_type), MERGED_PROPERTY]
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


# Types whose list pages ask for their links inline (v3 `associations=`), so one request
# reads a page and its links: their companies need no primary (an engagement's or a
# survey answer's are all equal), except a ticket's when it has several, which alone
# are read again from associations v4 (whose type ids tell the primary).
LISTED_ASSOCIATIONS = {t: ("companies", "contacts") for t in SUPPORT_TYPES}


def with_listed_associations(
    client: HubSpotClient, object_type: str, records: list[Record]
) -> list[Record]:
    """Records from a list page asked with LISTED_ASSOCIATIONS: their inline v3 links in
    the v4-shaped rows the writers read; tickets linked to more than one company are
    re-read from v4 (one call for the page's few)."""
    ambiguous = []
    for record in records:
        inline = record.get("associations") or {}
        for to_type in LISTED_ASSOCIATIONS[object_type]:
            ids = dict.fromkeys(
                str(r["id"]) for r in (inline.get(to_type) or {}).get("results") or []
            )
            inline[to_type] = {"results": [{"id": i, "typeIds": []} for i in ids]}
        record["associations"] = inline
        if object_type == "tickets" and len(inline["companies"]["results"]) > 1:
            ambiguous.append(record)
    if ambiguous:
        links = client.read_associations(
            object_type, "companies", [str(r["id"]) for r in ambiguous]
        )
        for record in ambiguous:
            record["associations"]["companies"] = {
                "results": [
                    {
                        "id": str(link["toObjectId"]),
                        "typeIds": [t.get("typeId") for t in link.get("associationTypes") or []],
                    }
                    for link in links.get(str(record["id"]), [])
                ]
            }
    return records
