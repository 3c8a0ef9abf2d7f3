"""Saving, loading and seeding sandbox state as plain JSON-able dicts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clock import iso_from_ms
from .meta_api import add_owner
from .schema import OBJECT_TYPES, default_groups, default_properties
from .store import Record, Source, Store
from .support_schema import default_ticket_pipelines

if TYPE_CHECKING:
    from .app import Sandbox

FORMAT = "lifecycle-hubspot-sandbox/1"


def dump(sandbox: Sandbox) -> dict[str, Any]:
    """Everything needed to rebuild the portal (search index lag is not kept)."""
    s = sandbox.store
    with s.lock:
        return {
            "format": FORMAT,
            "tier": sandbox.limiter.tier_name,
            "next_id": s.next_id,
            "properties": s.properties,
            "groups": s.groups,
            "pipelines": s.pipelines,
            "ticket_pipelines": s.ticket_pipelines,
            "owners": s.owners,
            "aliases": s.aliases,
            "records": {
                ot: [
                    {
                        "id": r.id,
                        "properties": r.properties,
                        "history": r.history,
                        "created_ms": r.created_ms,
                        "updated_ms": r.updated_ms,
                        "archived": r.archived,
                        "archived_ms": r.archived_ms,
                    }
                    for r in s.ordered(ot) + s.ordered(ot, archived=True)
                ]
                for ot in OBJECT_TYPES
            },
            "associations": [
                {"from": f[0], "fromId": f[1], "to": t[0], "toId": t[1], "types": sorted(types)}
                for f, links in s.associations.items()
                for t, types in links.items()
            ],
            "webhooks": asdict(sandbox.webhooks.settings),
        }


def load(sandbox: Sandbox, state: dict[str, Any]) -> None:
    """Replace the portal's state with a `dump`."""
    if state.get("format") != FORMAT:
        raise ValueError(f"not a sandbox dump (format {state.get('format')!r})")
    s = sandbox.store
    with s.lock:
        sandbox.limiter.set_tier(state.get("tier", "off"))
        s.next_id = state["next_id"]
        # Dumps made before the portal knew an object type get its defaults.
        s.properties = {**default_properties(), **state["properties"]}
        s.groups = {**default_groups(), **(state.get("groups") or {})}
        _add_missing_groups(s)
        s.pipelines = state["pipelines"]
        s.ticket_pipelines = state.get("ticket_pipelines") or default_ticket_pipelines(
            iso_from_ms(s.clock.now_ms())
        )
        s.owners = state["owners"]
        s.aliases = {ot: {} for ot in OBJECT_TYPES} | state["aliases"]
        s.records = {ot: {} for ot in OBJECT_TYPES}
        for ot, rows in state["records"].items():
            for row in rows:
                record = Record(
                    ot,
                    row["id"],
                    row["properties"],
                    created_ms=row["created_ms"],
                    updated_ms=row["updated_ms"],
                    history=row["history"],
                    archived=row["archived"],
                    archived_ms=row["archived_ms"],
                )
                record.search_versions = [(0, None if record.archived else dict(record.properties))]
                s.records[ot][record.id] = record
        s.associations = {}
        for link in state["associations"]:
            s.associations.setdefault((link["from"], link["fromId"]), {})[
                (link["to"], link["toId"])
            ] = set(link["types"])
        for key, value in state.get("webhooks", {}).items():
            setattr(sandbox.webhooks.settings, key, value)


def seed(sandbox: Sandbox, data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Add records from a simple description, without firing webhooks.

    `data` may hold `properties` ({type: [definition]}), `owners` ([{email, firstName,
    lastName}]), one list per object type of `{"key": "acme", "properties": {...}}`, and
    `associations` ([{"from": "deals", "fromKey": "d1", "to": "companies", "toKey": "acme"}],
    or "fromId"/"toId" for records seeded before)
    and deal `pipelines` ([{"id", "label", "stages": [{"id", "label", "isClosed",
    "probability"}]}]).
    Returns the ids given to each key, per object type.
    """
    if data.get("format") == FORMAT:
        load(sandbox, data)
        return {}
    s = sandbox.store
    ids: dict[str, dict[str, str]] = {ot: {} for ot in OBJECT_TYPES}
    seeding = Source(source_type="IMPORT", change_source="IMPORT")
    with s.lock:
        listeners, s.listeners = s.listeners, []
        try:
            for ot, defs in (data.get("properties") or {}).items():
                for definition in defs:
                    s.properties[ot][definition["name"]] = {
                        "description": "",
                        "options": [],
                        "hasUniqueValue": False,
                        "calculated": False,
                        "hidden": False,
                        "formField": False,
                        "groupName": "information",
                        "fieldType": "text",
                        "type": "string",
                        "label": definition["name"],
                        **definition,
                    }
            _add_missing_groups(s)
            now_iso = iso_from_ms(s.clock.now_ms())
            for pipeline in data.get("pipelines") or []:
                # {"id", "label", "stages": [{"id", "label", "isClosed", "probability"}]}
                s.pipelines.append(_pipeline(pipeline, now_iso))
            for pipeline in data.get("ticket_pipelines") or []:
                # {"id", "label", "stages": [{"id", "label", "isClosed"}]}
                s.ticket_pipelines.append(_ticket_pipeline(pipeline, now_iso))
            for owner in data.get("owners") or []:
                add_owner(
                    s,
                    email=owner["email"],
                    first_name=owner.get("firstName", ""),
                    last_name=owner.get("lastName", ""),
                    owner_id=str(owner.get("id", "")),
                )
            for ot in OBJECT_TYPES:
                for i, row in enumerate(data.get(ot) or []):
                    record = s.create(
                        ot,
                        row.get("properties") or {},
                        source=seeding,
                        allow_read_only=True,
                        at_ms=row.get("at_ms"),
                        lenient=True,
                    )
                    # Seeded data predates the test: already in the search index.
                    record.search_versions = [(0, dict(record.properties))]
                    if row.get("archived"):
                        s.archive(record)
                        record.search_versions = [(0, None)]
                    ids[ot][str(row.get("key", i))] = record.id
            for link in data.get("associations") or []:
                # Ends by key (records of this seed) or by id (records already there).
                s.associate(
                    link["from"],
                    str(link.get("fromId") or ids[link["from"]][link["fromKey"]]),
                    link["to"],
                    str(link.get("toId") or ids[link["to"]][link["toKey"]]),
                    link.get("types") or [],
                )
        finally:
            s.listeners = listeners
    return ids


def _pipeline(data: dict[str, Any], now_iso: str) -> dict[str, Any]:
    """A deal pipeline in HubSpot's shape (stage metadata are strings, as HubSpot's)."""
    return {
        "id": str(data["id"]),
        "label": data["label"],
        "displayOrder": int(data.get("displayOrder", 1)),
        "createdAt": now_iso,
        "updatedAt": now_iso,
        "archived": False,
        "stages": [
            {
                "id": str(stage["id"]),
                "label": stage["label"],
                "displayOrder": i,
                "metadata": {
                    "isClosed": "true" if stage.get("isClosed") else "false",
                    "probability": str(stage.get("probability", "0")),
                },
                "createdAt": now_iso,
                "updatedAt": now_iso,
                "archived": False,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for i, stage in enumerate(data.get("stages") or [])
        ],
    }


def _ticket_pipeline(data: dict[str, Any], now_iso: str) -> dict[str, Any]:
    """A ticket pipeline in HubSpot's shape: stages say `ticketState` OPEN or CLOSED."""
    return {
        "id": str(data["id"]),
        "label": data["label"],
        "displayOrder": int(data.get("displayOrder", 1)),
        "createdAt": now_iso,
        "updatedAt": now_iso,
        "archived": False,
        "stages": [
            {
                "id": str(stage["id"]),
                "label": stage["label"],
                "displayOrder": i,
                "metadata": {"ticketState": "CLOSED" if stage.get("isClosed") else "OPEN"},
                "createdAt": now_iso,
                "updatedAt": now_iso,
                "archived": False,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for i, stage in enumerate(data.get("stages") or [])
        ],
    }


def _add_missing_groups(store: Store) -> None:
    """Give every property's groupName a group, as HubSpot never holds a property
    outside one: dumps from before groups existed, and seeded definitions, name groups
    the portal does not have yet."""
    for ot, props in store.properties.items():
        groups = store.groups.setdefault(ot, {})
        for prop in props.values():
            name = str(prop.get("groupName") or "")
            if name and name not in groups:
                groups[name] = {
                    "name": name,
                    "label": name,
                    "displayOrder": len(groups),
                    "archived": False,
                }


def save_file(sandbox: Sandbox, path: Path) -> None:
    """Write the dump atomically, so a crash mid-save never leaves half a portal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_text(json.dumps(dump(sandbox), indent=1))
    partial.replace(path)


def load_file(sandbox: Sandbox, path: Path) -> None:
    seed(sandbox, json.loads(path.read_text()))
