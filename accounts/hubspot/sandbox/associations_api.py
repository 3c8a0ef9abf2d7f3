"""Associations v4: default links, batch create/read/archive, per-record listing."""

from __future__ import annotations

from typing import Any

from .clock import iso_from_ms
from .errors import SandboxError, item_error
from .http import Request, Response, inputs
from .schema import ASSOCIATION_TYPES, OBJECT_TYPE_IDS, PRIMARY_TYPES, SINGULAR
from .store import Store

READ_MAX = 1_000
WRITE_MAX = 100
# type id -> (from, to)
TYPE_IDS = {tid: pair for pair, (tid, _) in [*ASSOCIATION_TYPES.items(), *PRIMARY_TYPES.items()]}
PRIMARY_IDS = {tid for tid, _ in PRIMARY_TYPES.values()}


def _spec(type_id: int) -> dict[str, Any]:
    return {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}


def _batch(store: Store, results: list[Any], status: int = 200) -> Response:
    now = iso_from_ms(store.clock.now_ms())
    body = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    return Response(status, body)


def put_default(
    store: Store, req: Request, from_type: str, from_id: str, to_type: str, to_id: str
) -> Response:
    if (from_type, to_type) not in ASSOCIATION_TYPES:
        raise SandboxError(400, f"No default association from {from_type} to {to_type}")
    type_id = ASSOCIATION_TYPES[(from_type, to_type)][0]
    store.associate(from_type, from_id, to_type, to_id, [type_id])
    back = ASSOCIATION_TYPES[(to_type, from_type)][0]
    return _batch(
        store,
        [
            {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": _spec(type_id)},
            {"from": {"id": to_id}, "to": {"id": from_id}, "associationSpec": _spec(back)},
        ],
    )


def batch_create(store: Store, req: Request, from_type: str, to_type: str) -> Response:
    results = []
    items = inputs(
        req.json(),
        limit=WRITE_MAX,
        required=("from", "to", "types"),
        model="BatchInputPublicAssociationMultiPost",
    )
    for item in items:
        from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
        types = [int(t["associationTypeId"]) for t in item.get("types") or []]
        if any(TYPE_IDS.get(t) != (from_type, to_type) for t in types):
            raise SandboxError(400, f"Association types {types} do not link {from_type}")
        store.associate(from_type, from_id, to_type, to_id, types)
        results.append(
            {
                "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
                "fromObjectId": int(from_id),
                "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
                "toObjectId": int(to_id),
                "labels": ["Primary" for t in types if t in PRIMARY_IDS],
            }
        )
    return _batch(store, results, 201)


def _linked(store: Store, from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
    linked = store.associated(from_type, from_id, to_type)
    return [
        {
            "toObjectId": int(tid),
            "associationTypes": [
                {
                    "category": "HUBSPOT_DEFINED",
                    "typeId": t,
                    "label": "Primary" if t in PRIMARY_IDS else None,
                }
                for t in sorted(types)
            ],
        }
        for tid, types in sorted(linked.items(), key=lambda kv: int(kv[0]))
    ]


def batch_read(store: Store, req: Request, from_type: str, to_type: str) -> Response:
    """Links per id; an id without any answers a NO_ASSOCIATIONS_FOUND error (207)."""
    results, errors = [], []
    items = inputs(
        req.json(),
        limit=READ_MAX,
        required=("id",),
        model="BatchInputPublicFetchAssociationsBatchRequest",
    )
    for item in items:
        asked = str(item.get("id", ""))
        from_id = store.aliases[from_type].get(asked, asked)
        to = _linked(store, from_type, from_id, to_type)
        if to:
            results.append({"from": {"id": from_id}, "to": to})
            continue
        error = item_error(
            "OBJECT_NOT_FOUND",
            f"No {SINGULAR[to_type]} is associated with {SINGULAR[from_type]} {asked}.",
            fromObjectId=[asked],
            fromObjectType=[SINGULAR[from_type]],
            toObjectType=[SINGULAR[to_type]],
        )
        errors.append({**error, "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND"})
    response = _batch(store, results, 207 if errors else 200)
    if errors:
        response.body.update(errors=errors, numErrors=len(errors))
    return response


def batch_archive(store: Store, req: Request, from_type: str, to_type: str) -> Response:
    items = inputs(
        req.json(),
        limit=WRITE_MAX,
        required=("from", "to"),
        model="BatchInputPublicAssociationMultiArchive",
    )
    for item in items:
        from_id = str(item["from"]["id"])
        for to in item.get("to") or []:
            store.dissociate(from_type, from_id, to_type, str(to["id"]))
    return Response(204)


def list_for_record(
    store: Store, req: Request, from_type: str, from_id: str, to_type: str
) -> Response:
    record = store.find(from_type, from_id)
    return Response(200, {"results": _linked(store, from_type, record.id, to_type)})
