"""HubSpotClient: one method per HubSpot call Lifecycle makes, returning HubSpot's JSON.

Wraps hubspot-api-client. Every call carries a timeout, draws on the shared rate-limit
budget and goes through our retry loop (`http_retries.py`); failures surface as `HubSpotError`.
Results are plain dicts shaped as HubSpot documents them (docs/hubspot-facts.md), which keeps
mapping code independent of the generated model classes. Knows nothing of our models.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hubspot import HubSpot

from accounts.hubspot.transport.budget import DatabaseRateBudget, RateBudget
from accounts.hubspot.transport.guard import CallGuard, NoGuard
from accounts.hubspot.transport.http_retries import Caller, RetryPolicy

Record = dict[str, Any]
BATCH_SIZE = 100
HISTORY_BATCH_SIZE = 50
ASSOCIATION_READ_SIZE = 1_000
LIST_PAGE_MAX = 100
SEARCH_PAGE_MAX = 200


@dataclass
class BatchResult:
    """Records a batch call returned, and the per-input errors of any 207 answers."""

    results: list[Record] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SearchPage:
    total: int
    results: list[Record]
    after: str | None  # None on the last page


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HubSpotClient:
    """Calls HubSpot's CRM API for one portal (a private app's token)."""

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = "https://api.hubapi.com",
        timeout: float | tuple[float, float] = (5.0, 30.0),
        budget: RateBudget | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # retry=False turns off urllib3's own retries: ours cover every method.
        api = HubSpot(access_token=access_token, host=base_url.rstrip("/"), retry=False)
        self._call = Caller(timeout=timeout, budget=budget, policy=policy, sleep=sleep)
        # Each `.basic_api` access builds a new ApiClient and pool: take them once.
        crm = api.crm
        self._objects = crm.objects.basic_api
        self._batch = crm.objects.batch_api
        self._search = crm.objects.search_api
        self._merge = {
            "companies": crm.companies.basic_api,
            "deals": crm.deals.basic_api,
            "contacts": crm.contacts.basic_api,
        }
        self._owners = crm.owners.owners_api
        self._pipelines = crm.pipelines.pipelines_api
        self._properties = crm.properties.core_api
        self._property_groups = crm.properties.groups_api
        self._associations = crm.associations.v4.basic_api
        self._association_batch = crm.associations.v4.batch_api

    @property
    def guard(self) -> CallGuard:
        """Asked before every attempt (see transport/guard.py); none by default."""
        return self._call.guard

    @guard.setter
    def guard(self, guard: CallGuard | None) -> None:
        self._call.guard = guard or NoGuard()

    @classmethod
    def from_settings(cls, **overrides: Any) -> HubSpotClient:
        """The client for the configured portal, sharing the database budget."""
        from django.conf import settings

        options: dict[str, Any] = {
            "access_token": settings.HUBSPOT_ACCESS_TOKEN,
            "base_url": settings.HUBSPOT_BASE_URL,
            "budget": DatabaseRateBudget(tier=settings.HUBSPOT_TIER),
        }
        return cls(**{**options, **overrides})

    # -- objects -----------------------------------------------------------------

    def list_pages(
        self,
        object_type: str,
        *,
        properties: Sequence[str] = (),
        associations: Sequence[str] = (),
        archived: bool = False,
        page_size: int = LIST_PAGE_MAX,
        after: str | None = None,
    ) -> Iterator[list[Record]]:
        """Every record of a type, one page at a time (never all in memory at once)."""
        while True:
            body = self._call(
                self._objects.get_page,
                object_type,
                limit=min(page_size, LIST_PAGE_MAX),
                after=after,
                properties=list(properties) or None,
                associations=list(associations) or None,
                archived=archived,
            ).body
            yield body.get("results", [])
            after = (body.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return

    def list_page(
        self,
        object_type: str,
        *,
        properties: Sequence[str] = (),
        associations: Sequence[str] = (),
        archived: bool = False,
        page_size: int = LIST_PAGE_MAX,
        after: str | None = None,
    ) -> tuple[list[Record], str | None]:
        """One list page and the `after` of the next (None on the last page), for
        callers that store the cursor to resume from it."""
        body = self._call(
            self._objects.get_page,
            object_type,
            limit=min(page_size, LIST_PAGE_MAX),
            after=after,
            properties=list(properties) or None,
            associations=list(associations) or None,
            archived=archived,
        ).body
        next_after = (body.get("paging") or {}).get("next", {}).get("after")
        return body.get("results", []), next_after or None

    def get(
        self,
        object_type: str,
        object_id: str,
        *,
        properties: Sequence[str] = (),
        properties_with_history: Sequence[str] = (),
        id_property: str | None = None,
    ) -> Record:
        return self._call(
            self._objects.get_by_id,
            object_type,
            object_id,
            properties=list(properties) or None,
            properties_with_history=list(properties_with_history) or None,
            id_property=id_property,
        ).body

    def create(self, object_type: str, *, properties: dict[str, str]) -> Record:
        body = {"properties": properties}
        return self._call(self._objects.create, object_type, body).body

    def update(self, object_type: str, object_id: str, *, properties: dict[str, str]) -> Record:
        body = {"properties": properties}
        return self._call(self._objects.update, object_type, object_id, body).body

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        *,
        properties: Sequence[str] = (),
        properties_with_history: Sequence[str] = (),
        id_property: str | None = None,
    ) -> BatchResult:
        """Records by id, in chunks of 100 (50 when asking for history); missing ids
        come back as errors, not exceptions."""
        size = HISTORY_BATCH_SIZE if properties_with_history else BATCH_SIZE
        result = BatchResult()
        for chunk in _chunks(list(ids), size):
            body: dict[str, Any] = {
                "inputs": [{"id": i} for i in chunk],
                "properties": list(properties),
                "propertiesWithHistory": list(properties_with_history),
            }
            if id_property:
                body["idProperty"] = id_property
            self._collect(result, self._call(self._batch.read, object_type, body).body)
        return result

    def batch_update(self, object_type: str, inputs: Sequence[Record]) -> BatchResult:
        """`inputs`: `[{"id": ..., "properties": {...}}]`, sent 100 at a time."""
        result = BatchResult()
        for chunk in _chunks(list(inputs), BATCH_SIZE):
            body = {"inputs": list(chunk)}
            self._collect(result, self._call(self._batch.update, object_type, body).body)
        return result

    def batch_create(self, object_type: str, inputs: Sequence[Record]) -> BatchResult:
        """`inputs`: `[{"properties": {...}, "associations": [...]}]`, 100 at a time.
        HubSpot refuses a whole call when one input is invalid, and does not promise
        results in input order: callers match results by what they sent. Not retried
        after a timeout or 5xx (the tasks may exist): the caller looks them up first."""
        result = BatchResult()
        for chunk in _chunks(list(inputs), BATCH_SIZE):
            body = {"inputs": list(chunk)}
            outcome = self._call(self._batch.create, object_type, body, replayable=False)
            self._collect(result, outcome.body)
        return result

    def batch_upsert(
        self, object_type: str, inputs: Sequence[Record], *, id_property: str
    ) -> BatchResult:
        """`inputs`: `[{"id": <our key>, "properties": {...}}]`, matched on `id_property`
        (a HubSpot property created with hasUniqueValue). Results carry `new`."""
        result = BatchResult()
        for chunk in _chunks(list(inputs), BATCH_SIZE):
            body = {"inputs": [{"idProperty": id_property, **item} for item in chunk]}
            self._collect(result, self._call(self._batch.upsert, object_type, body).body)
        return result

    def search_page(
        self,
        object_type: str,
        *,
        filter_groups: Sequence[Record] = (),
        sorts: Sequence[Record] = (),
        properties: Sequence[str] = (),
        limit: int = SEARCH_PAGE_MAX,
        after: str | None = None,
    ) -> SearchPage:
        """One search page. Callers must restart the query before 10,000 results."""
        body: dict[str, Any] = {
            "filterGroups": list(filter_groups),
            "sorts": list(sorts),
            "properties": list(properties),
            "limit": min(limit, SEARCH_PAGE_MAX),
        }
        if after:
            body["after"] = after
        data = self._call(self._search.do_search, object_type, body, search=True).body
        next_after = (data.get("paging") or {}).get("next", {}).get("after")
        return SearchPage(
            total=int(data.get("total", 0)), results=data["results"], after=next_after
        )

    def merge(self, object_type: str, *, primary_id: str, merged_id: str) -> Record:
        """Merge two records; the survivor may have a new id."""
        body = {"primaryObjectId": primary_id, "objectIdToMerge": merged_id}
        return self._call(self._merge[object_type].merge, body).body

    # -- portal metadata ---------------------------------------------------------

    def owners(self) -> list[Record]:
        found: list[Record] = []
        after: str | None = None
        while True:
            body = self._call(self._owners.get_page, limit=100, after=after).body
            found.extend(body.get("results", []))
            after = (body.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return found

    def pipelines(self, object_type: str = "deals") -> list[Record]:
        return self._call(self._pipelines.get_all, object_type).body.get("results", [])

    def properties(self, object_type: str) -> list[Record]:
        return self._call(self._properties.get_all, object_type).body.get("results", [])

    def property_groups(self, object_type: str) -> list[Record]:
        return self._call(self._property_groups.get_all, object_type).body.get("results", [])

    def create_property_group(self, object_type: str, definition: Record) -> Record:
        """`definition`: name, label, optional displayOrder."""
        return self._call(self._property_groups.create, object_type, definition).body

    def update_property(self, object_type: str, name: str, changes: Record) -> Record:
        """PATCH a property; `options` replaces the whole option list."""
        return self._call(self._properties.update, object_type, name, changes).body

    def create_property(self, object_type: str, definition: Record) -> Record:
        """`definition`: name, label, type, fieldType, groupName, optional options and
        hasUniqueValue (needed for a property used as an upsert key)."""
        return self._call(self._properties.create, object_type, definition).body

    # -- associations v4 ---------------------------------------------------------

    def associate_default(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self._call(self._associations.create_default, from_type, from_id, to_type, to_id)

    def read_associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[Record]]:
        """`{from_id: [{"toObjectId", "associationTypes"}]}`, 1,000 ids per call."""
        found: dict[str, list[Record]] = {}
        for chunk in _chunks(list(ids), ASSOCIATION_READ_SIZE):
            body = {"inputs": [{"id": i} for i in chunk]}
            data = self._call(self._association_batch.get_page, from_type, to_type, body).body
            for row in data.get("results", []):
                found[str(row["from"]["id"])] = row.get("to", [])
        return found

    def create_associations(
        self, from_type: str, to_type: str, links: Sequence[tuple[str, str, int]]
    ) -> None:
        """`links`: (from_id, to_id, association type id), e.g. 341 deal->company."""
        for chunk in _chunks(list(links), BATCH_SIZE):
            body = {
                "inputs": [
                    {
                        "from": {"id": f},
                        "to": {"id": t},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": k}
                        ],
                    }
                    for f, t, k in chunk
                ]
            }
            self._call(self._association_batch.create, from_type, to_type, body)

    def archive_associations(
        self, from_type: str, to_type: str, links: Sequence[tuple[str, str]]
    ) -> None:
        for chunk in _chunks(list(links), BATCH_SIZE):
            body = {"inputs": [{"from": {"id": f}, "to": [{"id": t}]} for f, t in chunk]}
            self._call(self._association_batch.archive, from_type, to_type, body)

    @staticmethod
    def _collect(result: BatchResult, body: Record) -> None:
        result.results.extend(body.get("results", []))
        result.errors.extend(body.get("errors", []))


def client_from_settings() -> HubSpotClient:
    """The client for the configured portal (HUBSPOT_ACCESS_TOKEN, HUBSPOT_BASE_URL)."""
    return HubSpotClient.from_settings()
