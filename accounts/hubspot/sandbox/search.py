"""POST /crm/v3/objects/{type}/search: filter groups, one sort, offset paging, the
10,000-result ceiling, and an index that lags writes by the store's search delay."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from .clock import ms_from_text
from .errors import SandboxError
from .operations import render
from .store import Store

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}


def _typed(prop_type: str, value: str) -> Any:
    """Comparable form of a stored or filter value: numbers and dates compare numerically."""
    if prop_type in {"datetime", "date"}:
        return ms_from_text(value)
    if prop_type == "number":
        try:
            return float(value)
        except ValueError:
            return None
    return value.lower()


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^\w@.*-]+", text.lower()) if t]


def _compile(filter_: dict[str, Any], prop_type: str) -> Callable[[dict[str, str]], bool]:
    """A predicate for one filter, with the filter's own values converted once."""
    op = filter_.get("operator", "EQ")
    name = filter_.get("propertyName", "")
    if op in {"HAS_PROPERTY", "NOT_HAS_PROPERTY"}:
        wanted = op == "HAS_PROPERTY"
        return lambda values: (values.get(name, "") != "") is wanted
    if op in {"CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}:
        pattern = str(filter_.get("value", "")).lower()
        contains = op == "CONTAINS_TOKEN"

        def token(values: dict[str, str]) -> bool:
            raw = values.get(name, "")
            hit = any(fnmatch.fnmatchcase(t, pattern) for t in [raw.lower(), *_tokens(raw)])
            return hit is contains

        return token
    if op in {"IN", "NOT_IN"}:
        members = {_typed(prop_type, str(v)) for v in filter_.get("values", [])}
        inside = op == "IN"

        def member(values: dict[str, str]) -> bool:
            raw = values.get(name, "")
            return (raw != "" and _typed(prop_type, raw) in members) is inside

        return member
    low = _typed(prop_type, str(filter_.get("value", "")))
    if op == "NEQ":
        return lambda values: values.get(name, "") == "" or _typed(prop_type, values[name]) != low
    high = _typed(prop_type, str(filter_.get("highValue", ""))) if op == "BETWEEN" else None
    compare: Callable[[Any], bool] = {
        "EQ": lambda mine: mine == low,
        "LT": lambda mine: mine < low,
        "LTE": lambda mine: mine <= low,
        "GT": lambda mine: mine > low,
        "GTE": lambda mine: mine >= low,
        "BETWEEN": lambda mine: high is not None and low <= mine <= high,
    }[op]

    def ordered(values: dict[str, str]) -> bool:
        raw = values.get(name, "")
        if raw == "" or low is None:
            return False
        mine = _typed(prop_type, raw)
        return mine is not None and compare(mine)

    return ordered


def _validate(store: Store, object_type: str, body: dict[str, Any]) -> tuple[int, int]:
    groups = body.get("filterGroups") or []
    filters = [f for g in groups for f in g.get("filters") or []]
    if (
        len(groups) > MAX_GROUPS
        or len(filters) > MAX_FILTERS
        or any(len(g.get("filters") or []) > MAX_FILTERS_PER_GROUP for g in groups)
    ):
        raise SandboxError(
            400,
            f"Too many filters: at most {MAX_GROUPS} filterGroups of "
            f"{MAX_FILTERS_PER_GROUP} filters, {MAX_FILTERS} in all.",
        )
    for f in filters:
        if f.get("operator", "EQ") not in OPERATORS:
            raise SandboxError(400, f"Unknown operator {f.get('operator')}")
        if f.get("propertyName") not in store.properties[object_type]:
            raise SandboxError(400, f"Property {f.get('propertyName')} does not exist")
    if len(body.get("sorts") or []) > 1:
        raise SandboxError(400, "Only one sort is allowed.")
    limit = int(body.get("limit") or 10)
    if limit > MAX_LIMIT or limit < 1:
        raise SandboxError(400, f"limit must be between 1 and {MAX_LIMIT}, got {limit}.")
    after_text = str(body.get("after") or "0")
    if not after_text.isdigit():
        raise SandboxError(400, f"after must be an offset, got {after_text}.")
    after = int(after_text)
    if after + limit > MAX_RESULTS:
        raise SandboxError(
            400,
            f"The sum of after ({after}) and limit ({limit}) cannot exceed {MAX_RESULTS}.",
        )
    return limit, after


def search(store: Store, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
    limit, after = _validate(store, object_type, body)
    defined = store.properties[object_type]
    groups = body.get("filterGroups") or []

    compiled = [
        [_compile(f, defined[f["propertyName"]]["type"]) for f in g.get("filters") or []]
        for g in groups
    ]

    def keep(values: dict[str, str]) -> bool:
        return not compiled or any(all(p(values) for p in group) for group in compiled)

    hits = [(r, v) for r, v in store.search_view(object_type) if keep(v)]
    hits.sort(key=lambda rv: int(rv[0].id))
    sorts = body.get("sorts") or []
    if sorts:
        sort = sorts[0]
        name = sort.get("propertyName", "hs_object_id") if isinstance(sort, dict) else str(sort)
        descending = isinstance(sort, dict) and sort.get("direction") == "DESCENDING"
        prop_type = defined.get(name, {}).get("type", "string")

        def key(rv: Any) -> tuple[bool, Any]:
            typed = _typed(prop_type, rv[1].get(name, ""))
            return (typed is None) != descending, typed if typed is not None else 0

        hits.sort(key=key, reverse=descending)
    page = hits[after : after + limit]
    result: dict[str, Any] = {
        "total": len(hits),
        "results": [
            render(store, r, properties=body.get("properties") or None, values=v) for r, v in page
        ],
    }
    if after + limit < len(hits):
        result["paging"] = {"next": {"after": str(after + limit)}}
    return result
