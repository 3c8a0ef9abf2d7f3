"""Properties, deal pipelines and owners."""

from __future__ import annotations

from typing import Any

from .clock import iso_from_ms, ms_from_text
from .errors import SandboxError
from .http import Request, Response, require
from .schema import ALIASES, OTHER_STANDARD_OBJECTS, other_object_properties
from .store import Store

PROPERTY_TYPES = {"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"}


def list_properties(store: Store, req: Request, object_type: str) -> Response:
    return Response(200, {"results": list(store.properties[object_type].values())})


def get_property(store: Store, req: Request, object_type: str, name: str) -> Response:
    prop = store.properties[object_type].get(name)
    if prop is None:
        raise SandboxError(404, f"Unable to find property {name}", category="OBJECT_NOT_FOUND")
    return Response(200, prop)


def create_property(store: Store, req: Request, object_type: str) -> Response:
    body = req.json()
    name = str(body.get("name", ""))
    require(body, ("name", "label", "type", "fieldType", "groupName"), model="PropertyCreate")
    if body["type"] not in PROPERTY_TYPES:
        raise SandboxError(400, f"Unknown property type {body['type']}")
    _check_group(store, object_type, str(body["groupName"]))
    if name in store.properties[object_type]:
        raise SandboxError(
            409, f"A property named '{name}' already exists.", category="OBJECT_ALREADY_EXISTS"
        )
    now = iso_from_ms(store.clock.now_ms())
    prop: dict[str, Any] = {
        "name": name,
        "label": body["label"],
        "type": body["type"],
        "fieldType": body["fieldType"],
        "groupName": body["groupName"],
        "description": body.get("description", ""),
        "options": _options(body.get("options") or []),
        "hasUniqueValue": bool(body.get("hasUniqueValue", False)),
        "calculated": False,
        "hubspotDefined": False,
        "hidden": bool(body.get("hidden", False)),
        "formField": bool(body.get("formField", False)),
        "displayOrder": body.get("displayOrder", -1),
        "archived": False,
        "createdAt": now,
        "updatedAt": now,
        "modificationMetadata": {
            "archivable": True,
            "readOnlyDefinition": False,
            "readOnlyValue": False,
        },
    }
    store.properties[object_type][name] = prop
    return Response(201, prop)


OPTION_FIELDS = ("label", "value", "hidden")


def _options(options: list[Any]) -> list[dict[str, Any]]:
    """Enumeration options as given; HubSpot's OptionInput requires each of
    OPTION_FIELDS (`hidden` too) and refuses an option without one."""
    for option in options:
        require(option, OPTION_FIELDS, model="OptionInput")
    return [
        {
            "label": str(o["label"]),
            "value": str(o["value"]),
            "displayOrder": int(o.get("displayOrder", i)),
            "hidden": bool(o["hidden"]),
            "description": str(o.get("description") or ""),
        }
        for i, o in enumerate(options)
    ]


def list_pipelines(store: Store, req: Request, object_type: str) -> Response:
    """Deal and ticket pipelines (ticket stages carry `metadata.ticketState`)."""
    if object_type == "tickets":
        return Response(200, {"results": store.ticket_pipelines})
    if object_type != "deals":
        return Response(200, {"results": []})
    return Response(200, {"results": store.pipelines})


def list_owners(store: Store, req: Request) -> Response:
    limit = int(req.arg("limit", "100") or 100)
    start = int(req.arg("after", "0") or 0)
    email = req.arg("email")
    owners = [o for o in store.owners if not email or o["email"] == email]
    owners = [o for o in owners if o.get("archived", False) == req.flag("archived")]
    page = owners[start : start + limit]
    body: dict[str, Any] = {"results": page}
    if start + limit < len(owners):
        body["paging"] = {"next": {"after": str(start + limit)}}
    return Response(200, body)


def add_owner(
    store: Store, *, email: str, first_name: str = "", last_name: str = "", owner_id: str = ""
) -> dict[str, Any]:
    """Create an owner (a HubSpot user); owners have no write API, so this is sandbox-only."""
    now = iso_from_ms(store.clock.now_ms())
    oid = owner_id or str(100 + len(store.owners) + 1)
    owner = {
        "id": oid,
        "email": email,
        "firstName": first_name,
        "lastName": last_name,
        "userId": int(oid) * 10,
        "type": "PERSON",
        "teams": [],
        "createdAt": now,
        "updatedAt": now,
        "archived": False,
    }
    store.owners.append(owner)
    owner_prop = store.properties
    for ot in owner_prop:
        owner_prop[ot]["hubspot_owner_id"]["options"].append(
            {
                "label": f"{first_name} {last_name}".strip() or email,
                "value": oid,
                "displayOrder": len(store.owners),
                "hidden": False,
            }
        )
    return owner


def _check_group(store: Store, object_type: str, name: str) -> None:
    if name not in store.groups[object_type]:
        raise SandboxError(
            400, f"Property group {name} does not exist.", category="VALIDATION_ERROR"
        )


def list_groups(store: Store, req: Request, object_type: str) -> Response:
    return Response(200, {"results": list(store.groups[object_type].values())})


def create_group(store: Store, req: Request, object_type: str) -> Response:
    body = req.json()
    require(body, ("name", "label"), model="PropertyGroupCreate")
    name = str(body["name"])
    if name in store.groups[object_type]:
        raise SandboxError(
            409,
            f"A property group named '{name}' already exists.",
            category="OBJECT_ALREADY_EXISTS",
        )
    group = {
        "name": name,
        "label": str(body["label"]),
        "displayOrder": int(body.get("displayOrder", -1)),
        "archived": False,
    }
    store.groups[object_type][name] = group
    return Response(201, group)


UPDATABLE = ("label", "description", "groupName", "options", "displayOrder", "hidden")


def update_property(store: Store, req: Request, object_type: str, name: str) -> Response:
    """PATCH a property: options are replaced as a whole, as HubSpot does."""
    prop = store.properties[object_type].get(name)
    if prop is None:
        raise SandboxError(404, f"Unable to find property {name}", category="OBJECT_NOT_FOUND")
    body = req.json()
    if "name" in body and body["name"] != name:
        raise SandboxError(400, f"The name of property {name} cannot change.")
    retyped = [k for k in ("type", "fieldType") if k in body and body[k] != prop.get(k)]
    if prop.get("hubspotDefined") and retyped:
        raise SandboxError(400, f"The type of HubSpot's property {name} cannot change.")
    if "type" in body and body["type"] not in PROPERTY_TYPES:
        raise SandboxError(400, f"Unknown property type {body['type']}")
    if "groupName" in body:
        _check_group(store, object_type, str(body["groupName"]))
    for key in UPDATABLE:
        if key not in body:
            continue
        if key == "options":
            prop["options"] = _options(body["options"] or [])
        else:
            prop[key] = body[key]
    for key in retyped:
        prop[key] = body[key]
    prop["updatedAt"] = iso_from_ms(store.clock.now_ms())
    return Response(200, prop)


def list_schemas(store: Store, req: Request) -> Response:
    """Custom object schemas: none in this portal (it has only HubSpot's own objects)."""
    return Response(200, {"results": []})


def list_properties_v2(store: Store, req: Request, v2_object: str) -> Response:
    """The legacy v2 property list (a bare array, times in epoch ms) that older readers
    such as Airbyte's connector still call, for every HubSpot standard object: ours in
    full, the others (which this portal holds no records of) with the properties every
    object has."""
    if v2_object in ALIASES:
        props = list(store.properties[ALIASES[v2_object]].values())
    elif v2_object in OTHER_STANDARD_OBJECTS:
        props = other_object_properties()
    else:
        raise SandboxError(404, f"Unknown object type {v2_object}", category="OBJECT_NOT_FOUND")
    return Response(200, [_v2_property(p) for p in props])


def _v2_property(prop: dict[str, Any]) -> dict[str, Any]:
    meta = prop.get("modificationMetadata") or {}
    return {
        "name": prop["name"],
        "label": prop["label"],
        "description": prop.get("description", ""),
        "groupName": prop.get("groupName", ""),
        "type": prop["type"],
        "fieldType": prop["fieldType"],
        "options": [
            {**o, "readOnly": False, "description": o.get("description", "")}
            for o in prop.get("options") or []
        ],
        "hidden": bool(prop.get("hidden")),
        "displayOrder": prop.get("displayOrder", -1),
        "calculated": bool(prop.get("calculated")),
        "externalOptions": prop["name"] in {"hubspot_owner_id", "pipeline", "dealstage"},
        "hasUniqueValue": bool(prop.get("hasUniqueValue")),
        "formField": bool(prop.get("formField")),
        "readOnlyValue": bool(meta.get("readOnlyValue")),
        "readOnlyDefinition": bool(meta.get("readOnlyDefinition")),
        "hubspotDefined": bool(prop.get("hubspotDefined")),
        "deleted": False,
        "createdAt": ms_from_text(str(prop.get("createdAt") or "")) or 0,
        "updatedAt": ms_from_text(str(prop.get("updatedAt") or "")) or 0,
    }
