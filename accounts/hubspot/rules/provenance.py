"""Who wrote a HubSpot value. HubSpot's property history entries carry `sourceType`
(INTEGRATION for an app's writes, CRM_UI for a person's, API, WORKFLOW, IMPORT...),
`sourceId` (an app's id for INTEGRATION, "userId:N" for a person) and
`updatedByUserId`; webhook events carry `changeSource` and `sourceId`. A value is our
own echo when it is our app's write, whatever its timing: no time window decides it.

Our app's id is `settings.HUBSPOT_APP_ID` (the private app's id, also the `appId` of
every webhook delivery it gets). Without it, any INTEGRATION write of the value we sent
counts as ours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from django.conf import settings

from accounts.hubspot.rules.mapping import Unmappable, parse_ms
from accounts.hubspot.rules.threeway import Rule

INTEGRATION = "INTEGRATION"


def app_id() -> str:
    return str(getattr(settings, "HUBSPOT_APP_ID", "") or "")


def ours(source_type: str, source_id: Any) -> bool:
    """A write by our app (by its recorded source id when we know it)."""
    if str(source_type or "").upper() != INTEGRATION:
        return False
    mine = app_id()
    return not mine or str(source_id or "") == mine


def our_author() -> str:
    """How the bookkeeping names our app as the author of a value we wrote."""
    return author(INTEGRATION, app_id())


def by_us(who: str) -> bool:
    """An author as `author` names it ("INTEGRATION 4242") is our app."""
    source_type, _, rest = (who or "").partition(" ")
    return ours(source_type, rest.split(" ")[0] if rest else "")


def author(source_type: Any, source_id: Any, user_id: Any = None) -> str:
    """Who, as the journal names them: "CRM_UI userId:9001", "INTEGRATION 4242"."""
    who = " ".join(str(p) for p in (source_type, source_id) if p)
    if user_id and f"userId:{user_id}" not in who:
        who = f"{who} user {user_id}".strip()
    return who[:80]


class Change(NamedTuple):
    """One value HubSpot recorded for a property, canonical, with when and by whom."""

    value: str
    at_ms: int
    by: str
    ours: bool


class EventValue(NamedTuple):
    """A property change as a webhook event carried it."""

    prop: str
    value: str
    occurred_ms: int
    by: str
    ours: bool


def event_value(data: dict[str, Any], occurred_ms: int) -> EventValue:
    source_type, source_id = data.get("changeSource") or "", data.get("sourceId") or ""
    return EventValue(
        prop=str(data.get("propertyName", "")),
        value=str(data.get("propertyValue") or ""),
        occurred_ms=occurred_ms,
        by=author(source_type, source_id),
        ours=ours(str(source_type), source_id),
    )


def history_changes(rule: Rule, entries: Sequence[dict[str, Any]]) -> list[Change]:
    """A property's history (newest first, as HubSpot returns it) as canonical changes;
    values the field cannot read are left out."""
    changes = []
    for entry in entries or ():
        try:
            value = rule.spec.canonical_remote(entry.get("value"))
        except Unmappable:
            continue
        source_type, source_id = entry.get("sourceType") or "", entry.get("sourceId") or ""
        changes.append(
            Change(
                value=value,
                at_ms=parse_ms(str(entry.get("timestamp") or "")),
                by=author(source_type, source_id, entry.get("updatedByUserId")),
                ours=ours(str(source_type), source_id),
            )
        )
    return changes


def current_change(rule: Rule, entries: Sequence[dict[str, Any]], value: str) -> Change | None:
    """The history entry that set the property's current `value` (the newest one)."""
    for change in history_changes(rule, entries):
        return change if change.value == value else None
    return None
