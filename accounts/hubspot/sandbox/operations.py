"""Multi-record operations on the store: merges, bulk edits, rendering records as JSON."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, unquote

from .clock import iso_from_ms
from .schema import (
    CREATE_PROPERTY,
    DEFAULT_PROPERTIES,
    MODIFIED_PROPERTY,
    OBJECT_TYPE_IDS,
    SINGULAR,
    TYPE_NAMES,
)
from .store import API, Record, Source, Store


def merge(
    store: Store,
    object_type: str,
    *,
    primary_id: str,
    merged_id: str,
    new_id: bool = False,
    source: Source = API,
) -> Record:
    """Merge `merged_id` into `primary_id`, as HubSpot does.

    The primary's values win, blanks are filled from the merged record, associations move
    to the survivor, and old ids keep answering with the survivor. With `new_id` the
    survivor is re-created under a fresh id, which HubSpot does for some merges.
    """
    primary = store.find(object_type, primary_id)
    merged = store.find(object_type, merged_id)
    now = store.clock.now_ms()
    gone = [merged]
    survivor = primary
    if new_id:
        sid = str(store.next_id)
        store.next_id += 1
        survivor = Record(
            object_type,
            sid,
            dict(primary.properties),
            created_ms=primary.created_ms,
            updated_ms=now,
            history={k: list(v) for k, v in primary.history.items()},
        )
        survivor.properties["hs_object_id"] = sid
        store.records[object_type][sid] = survivor
        gone.append(primary)
    previous = [i for i in primary.properties.get("hs_merged_object_ids", "").split(";") if i]
    previous += [i for i in merged.properties.get("hs_merged_object_ids", "").split(";") if i]
    merged_ids = [*previous, merged.id, *([primary.id] if new_id else [])]
    filled = {
        k: v
        for k, v in merged.properties.items()
        if v and not survivor.properties.get(k) and k not in {"hs_object_id", "createdate"}
    }
    filled["hs_merged_object_ids"] = ";".join(merged_ids)
    filled[MODIFIED_PROPERTY[object_type]] = iso_from_ms(now)
    store._stamp(survivor, filled, now, source)
    survivor.updated_ms = now
    for record in gone:
        del store.records[object_type][record.id]
        aliases = store.aliases[object_type]
        for old, target in list(aliases.items()):
            if target == record.id:
                aliases[old] = survivor.id
        aliases[record.id] = survivor.id
        for (to_type, to_id), types in store.associations.pop((object_type, record.id), {}).items():
            back = store.associations.get((to_type, to_id), {})
            back_types = back.pop((object_type, record.id), set())
            back.setdefault((object_type, survivor.id), set()).update(back_types)
            links = store.associations.setdefault((object_type, survivor.id), {})
            links.setdefault((to_type, to_id), set()).update(types)
    store._reindex(survivor, now)
    store.emit(
        {
            "subscriptionType": f"{SINGULAR[object_type]}.merge",
            "objectId": int(survivor.id),
            "primaryObjectId": int(primary.id),
            "mergedObjectIds": [int(merged.id)],
            "newObjectId": int(survivor.id),
            "occurredAt": now,
            "_source": source,
        }
    )
    return survivor


def bulk_edit(
    store: Store,
    object_type: str,
    *,
    ids: list[str],
    values: dict[str, Any],
    source: Source,
    at_ms: int | None = None,
) -> list[Record]:
    """Stamp many records with the same values and the same modified instant, like a
    month-end bulk edit in HubSpot's UI (the case that breaks timestamp-only cursors)."""
    instant = store.clock.now_ms() if at_ms is None else at_ms
    return [
        store.update(store.find(object_type, rid), values, source=source, at_ms=instant)
        for rid in ids
    ]


def render(
    store: Store,
    record: Record,
    *,
    properties: list[str] | None = None,
    with_history: list[str] | None = None,
    associations: list[str] | None = None,
    values: dict[str, str] | None = None,
    base_url: str = "",
) -> dict[str, Any]:
    """A record as HubSpot's v3 objects API returns it (`base_url`: the host links in
    it point at)."""
    values = record.properties if values is None else values
    names = properties or DEFAULT_PROPERTIES[record.object_type]
    always = [
        "hs_object_id",
        CREATE_PROPERTY[record.object_type],
        MODIFIED_PROPERTY[record.object_type],
    ]
    # A property that exists but holds no value comes back as null, as HubSpot sends it.
    defined = store.properties[record.object_type]
    shown = {n: values.get(n) for n in [*always, *names] if n in values or n in defined}
    body: dict[str, Any] = {
        "id": record.id,
        "properties": shown,
        "createdAt": iso_from_ms(record.created_ms),
        "updatedAt": iso_from_ms(record.updated_ms),
        "archived": record.archived,
    }
    if record.archived and record.archived_ms is not None:
        body["archivedAt"] = iso_from_ms(record.archived_ms)
    if with_history:
        body["propertiesWithHistory"] = {
            n: record.history.get(n, []) for n in with_history if n in record.history
        }
    if associations:
        found = {}
        for to_type in associations:
            results = link_rows(store, record, to_type)
            if results:
                found[to_type] = inline_links(record, to_type, results, base_url=base_url)
        if found:
            body["associations"] = found
    return body


def link_rows(store: Store, record: Record, to_type: str) -> list[dict[str, str]]:
    """A record's links to one type as v3 lists them: one row per type name, by id."""
    linked = store.associated(record.object_type, record.id, to_type)
    return [
        {"id": tid, "type": TYPE_NAMES.get(t, str(t))}
        for tid, types in sorted(linked.items(), key=lambda kv: int(kv[0]))
        for t in sorted(types)
    ]


# HubSpot lists at most 100 links of one type inline on a v3 record (one per type name,
# so a primary link counts twice: with and without its label) and pages the rest, per
# record, with a link to that record's v3 associations (changelog, January 2021).
INLINE_LINKS_MAX = 100


def link_cursor(to_type: str, offset: int) -> str:
    """An opaque `after` for a record's links (HubSpot's are URL-encoded base64)."""
    token = base64.b64encode(f"{OBJECT_TYPE_IDS[to_type]}-{offset}".encode()).decode()
    return quote(token, safe="")


def link_offset(after: str) -> int:
    """The row a `link_cursor` points at (0 when absent or not one of ours)."""
    try:
        text = base64.b64decode(unquote(after)).decode()
        return max(int(text.rsplit("-", 1)[1]), 0)
    except (ValueError, IndexError):
        return 0


def inline_links(
    record: Record, to_type: str, results: list[dict[str, str]], *, base_url: str = ""
) -> dict[str, Any]:
    """One type's links on a v3 record: the first 100, and `paging` when there are more."""
    shown: dict[str, Any] = {"results": results[:INLINE_LINKS_MAX]}
    if len(results) > INLINE_LINKS_MAX:
        after = link_cursor(to_type, INLINE_LINKS_MAX)
        link = (
            f"{base_url}/crm/v3/objects/{OBJECT_TYPE_IDS[record.object_type]}/{record.id}"
            f"/associations/{OBJECT_TYPE_IDS[to_type]}?after={after}"
        )
        shown["paging"] = {"next": {"after": after, "link": link}}
    return shown


def csv(values: list[str] | None) -> list[str]:
    """Query parameters given either repeated or comma-separated."""
    out: list[str] = []
    for value in values or []:
        out.extend(v for v in value.split(",") if v)
    return out
