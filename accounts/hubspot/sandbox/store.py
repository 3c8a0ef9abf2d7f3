"""The sandbox portal's state: records with history and search snapshots, properties,
pipelines, owners and associations. Guarded by one re-entrant lock; knows nothing of HTTP."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, iso_from_ms
from .errors import SandboxError, not_found
from .schema import (
    ASSOCIATION_TYPES,
    CREATE_PROPERTY,
    INVERSE_TYPES,
    MODIFIED_PROPERTY,
    OBJECT_TYPES,
    PRIMARY_TYPES,
    READ_ONLY,
    SINGULAR,
    default_groups,
    default_pipelines,
    default_properties,
)
from .support_schema import (
    LEGACY_WEBHOOK_TYPES,
    SUPPORT_TYPE_IDS,
    default_ticket_pipelines,
    ticket_closed_date,
    ticket_stage_problems,
)
from .values import InvalidValue, as_text, coerce, stage_problem, validation_body

Event = dict[str, Any]
# Pipeline and stage properties, checked together against the type's pipelines.
STAGE_FIELDS = frozenset(
    {
        ("deals", "pipeline"),
        ("deals", "dealstage"),
        ("tickets", "hs_pipeline"),
        ("tickets", "hs_pipeline_stage"),
    }
)
# Object types whose links to companies may be primary.
PRIMARY_SIDES = ("deals", "contacts", "tickets")


def subscription(object_type: str, action: str) -> dict[str, Any]:
    """A webhook event's type: `company.creation` for the legacy objects (and tickets),
    `object.creation` with the `objectTypeId` for the objects only generic webhooks
    cover (feedback submissions, engagements)."""
    if object_type in SUPPORT_TYPE_IDS and object_type not in LEGACY_WEBHOOK_TYPES:
        return {
            "subscriptionType": f"object.{action}",
            "objectTypeId": SUPPORT_TYPE_IDS[object_type],
        }
    return {"subscriptionType": f"{SINGULAR[object_type]}.{action}"}


# The sandbox portal's one private app: whoever calls the CRM API with its token writes
# as it (history: sourceType INTEGRATION, sourceId the app id; webhooks: changeSource
# INTEGRATION, sourceId the app id), as HubSpot records a private app's writes.
SANDBOX_APP_ID = 4242


@dataclass
class Source:
    """Who made a change, as history entries and webhooks report it."""

    source_type: str = "INTEGRATION"
    source_id: str = ""
    change_source: str = "INTEGRATION"
    user_id: str | None = None

    @property
    def recorded_id(self) -> str:
        """The sourceId HubSpot records: the app's id, or the person's "userId:N"."""
        return self.source_id or (f"userId:{self.user_id}" if self.user_id else "")


API = Source(source_id=str(SANDBOX_APP_ID))


@dataclass
class Record:
    object_type: str
    id: str
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    archived: bool = False
    archived_ms: int | None = None
    # (visible_from_ms, properties or None when hidden): what search sees, and since when.
    search_versions: list[tuple[int, dict[str, str] | None]] = field(default_factory=list)


class Store:
    """All portal state. Callers hold `lock` around any sequence of reads and writes."""

    def __init__(self, *, clock: Clock, search_delay_ms: int = 0, strict: bool = True) -> None:
        self.clock = clock
        # Refuse values HubSpot refuses (wrong type, unknown option, stage off pipeline).
        self.strict = strict
        self.search_delay_ms = search_delay_ms
        self.lock = threading.RLock()
        self.properties = default_properties()
        self.groups = default_groups()
        self.pipelines = default_pipelines(iso_from_ms(clock.now_ms()))
        self.ticket_pipelines = default_ticket_pipelines(iso_from_ms(clock.now_ms()))
        self.owners: list[dict[str, Any]] = []
        self.records: dict[str, dict[str, Record]] = {ot: {} for ot in OBJECT_TYPES}
        self.aliases: dict[str, dict[str, str]] = {ot: {} for ot in OBJECT_TYPES}
        # (from_type, from_id) -> {(to_type, to_id): {type ids}}
        self.associations: dict[tuple[str, str], dict[tuple[str, str], set[int]]] = {}
        self.next_id = 1001
        self.listeners: list[Callable[[Event], None]] = []
        # object type -> (the records dict, (its size, next id), its ids sorted) for paging.
        self._id_cache: dict[str, tuple[dict[str, Record], tuple[int, int], list[int]]] = {}

    # -- reading ---------------------------------------------------------------

    def find(self, object_type: str, object_id: str, *, archived: bool = False) -> Record:
        """A live record by id, following merge aliases; 404 when absent."""
        records = self.records[object_type]
        rid = self.aliases[object_type].get(object_id, object_id)
        record = records.get(rid)
        if record is None or record.archived != archived:
            raise not_found(object_type, object_id)
        return record

    def find_by(self, object_type: str, prop: str, value: str) -> Record | None:
        if prop == "hs_object_id":
            try:
                return self.find(object_type, value)
            except SandboxError:
                return None
        for record in self.records[object_type].values():
            if not record.archived and record.properties.get(prop) == value:
                return record
        return None

    def ordered(self, object_type: str, *, archived: bool = False) -> list[Record]:
        return list(self.page(object_type, start=0, limit=None, archived=archived))

    def page(
        self, object_type: str, *, start: int, limit: int | None, archived: bool = False
    ) -> list[Record]:
        """Up to `limit` records (all when None) with an id >= `start`, in id order.

        Ids are kept sorted per type and re-sorted only when records come or go, so
        paging through N records costs O(N log N) in all rather than O(N) per page."""
        records = self.records[object_type]
        ids = self._sorted_ids(object_type)
        found: list[Record] = []
        for rid in ids[bisect.bisect_left(ids, start) :]:
            record = records.get(str(rid))
            if record is not None and record.archived == archived:
                found.append(record)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def _sorted_ids(self, object_type: str) -> list[int]:
        records = self.records[object_type]
        cached = self._id_cache.get(object_type)
        key = (len(records), self.next_id)
        if cached is None or cached[0] is not records or cached[1] != key:
            cached = (records, key, sorted(int(rid) for rid in records))
            self._id_cache[object_type] = cached
        return cached[2]

    def search_view(self, object_type: str) -> list[tuple[Record, dict[str, str]]]:
        """Records as the search index sees them now: delayed, never archived."""
        now = self.clock.now_ms()
        view = []
        for record in self.records[object_type].values():
            visible = [props for since, props in record.search_versions if since <= now]
            if visible and visible[-1] is not None:
                view.append((record, visible[-1]))
        return view

    def associated(self, object_type: str, object_id: str, to_type: str) -> dict[str, set[int]]:
        links = self.associations.get((object_type, object_id), {})
        return {tid: types for (tt, tid), types in links.items() if tt == to_type}

    # -- validation ------------------------------------------------------------

    def check_properties(
        self,
        object_type: str,
        values: dict[str, Any],
        *,
        allow_read_only: bool = False,
        record: Record | None = None,
        lenient: bool = False,
    ) -> dict[str, str]:
        """Values as HubSpot stores them (strings, normalised per type), or HubSpot's 400
        naming each bad property. `lenient` (seeding, or a sandbox made with
        strict=False) keeps values that fail their type as given, as an old portal may
        hold them; unknown and read-only properties are refused all the same."""
        lenient = lenient or not self.strict
        defined = self.properties[object_type]
        problems: list[tuple[str, str, str, str]] = []
        clean: dict[str, str] = {}
        for name, raw in values.items():
            text = as_text(raw)
            prop = defined.get(name)
            if prop is None:
                problems.append(
                    ("PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist', text)
                )
                continue
            if not allow_read_only and (name in READ_ONLY or prop.get("calculated")):
                problems.append(("READ_ONLY_VALUE", name, f"{name} is a read only property", text))
                continue
            if (object_type, name) in STAGE_FIELDS:
                clean[name] = text  # checked together below
                continue
            try:
                clean[name] = coerce(prop, raw)
            except InvalidValue as exc:
                if not lenient:
                    problems.append((exc.code, name, exc.message, text))
                clean[name] = text
        if object_type == "deals" and not lenient and {"pipeline", "dealstage"} & set(clean):
            current = record.properties if record is not None else {}
            pipeline = clean.get("pipeline", current.get("pipeline", ""))
            stage = clean.get("dealstage", current.get("dealstage", ""))
            why = stage_problem(self.pipelines, pipeline, stage)
            if why is not None:
                name = "dealstage" if "dealstage" in why else "pipeline"
                problems.append(("INVALID_OPTION", name, why, clean.get(name, "")))
        if object_type == "tickets" and not lenient:
            problems += ticket_stage_problems(
                self.ticket_pipelines, clean, record.properties if record else None
            )
        if problems:
            message, extra = validation_body(problems)
            raise SandboxError(400, message, category="VALIDATION_ERROR", extra=extra)
        return clean

    def check_unique(self, object_type: str, values: dict[str, str], *, skip_id: str = "") -> None:
        for name, value in values.items():
            prop = self.properties[object_type].get(name)
            if not value or not prop or not prop.get("hasUniqueValue") or name == "hs_object_id":
                continue
            twin = self.find_by(object_type, name, value)
            if twin is not None and twin.id != skip_id:
                raise SandboxError(
                    409,
                    f"{SINGULAR[object_type].title()} already exists. Existing ID: {twin.id}",
                    category="CONFLICT",
                )

    # -- writing ---------------------------------------------------------------

    def _stamp(self, record: Record, values: dict[str, str], now: int, source: Source) -> None:
        stamp = iso_from_ms(now)
        for name, value in values.items():
            record.properties[name] = value
            entry: dict[str, Any] = {
                "value": value,
                "timestamp": stamp,
                "sourceType": source.source_type,
                "sourceId": source.recorded_id,
                "sourceLabel": source.source_type.lower(),
            }
            if source.user_id:
                entry["updatedByUserId"] = int(source.user_id)
            record.history.setdefault(name, []).insert(0, entry)

    def _reindex(self, record: Record, now: int) -> None:
        snapshot = None if record.archived else dict(record.properties)
        visible = [v for v in record.search_versions if v[0] <= now]
        record.search_versions = [*visible[-1:], (now + self.search_delay_ms, snapshot)]

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    def create(
        self,
        object_type: str,
        values: dict[str, Any],
        *,
        source: Source = API,
        allow_read_only: bool = False,
        at_ms: int | None = None,
        lenient: bool = False,
    ) -> Record:
        clean = self.check_properties(
            object_type, values, allow_read_only=allow_read_only, lenient=lenient
        )
        self.check_unique(object_type, clean)
        now = self.clock.now_ms() if at_ms is None else at_ms
        rid = str(self.next_id)
        self.next_id += 1
        record = Record(object_type, rid, {}, created_ms=now, updated_ms=now)
        stamped = {
            "hs_object_id": rid,
            CREATE_PROPERTY[object_type]: iso_from_ms(now),
            MODIFIED_PROPERTY[object_type]: iso_from_ms(now),
            **{k: v for k, v in clean.items() if v != ""},
        }
        if object_type == "tickets":
            ticket_closed_date(self.ticket_pipelines, {}, stamped, iso_from_ms(now))
        self._stamp(record, stamped, now, source)
        self.records[object_type][rid] = record
        self._reindex(record, now)
        self.emit(
            {
                **subscription(object_type, "creation"),
                "objectId": int(rid),
                "occurredAt": now,
                "_source": source,
            }
        )
        for name, value in clean.items():
            self._emit_change(record, name, value, now, source)
        return record

    def _emit_change(self, record: Record, name: str, value: str, now: int, src: Source) -> None:
        self.emit(
            {
                **subscription(record.object_type, "propertyChange"),
                "objectId": int(record.id),
                "propertyName": name,
                "propertyValue": value,
                "occurredAt": now,
                "_source": src,
            }
        )

    def update(
        self,
        record: Record,
        values: dict[str, Any],
        *,
        source: Source = API,
        allow_read_only: bool = False,
        at_ms: int | None = None,
        lenient: bool = False,
    ) -> Record:
        """Change properties; calculated-only changes leave the modified date alone."""
        clean = self.check_properties(
            record.object_type,
            values,
            allow_read_only=allow_read_only,
            record=record,
            lenient=lenient,
        )
        self.check_unique(record.object_type, clean, skip_id=record.id)
        now = self.clock.now_ms() if at_ms is None else at_ms
        changed = {k: v for k, v in clean.items() if record.properties.get(k, "") != v}
        if record.object_type == "tickets":
            ticket_closed_date(self.ticket_pipelines, record.properties, changed, iso_from_ms(now))
        if not changed:
            return record
        defined = self.properties[record.object_type]
        bumps = any(not defined[k].get("calculated") for k in changed)
        if bumps:
            changed[MODIFIED_PROPERTY[record.object_type]] = iso_from_ms(now)
            record.updated_ms = now
        self._stamp(record, changed, now, source)
        for k in [k for k, v in changed.items() if v == ""]:
            record.properties.pop(k, None)
        self._reindex(record, now)
        for name in clean:
            if name in changed:
                self._emit_change(record, name, changed[name], now, source)
        return record

    def archive(self, record: Record, *, source: Source = API) -> None:
        now = self.clock.now_ms()
        record.archived, record.archived_ms = True, now
        self._reindex(record, now)
        self.emit(
            {
                **subscription(record.object_type, "deletion"),
                "objectId": int(record.id),
                "occurredAt": now,
                "_source": source,
            }
        )

    def restore(self, record: Record, *, source: Source = API) -> None:
        """Bring an archived record back; refused (409, as a create would be) when a live
        record now holds one of its unique values (`hasUniqueValue`), so no two live
        records ever share one."""
        self.check_unique(record.object_type, record.properties, skip_id=record.id)
        now = self.clock.now_ms()
        record.archived, record.archived_ms = False, None
        self._reindex(record, now)
        self.emit(
            {
                **subscription(record.object_type, "restore"),
                "objectId": int(record.id),
                "occurredAt": now,
                "_source": source,
            }
        )

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: Iterable[int]
    ) -> None:
        """Link both directions, as HubSpot stores a link: the unlabeled type always, a
        primary type beside it (taken off the record's other companies, as a deal or a
        contact has one primary company); fires associationChange."""
        if from_type == "companies" and to_type in PRIMARY_SIDES:
            # Primaries belong to the deal or contact: store the link from that side.
            inverse = [INVERSE_TYPES[t] for t in type_ids]
            self.associate(to_type, to_id, from_type, from_id, inverse)
            return
        self.find(from_type, from_id)
        self.find(to_type, to_id)
        ids = {*type_ids, ASSOCIATION_TYPES[(from_type, to_type)][0]}
        primary = PRIMARY_TYPES.get((from_type, to_type), (0, ""))[0]
        if primary in ids:
            for other_id, types in self.associated(from_type, from_id, to_type).items():
                if other_id != to_id and primary in types:
                    types.discard(primary)
                    theirs = self.associations[(to_type, other_id)][(from_type, from_id)]
                    theirs.discard(INVERSE_TYPES[primary])
        self.associations.setdefault((from_type, from_id), {}).setdefault(
            (to_type, to_id), set()
        ).update(ids)
        self.associations.setdefault((to_type, to_id), {}).setdefault(
            (from_type, from_id), set()
        ).update(INVERSE_TYPES[t] for t in ids)
        self._emit_association(from_type, from_id, to_type, to_id, removed=False)

    def dissociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        existed = self.associations.get((from_type, from_id), {}).pop((to_type, to_id), None)
        self.associations.get((to_type, to_id), {}).pop((from_type, from_id), None)
        if existed is not None:
            self._emit_association(from_type, from_id, to_type, to_id, removed=True)

    def _emit_association(
        self, from_type: str, from_id: str, to_type: str, to_id: str, *, removed: bool
    ) -> None:
        """One event per side: a deal-company link fires deal.* and company.associationChange."""
        now = self.clock.now_ms()
        for a_type, a_id, b_type, b_id in (
            (from_type, from_id, to_type, to_id),
            (to_type, to_id, from_type, from_id),
        ):
            self.emit(
                {
                    **subscription(a_type, "associationChange"),
                    "objectId": int(a_id),
                    "fromObjectId": int(a_id),
                    "toObjectId": int(b_id),
                    "associationType": f"{SINGULAR[a_type]}_TO_{SINGULAR[b_type]}".upper(),
                    "associationRemoved": removed,
                    "occurredAt": now,
                    "_source": API,
                }
            )
