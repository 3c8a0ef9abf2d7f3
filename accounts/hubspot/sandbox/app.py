"""The sandbox portal: state, limits, faults and webhooks behind one `handle(request)`.

The HTTP server in `server.py` only translates bytes to `Request` and back, so every
HubSpot behaviour lives here and in the handler modules."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from . import associations_api, control_api, meta_api, objects_api, search
from .clock import Clock, SystemClock
from .errors import SandboxError, correlation_id
from .faults import Fault, Faults
from .http import Request, Response
from .limits import RateLimiter, RateLimitExceeded
from .schema import ALIASES
from .store import Store
from .support_schema import READ_ONLY_TYPES
from .webhooks import WebhookDispatcher, WebhookSettings

Handler = Callable[..., Response]
T = r"(?P<object_type>[a-z0-9_-]+)"
ID = r"(?P<object_id>[^/]+)"


@dataclass
class Exchange:
    """One CRM API request and the sandbox's answer, as recorded for contract tests."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int
    response: Any
    response_headers: dict[str, str]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    search: bool = False


def _routes(app: Sandbox) -> list[Route]:
    s = app.store

    def r(method: str, path: str, handler: Handler, *, is_search: bool = False) -> Route:
        return Route(method, re.compile(f"^{path}/?$"), handler, is_search)

    v3 = "/crm/v3/objects/" + T
    assoc = r"/crm/v4/associations/(?P<from_type>[a-z0-9_-]+)/(?P<to_type>[a-z0-9_-]+)/batch"
    v4 = r"/crm/v4/objects/(?P<from_type>[a-z0-9_-]+)/(?P<from_id>[^/]+)/associations"
    return [
        r(
            "POST",
            v3 + "/search",
            lambda q, **k: Response(200, search.search(s, k["object_type"], q.json())),
            is_search=True,
        ),
        r("POST", v3 + "/batch/read", lambda q, **k: objects_api.batch_read(s, q, **k)),
        r("POST", v3 + "/batch/create", lambda q, **k: objects_api.batch_create(s, q, **k)),
        r("POST", v3 + "/batch/update", lambda q, **k: objects_api.batch_update(s, q, **k)),
        r("POST", v3 + "/batch/upsert", lambda q, **k: objects_api.batch_upsert(s, q, **k)),
        r("POST", v3 + "/batch/archive", lambda q, **k: objects_api.batch_archive(s, q, **k)),
        r(
            "POST",
            v3 + "/merge",
            lambda q, **k: objects_api.merge_records(s, q, new_ids=app.merge_new_ids, **k),
        ),
        r("GET", v3, lambda q, **k: objects_api.list_page(s, q, **k)),
        r("POST", v3, lambda q, **k: objects_api.create(s, q, **k)),
        r("GET", v3 + "/" + ID, lambda q, **k: objects_api.get_one(s, q, **k)),
        r(
            "GET",
            v3 + "/" + ID + r"/associations/(?P<to_type>[a-z0-9_-]+)",
            lambda q, **k: objects_api.list_links(s, q, **k),
        ),
        r("PATCH", v3 + "/" + ID, lambda q, **k: objects_api.update(s, q, **k)),
        r("DELETE", v3 + "/" + ID, lambda q, **k: objects_api.archive(s, q, **k)),
        r(
            "GET",
            "/crm/v3/properties/" + T + "/groups",
            lambda q, **k: meta_api.list_groups(s, q, **k),
        ),
        r(
            "POST",
            "/crm/v3/properties/" + T + "/groups",
            lambda q, **k: meta_api.create_group(s, q, **k),
        ),
        r(
            "PATCH",
            "/crm/v3/properties/" + T + "/(?P<name>[^/]+)",
            lambda q, **k: meta_api.update_property(s, q, **k),
        ),
        r("GET", "/crm/v3/properties/" + T, lambda q, **k: meta_api.list_properties(s, q, **k)),
        r("POST", "/crm/v3/properties/" + T, lambda q, **k: meta_api.create_property(s, q, **k)),
        r(
            "GET",
            "/crm/v3/properties/" + T + "/(?P<name>[^/]+)",
            lambda q, **k: meta_api.get_property(s, q, **k),
        ),
        r("GET", "/crm/v3/pipelines/" + T, lambda q, **k: meta_api.list_pipelines(s, q, **k)),
        r("GET", "/crm/v3/owners", lambda q, **k: meta_api.list_owners(s, q)),
        r("GET", "/crm/v3/schemas", lambda q, **k: meta_api.list_schemas(s, q)),
        r(
            "GET",
            r"/properties/v2/(?P<v2_object>[a-z0-9_-]+)/properties",
            lambda q, **k: meta_api.list_properties_v2(s, q, **k),
        ),
        r(
            "PUT",
            v4 + r"/default/(?P<to_type>[a-z0-9_-]+)/(?P<to_id>[^/]+)",
            lambda q, **k: associations_api.put_default(s, q, **k),
        ),
        r(
            "GET",
            v4 + r"/(?P<to_type>[a-z0-9_-]+)",
            lambda q, **k: associations_api.list_for_record(s, q, **k),
        ),
        r("POST", assoc + "/create", lambda q, **k: associations_api.batch_create(s, q, **k)),
        r("POST", assoc + "/read", lambda q, **k: associations_api.batch_read(s, q, **k)),
        r("POST", assoc + "/archive", lambda q, **k: associations_api.batch_archive(s, q, **k)),
    ]


def call_key(method: str, path: str, status: int) -> str:
    """One endpoint's key in `Sandbox.calls`: method, path with record ids as {id}, and
    the status unless it is a success."""
    parts = ["{id}" if part.isdigit() else part for part in path.rstrip("/").split("/")]
    key = f"{method} {'/'.join(parts)}"
    return key if status < 300 else f"{key} {status}"


def _writes(request: Request, route: Route) -> bool:
    """A create, update, upsert, archive or merge (search and batch reads only read)."""
    if route.search or request.method in ("GET", "HEAD"):
        return False
    return not request.path.endswith("/batch/read")


class Sandbox:
    """One HubSpot portal in memory. Thread-safe; `handle` is what the HTTP server calls."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        tier: str = "off",
        access_token: str = "",
        search_delay_ms: int = 0,
        merge_new_ids: bool = False,
        webhooks: WebhookSettings | None = None,
        seed: int = 0,
        strict: bool = True,
    ) -> None:
        self.clock = clock or SystemClock()
        self.store = Store(clock=self.clock, search_delay_ms=search_delay_ms, strict=strict)
        self.limiter = RateLimiter(clock=self.clock, tier=tier)
        self.faults = Faults(seed=seed)
        self.webhooks = WebhookDispatcher(webhooks, seed=seed)
        self.store.listeners.append(self.webhooks.on_event)
        self.access_token = access_token
        self.merge_new_ids = merge_new_ids
        self.routes = _routes(self)
        # Set to a list to record every CRM API exchange (tests validate them against
        # docs/hubspot-openapi.yaml); None records nothing.
        self.exchanges: list[Exchange] | None = None
        # CRM API requests per endpoint ("GET /crm/v3/objects/deals", ids as {id}) and
        # status, so a benchmark can see where its calls go (GET/DELETE /_sandbox/calls).
        self.calls: Counter[str] = Counter()
        self.calls_lock = threading.Lock()

    def fault_for(self, request: Request) -> Fault | None:
        """Faults apply to the CRM API only, never to the /_sandbox controls."""
        if request.path.startswith("/_sandbox"):
            return None
        upsert = request.path.endswith("/batch/upsert")
        return self.faults.decide(upsert=upsert, now_ms=self.clock.now_ms())

    def handle(self, request: Request) -> Response:
        response = self._answer(request)
        if not request.path.startswith("/_sandbox"):
            key = call_key(request.method, request.path, response.status)
            with self.calls_lock:
                self.calls[key] += 1
        if self.exchanges is not None and not request.path.startswith("/_sandbox"):
            self.exchanges.append(
                Exchange(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    request.body,
                    response.status,
                    response.body,
                    response.headers,
                )
            )
        return response

    def _answer(self, request: Request) -> Response:
        try:
            if request.path.startswith("/_sandbox"):
                return control_api.handle(self, request)
            return self._handle_crm(request)
        except SandboxError as exc:
            return Response(exc.status, exc.body())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Malformed input that a handler did not validate: HubSpot answers 400.
            return Response(400, SandboxError(400, f"Invalid input JSON: {exc!r}").body())

    def _handle_crm(self, request: Request) -> Response:
        route, params = self._match(request)
        if self.access_token:
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {self.access_token}":
                raise SandboxError(
                    401,
                    "Authentication credentials not found.",
                    category="INVALID_AUTHENTICATION",
                )
        if params.get("object_type") in READ_ONLY_TYPES and _writes(request, route):
            raise SandboxError(
                403,
                "This app hasn't been granted all required scopes to make this call. "
                "Feedback submissions are read-only: the API has no write scope for them.",
                category="MISSING_SCOPES",
            )
        try:
            limit_headers = self.limiter.admit(search=route.search)
        except RateLimitExceeded as exc:
            return Response(429, exc.body, exc.headers)
        headers = {**limit_headers, "X-HubSpot-Correlation-Id": correlation_id()}
        try:
            with self.store.lock:
                response = route.handler(request, **params)
        except SandboxError as exc:
            response = Response(exc.status, exc.body())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            response = Response(400, SandboxError(400, f"Invalid input JSON: {exc!r}").body())
        response.headers = {**headers, **response.headers}
        return response

    def _match(self, request: Request) -> tuple[Route, dict[str, str]]:
        path_matched = False
        for route in self.routes:
            found = route.pattern.match(request.path)
            if not found:
                continue
            path_matched = True
            if route.method != request.method:
                continue
            params = {k: unquote(v) for k, v in found.groupdict().items()}
            for key in ("object_type", "from_type", "to_type"):
                if key in params:
                    if params[key] not in ALIASES:
                        raise SandboxError(
                            400, f"Unknown object type {params[key]}", category="VALIDATION_ERROR"
                        )
                    params[key] = ALIASES[params[key]]
            return route, params
        if path_matched:
            raise SandboxError(405, f"Method {request.method} not allowed", category="")
        raise SandboxError(404, f"No route for {request.method} {request.path}", category="")

    def state(self) -> dict[str, Any]:
        from .persist import dump

        return dump(self)
