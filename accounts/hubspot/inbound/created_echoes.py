"""The webhooks of a company we just created are our own create coming back: nothing in
them is news, so they are not read back from HubSpot.

A company made by the push (outbound/creates.py) fires `company.creation` and one
`company.propertyChange` per property we set; each delivery used to cost a batch read
(issue 15: 320 accounts created one at a time, 1,033 batch reads of echoes). A company's
pending events are such an echo when they are only its creation and property changes,
the company is linked to an account whose sync state says we wrote our id onto it, and
every value the events carry is the one sync already holds for HubSpot. Anything else (a
value we did not write, a property we do not know, a deletion, a merge) is read as
before; a later edit by a person arrives as its own event and is read then."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.hubspot.models import SyncState, WebhookEvent
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules.field_rules import ours_value
from accounts.hubspot.rules.mapping import Unmappable
from accounts.hubspot.rules.threeway import Rule
from accounts.models import Account, normalise_domain

ECHO_TYPES = frozenset({"company.creation", "company.propertyChange"})


def created_echoes(events: Sequence[WebhookEvent], rules: Sequence[Rule]) -> set[str]:
    """Ids of the companies whose events here are only the echo of our create (one
    query, and none when no company creation is among the events)."""
    by_id: dict[str, list[WebhookEvent]] = {}
    for event in events:
        if event.subscription_type.startswith("company."):
            by_id.setdefault(str(event.payload.get("objectId")), []).append(event)
    created = [
        oid
        for oid, found in by_id.items()
        if any(e.subscription_type == "company.creation" for e in found)
        and all(e.subscription_type in ECHO_TYPES for e in found)
    ]
    if not created:
        return set()
    by_property = {r.property: r for r in rules}
    echoes = set()
    for account in Account.objects.filter(hubspot_id__in=created).select_related("hubspot_state"):
        state = getattr(account, "hubspot_state", None)
        ours = state.fields.get(fieldspecs.ACCOUNT_ID_PROPERTY) if state is not None else None
        if state is None or ours is None or ours.written is None:
            continue  # not a company we made
        if ours.written.value != str(account.pk):
            continue  # not a company we made
        changes = [e.payload for e in by_id[account.hubspot_id or ""]]
        if all(
            _known(account, _remote(state), by_property, str(c.get("propertyName", "")), c)
            for c in changes
            if "propertyName" in c
        ):
            echoes.add(account.hubspot_id or "")
    return echoes


def _remote(state: SyncState) -> dict[str, str]:
    """HubSpot's values as sync last saw them, by property."""
    return {
        entry.prop: entry.remote
        for entry in state.fields.values()
        if entry.prop and entry.remote is not None
    }


def _known(
    account: Account,
    remote: dict[str, str],
    rules: dict[str, Rule],
    name: str,
    change: dict[str, object],
) -> bool:
    """The event's value is the one we wrote (and sync already holds)."""
    raw = str(change.get("propertyValue") or "")
    if name == fieldspecs.ACCOUNT_ID_PROPERTY:
        return raw == str(account.pk)
    if name == "domain":
        return normalise_domain(raw) == (account.domain or "")
    rule = rules.get(name)
    if rule is None:
        return False
    try:
        value = rule.spec.canonical_remote(raw)
    except Unmappable:
        return False
    # What sync holds for HubSpot, or what the create sent (a HubSpot-owned name).
    return value in (remote.get(name), ours_value(rule, account))
