"""/_sandbox/*: act as a HubSpot user (edits that fire webhooks like real ones), and
control the portal (tier, faults, webhooks, seed, state, clock)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .clock import ManualClock
from .errors import SandboxError
from .http import Request, Response
from .meta_api import add_owner
from .operations import bulk_edit, merge, render
from .persist import dump, seed
from .schema import ALIASES
from .store import Source

if TYPE_CHECKING:
    from .app import Sandbox


def user(body: dict[str, Any]) -> Source:
    """A change made in HubSpot's UI by a user (default user 1)."""
    uid = str(body.get("userId", "1"))
    return Source(
        source_type="CRM_UI", source_id=f"userId:{uid}", change_source="CRM_UI", user_id=uid
    )


def _object_type(name: str) -> str:
    if name not in ALIASES:
        raise SandboxError(400, f"Unknown object type {name}")
    return ALIASES[name]


def handle(app: Sandbox, req: Request) -> Response:
    path = req.path.rstrip("/")
    body = req.body if isinstance(req.body, dict) else {}
    s = app.store
    with s.lock:
        if req.method == "GET" and path == "/_sandbox/state":
            return Response(200, dump(app))
        if req.method == "POST" and path == "/_sandbox/seed":
            return Response(200, {"ids": seed(app, body)})
        if req.method == "PUT" and path == "/_sandbox/tier":
            try:
                app.limiter.set_tier(str(body.get("tier")))
            except ValueError as exc:
                raise SandboxError(400, str(exc)) from exc
            return Response(200, {"tier": app.limiter.tier_name})
        if req.method == "GET" and path == "/_sandbox/calls":
            with app.calls_lock:
                return Response(200, dict(sorted(app.calls.items())))
        if req.method == "DELETE" and path == "/_sandbox/calls":
            with app.calls_lock:
                app.calls.clear()
            return Response(204)
        if req.method == "POST" and path == "/_sandbox/daily-usage":
            app.limiter.use_daily(int(body.get("count", 0)))
            return Response(204)
        if req.method == "PUT" and path == "/_sandbox/faults":
            try:
                return Response(200, app.faults.configure(**body))
            except ValueError as exc:
                raise SandboxError(400, str(exc)) from exc
        if req.method == "PUT" and path == "/_sandbox/webhooks":
            return Response(200, configure_webhooks(app, body))
        if req.method == "POST" and path == "/_sandbox/owners":
            owner = add_owner(
                s,
                email=body["email"],
                first_name=body.get("firstName", ""),
                last_name=body.get("lastName", ""),
            )
            return Response(201, owner)
        if req.method == "POST" and path == "/_sandbox/clock/advance":
            if not isinstance(app.clock, ManualClock):
                raise SandboxError(400, "The sandbox runs on the system clock.")
            return Response(200, {"now": app.clock.advance(seconds=float(body["seconds"]))})
        found = re.match(r"^/_sandbox/objects/([a-z0-9_-]+)(?:/([^/]+))?(?:/([a-z-]+))?$", path)
        if found:
            return _act(app, req, body, _object_type(found[1]), found[2], found[3])
    raise SandboxError(404, f"No sandbox route for {req.method} {req.path}", category="")


def _act(
    app: Sandbox,
    req: Request,
    body: dict[str, Any],
    object_type: str,
    object_id: str | None,
    action: str | None,
) -> Response:
    s = app.store
    source = user(body)
    values = body.get("properties") or {}
    if object_id == "merge" and req.method == "POST":
        survivor = merge(
            s,
            object_type,
            primary_id=str(body["primaryObjectId"]),
            merged_id=str(body["objectIdToMerge"]),
            new_id=bool(body.get("newId", app.merge_new_ids)),
            source=source,
        )
        return Response(200, render(s, survivor, properties=list(survivor.properties)))
    if object_id == "bulk-edit" and req.method == "POST":
        ids = [str(i) for i in body["ids"]]
        records = bulk_edit(s, object_type, ids=ids, values=values, source=source)
        return Response(200, {"results": [render(s, r, properties=list(values)) for r in records]})
    if object_id is None and req.method == "POST":
        from .objects_api import _associate_inputs

        record = s.create(object_type, values, source=source, allow_read_only=True)
        # As the UI makes them: a ticket logged on a company, a note on a contact.
        _associate_inputs(s, object_type, record.id, body.get("associations") or [])
        return Response(201, render(s, record, properties=list(record.properties)))
    if object_id is None:
        raise SandboxError(405, "Use POST to create")
    if action == "restore" and req.method == "POST":
        record = s.find(object_type, object_id, archived=True)
        s.restore(record, source=source)
        return Response(200, render(s, record))
    record = s.find(object_type, object_id)
    if req.method == "PATCH":
        s.update(record, values, source=source, allow_read_only=True)
        return Response(200, render(s, record, properties=list(record.properties)))
    if req.method == "DELETE":
        s.archive(record, source=source)
        return Response(204)
    raise SandboxError(405, f"Method {req.method} not allowed")


def configure_webhooks(app: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """Point webhooks somewhere and (re)subscribe; camelCase keys as in HubSpot's UI."""
    settings = app.webhooks.settings
    mapping = {
        "targetUrl": "target_url",
        "clientSecret": "client_secret",
        "retryDelays": "retry_delays",
        "duplicateRate": "duplicate_rate",
        "reorder": "reorder",
        "maxBatch": "max_batch",
        "timeoutSeconds": "timeout_s",
        "maxInFlight": "max_in_flight",
        "timestampOffsetSeconds": "timestamp_offset_s",
    }
    for key, attr in mapping.items():
        if key in body:
            setattr(settings, attr, body[key])
    if "subscriptions" in body:
        settings.subscriptions = []
        for sub in body["subscriptions"]:
            app.webhooks.subscribe(
                sub["subscriptionType"],
                sub.get("propertyName", ""),
                object_name=sub.get("objectName", ""),
            )
    return {"targetUrl": settings.target_url, "subscriptions": settings.subscriptions}
