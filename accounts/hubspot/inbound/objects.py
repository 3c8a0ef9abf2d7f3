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
            rows = _v4_rows(links.get(str(record["id"]), []))
            record.setdefault("associations", {})[to_type] = {"results": rows}
    return records


def _v4_rows(links: list[Record]) -> list[Record]:
    return [
        {
            "id": str(link["toObjectId"]),
            "typeIds": [t.get("typeId") for t in link.get("associationTypes") or []],
        }
        for link in links
    ]


# Types whose list pages ask for their links inline (v3 `associations=`), so one request
# reads a page and its links (the full import). Inline links carry v3 type names, which
# cannot tell the primary company (docs/hubspot-facts.md), so a record whose account
# hangs on its primary company (PRIMARY_COMPANY) and that lists several companies is
# read again from associations v4, whose type ids tell; so is any record with more
# links of a type than HubSpot lists inline (100; it pages the rest). One
# v4 batch call per page and type covers those few; a page without any makes none.
LISTED_ASSOCIATIONS = {
    "deals": ("companies",),
    "contacts": ("companies",),
    **{t: ("companies", "contacts") for t in SUPPORT_TYPES},
}
# An engagement's or a survey answer's companies are all equal; a ticket's are not.
PRIMARY_COMPANY = frozenset({"deals", "contacts", "tickets"})


def with_listed_associations(
    client: HubSpotClient, object_type: str, records: list[Record]
) -> list[Record]:
    """Records from a list page asked with LISTED_ASSOCIATIONS: their inline v3 links in
    the v4-shaped rows the writers read. Links v3 cannot give in full (several companies
    where the primary matters; more than fit inline) are re-read from v4 for those
    records only."""
    reread: dict[str, list[Record]] = {}
    for record in records:
        inline = record.get("associations") or {}
        rows: dict[str, Record] = {}
        for to_type in LISTED_ASSOCIATIONS[object_type]:
            listed = inline.get(to_type) or {}
            ids = dict.fromkeys(str(r["id"]) for r in listed.get("results") or [])
            rows[to_type] = {"results": [{"id": i, "typeIds": []} for i in ids]}
            several = to_type == "companies" and object_type in PRIMARY_COMPANY and len(ids) > 1
            if listed.get("paging") or several:
                reread.setdefault(to_type, []).append(record)
        record["associations"] = rows
    for to_type, pending in reread.items():
        links = client.read_associations(object_type, to_type, [str(r["id"]) for r in pending])
        for record in pending:
            found = _v4_rows(links.get(str(record["id"]), []))
            record["associations"][to_type] = {"results": found}
    return records
