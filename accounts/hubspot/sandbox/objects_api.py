"""Handlers for /crm/v3/objects/{type}: list, get, create, update, archive, batch, merge."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlencode

from .clock import iso_from_ms
from .errors import SandboxError, item_error, not_found
from .http import Request, Response, inputs, require
from .operations import csv, link_cursor, link_offset, link_rows, merge, render
from .store import Record, Store

LIST_MAX = 100
BATCH_MAX = 100
HISTORY_BATCH_MAX = 50


def list_page(store: Store, req: Request, object_type: str) -> Response:
    limit_text = req.arg("limit", "10")
    limit = int(limit_text) if limit_text.isdigit() else 0
    if not 1 <= limit <= LIST_MAX:
        raise SandboxError(400, f"limit must be between 1 and {LIST_MAX}, got {limit_text}.")
    after = req.arg("after", "0")
    start = int(after) if after.isdigit() else 0
    records = store.page(object_type, start=start, limit=limit + 1, archived=req.flag("archived"))
    page = records[:limit]
    body: dict[str, Any] = {"results": [_render(store, req, r) for r in page]}
    if len(records) > limit:
        nxt = str(int(page[-1].id) + 1)
        body["paging"] = {"next": {"after": nxt, "link": next_link(req, after=nxt, limit=limit)}}
    return Response(200, body)


def next_link(req: Request, *, after: str, limit: int) -> str:
    """The next page's URL: the request's own query (properties, associations, ...) with
    the new `after`, as HubSpot links it."""
    kept = [
        (k, v) for k, values in req.query.items() if k not in {"after", "limit"} for v in values
    ]
    query = urlencode([*kept, ("limit", str(limit)), ("after", after)])
    return f"{req.base_url}{req.path}?{query}"


def _render(store: Store, req: Request, record: Record) -> dict[str, Any]:
    return render(
        store,
        record,
        properties=csv(req.query.get("properties")) or None,
        with_history=csv(req.query.get("propertiesWithHistory")) or None,
        associations=csv(req.query.get("associations")) or None,
        base_url=req.base_url,
    )


def _lookup(store: Store, req: Request, object_type: str, object_id: str) -> Record:
    id_property = req.arg("idProperty")
    if id_property:
        record = store.find_by(object_type, id_property, object_id)
        if record is None:
            raise not_found(object_type, object_id)
        return record
    return store.find(object_type, object_id, archived=req.flag("archived"))


LINKS_PAGE_MAX = 500


def list_links(
    store: Store, req: Request, object_type: str, object_id: str, to_type: str
) -> Response:
    """GET /crm/v3/objects/{type}/{id}/associations/{toType}: where a record's inline
    `paging` link leads; pages of up to 500 rows (`limit`), by `after`."""
    record = store.find(object_type, object_id)
    limit_text = req.arg("limit", str(LINKS_PAGE_MAX))
    limit = min(int(limit_text), LINKS_PAGE_MAX) if limit_text.isdigit() else LINKS_PAGE_MAX
    start = link_offset(req.arg("after"))
    rows = link_rows(store, record, to_type)
    body: dict[str, Any] = {"results": rows[start : start + max(limit, 1)]}
    if start + max(limit, 1) < len(rows):
        after = link_cursor(to_type, start + max(limit, 1))
        link = f"{req.base_url}{req.path}?after={after}"
        body["paging"] = {"next": {"after": after, "link": link}}
    return Response(200, body)


def get_one(store: Store, req: Request, object_type: str, object_id: str) -> Response:
    return Response(200, _render(store, req, _lookup(store, req, object_type, object_id)))


def create(store: Store, req: Request, object_type: str) -> Response:
    body = req.json()
    require(body, ("properties",), model="SimplePublicObjectInputForCreate")
    record = store.create(object_type, body.get("properties") or {})
    _associate_inputs(store, object_type, record.id, body.get("associations") or [])
    return Response(201, render(store, record, properties=list(record.properties)))


def _associate_inputs(store: Store, object_type: str, rid: str, items: list[Any]) -> None:
    from .associations_api import TYPE_IDS

    for item in items:
        to_id = str(item.get("to", {}).get("id", ""))
        types = [int(t.get("associationTypeId")) for t in item.get("types") or []]
        to_type = next((TYPE_IDS[t][1] for t in types if t in TYPE_IDS), None)
        if to_type is None:
            raise SandboxError(400, f"Unknown association types {types}")
        store.associate(object_type, rid, to_type, to_id, types)


def update(store: Store, req: Request, object_type: str, object_id: str) -> Response:
    body = req.json()
    require(body, ("properties",), model="SimplePublicObjectInput")
    record = _lookup(store, req, object_type, object_id)
    store.update(record, body["properties"])
    return Response(200, render(store, record, properties=list(record.properties)))


def archive(store: Store, req: Request, object_type: str, object_id: str) -> Response:
    # HubSpot answers 204 for ids that are already gone.
    with contextlib.suppress(SandboxError):
        store.archive(store.find(object_type, object_id))
    return Response(204)


def _batch(
    store: Store, results: list[dict[str, Any]], errors: list[dict[str, Any]], *, ok: int
) -> Response:
    """HubSpot's batch envelope: `ok` when every input worked, else 207 with the errors."""
    now = iso_from_ms(store.clock.now_ms())
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": now,
        "completedAt": now,
    }
    if errors:
        body["errors"] = errors
        body["numErrors"] = len(errors)
    return Response(207 if errors else ok, body)


def batch_read(store: Store, req: Request, object_type: str) -> Response:
    body = req.json()
    history = body.get("propertiesWithHistory") or None
    items = inputs(
        body,
        limit=HISTORY_BATCH_MAX if history else BATCH_MAX,
        required=("id",),
        body_required=("properties", "propertiesWithHistory"),
        model="BatchReadInputSimplePublicObjectId",
    )
    id_property = body.get("idProperty")
    results, missing = [], []
    for item in items:
        wanted = str(item.get("id", ""))
        if id_property:
            record = store.find_by(object_type, id_property, wanted)
        else:
            try:
                record = store.find(object_type, wanted, archived=req.flag("archived"))
            except SandboxError:
                record = None
        if record is None:
            missing.append(wanted)
            continue
        results.append(
            render(store, record, properties=body.get("properties") or None, with_history=history)
        )
    errors = []
    if missing:
        errors.append(
            item_error(
                "OBJECT_NOT_FOUND",
                "Could not get some objects, they may be deleted or not exist.",
                ids=missing,
            )
        )
    return _batch(store, results, errors, ok=200)


def batch_create(store: Store, req: Request, object_type: str) -> Response:
    items = inputs(
        req.json(),
        limit=BATCH_MAX,
        required=("properties",),
        model="BatchInputSimplePublicObjectInputForCreate",
    )
    for item in items:  # HubSpot rejects the whole batch when any input is invalid.
        store.check_properties(object_type, item.get("properties") or {})
    results = []
    for item in items:
        record = store.create(object_type, item.get("properties") or {})
        _associate_inputs(store, object_type, record.id, item.get("associations") or [])
        results.append(render(store, record, properties=list(record.properties)))
    return _batch(store, results, [], ok=201)


def _item_failure(exc: SandboxError, item_id: str) -> dict[str, Any]:
    return item_error(exc.category, exc.message, ids=[item_id])


def batch_update(store: Store, req: Request, object_type: str) -> Response:
    body = req.json()
    items = inputs(
        body,
        limit=BATCH_MAX,
        required=("id", "properties"),
        model="BatchInputSimplePublicObjectBatchInput",
    )
    id_property = body.get("idProperty") or None
    results, errors = [], []
    for item in items:
        item_id = str(item.get("id", ""))
        try:
            prop = item.get("idProperty") or id_property
            record = store.find_by(object_type, prop, item_id) if prop else None
            record = record or store.find(object_type, item_id)
            store.update(record, item.get("properties") or {})
            results.append(render(store, record, properties=list(record.properties)))
        except SandboxError as exc:
            errors.append(_item_failure(exc, item_id))
    return _batch(store, results, errors, ok=200)


def batch_upsert(store: Store, req: Request, object_type: str) -> Response:
    items = inputs(
        req.json(),
        limit=BATCH_MAX,
        required=("id", "properties"),
        model="BatchInputSimplePublicObjectBatchInputUpsert",
    )
    for item in items:
        prop = item.get("idProperty") or "hs_object_id"
        definition = store.properties[object_type].get(prop)
        if definition is None or not definition.get("hasUniqueValue") or prop == "hs_object_id":
            raise SandboxError(
                400,
                f"Upsert requires idProperty to be a property with hasUniqueValue: {prop}",
            )
    results, errors = [], []
    for item in items:
        prop, key = item["idProperty"], str(item.get("id", ""))
        values = {**(item.get("properties") or {}), prop: key}
        try:
            record = store.find_by(object_type, prop, key)
            is_new = record is None
            if record is None:
                record = store.create(object_type, values)
            else:
                store.update(record, values)
            shown = render(store, record, properties=list(record.properties))
            results.append({**shown, "new": is_new})
        except SandboxError as exc:
            errors.append(_item_failure(exc, key))
    return _batch(store, results, errors, ok=200)


def batch_archive(store: Store, req: Request, object_type: str) -> Response:
    items = inputs(
        req.json(), limit=BATCH_MAX, required=("id",), model="BatchInputSimplePublicObjectId"
    )
    for item in items:
        try:
            store.archive(store.find(object_type, str(item.get("id", ""))))
        except SandboxError:
            continue
    return Response(204)


def merge_records(
    store: Store, req: Request, object_type: str, *, new_ids: bool = False
) -> Response:
    body = req.json()
    require(body, ("primaryObjectId", "objectIdToMerge"), model="PublicMergeInput")
    survivor = merge(
        store,
        object_type,
        primary_id=str(body.get("primaryObjectId", "")),
        merged_id=str(body.get("objectIdToMerge", "")),
        new_id=new_ids,
    )
    return Response(200, render(store, survivor, properties=list(survivor.properties)))
