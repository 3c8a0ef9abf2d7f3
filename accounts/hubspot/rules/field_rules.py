"""Two-way sync's field rules and the per-field helpers every direction shares: which
side owns each synced account field (FieldRule rows over fields.py's defaults), our
value and HubSpot's, when each changed, and the journal and conflict rows both
directions write. The decision itself is threeway.decide."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from accounts.hubspot.models import FieldRule, SyncConflict, SyncState
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules.mapping import WON_DEALS, MappingConfig, OwnerRef, Unmappable
from accounts.hubspot.rules.owners import OwnerDirectory
from accounts.hubspot.rules.threeway import Rule
from accounts.models import Account, User

logger = logging.getLogger(__name__)
CHECK_MARGIN = timedelta(seconds=10)


# -- rules -------------------------------------------------------------------------------


def rules_load(
    config: MappingConfig | None = None, *, owners: Mapping[str, OwnerRef] | None = None
) -> list[Rule]:
    """Every synced field with its configured owner and policy (defaults for fields an
    admin never touched). ARR is left out when it is the sum of won deals. The owner
    field reads HubSpot owners from `owners` (a run's, already loaded) or, on first
    use, from the owner links."""
    config = config or MappingConfig()
    saved = {r.field: r for r in FieldRule.objects.all()}
    rules = []
    for spec in fieldspecs.ACCOUNT_FIELDS:
        if spec.key == "arr" and config.arr_source == WON_DEALS:
            continue
        if spec.key == "owner":
            spec = fieldspecs.owner_spec(OwnerDirectory(refs=owners))
        row = saved.get(spec.key)
        default_property = (
            config.arr_property if spec.key == "arr" and config.arr_property else spec.property
        )
        owner = row.owner if row and row.owner in spec.owners else spec.default_owner
        rules.append(
            Rule(
                spec=spec,
                property=row.property if row else default_property,
                owner=owner,
                policy=row.policy if row else fieldspecs.LATEST,
            )
        )
    return rules


def rule_save(*, key: str, owner: str, policy: str, prop: str, by: User | None) -> FieldRule:
    """An admin's choice for one field, validated against what the field allows."""
    spec = fieldspecs.BY_KEY.get(key)
    if spec is None:
        raise ValueError(f"{key} is not a synced field")
    if owner not in spec.owners:
        raise ValueError(f"{spec.label} cannot be {owner}")
    rule, _ = FieldRule.objects.update_or_create(
        field=key,
        defaults={
            "owner": owner,
            "policy": policy,
            "property": prop or spec.property,
            "updated_at": timezone.now(),
            "updated_by": by,
        },
    )
    return rule


def remote_properties(rules: Iterable[Rule]) -> list[str]:
    """The company properties inbound sync must read to compare every rule."""
    return [r.property for r in rules]


# -- helpers -----------------------------------------------------------------------------


def epoch_ms(when: datetime | None) -> int:
    return int(when.timestamp() * 1000) if when else 0


def _theirs(rule: Rule, record: dict[str, Any]) -> tuple[str | None, str]:
    """HubSpot's canonical value of a rule's property in a record (None when the record
    does not carry it), and why it could not be read ("" when it could)."""
    props = record.get("properties") or {}
    if rule.property not in props:
        return None, ""
    try:
        return rule.spec.canonical_remote(props.get(rule.property)), ""
    except Unmappable as exc:
        return None, exc.reason


def ours_value(rule: Rule, account: Account) -> str:
    return rule.spec.canonical_local(getattr(account, rule.spec.attribute))


def _stamp(rule: Rule, account: Account) -> int:
    """When a person last changed our value of the field (its `field_changed_at` stamp;
    sync's own pulls do not stamp), 0 when never."""
    stamps = account.field_changed_at if isinstance(account.field_changed_at, dict) else {}
    # A foreign key is stamped by its field's name ("owner"), read by its column.
    stamp = stamps.get(rule.spec.attribute) or stamps.get(rule.spec.attribute.removesuffix("_id"))
    return int(stamp or 0)


def ours_ms(rule: Rule, account: Account) -> int:
    """When our value of the field last changed: its own stamp, else the account's."""
    return _stamp(rule, account) or epoch_ms(account.updated_at)


def ours_reset(rule: Rule, account: Account, entry: Any, ours: str) -> bool:
    """Our value is the agreed one, but a person in Lifecycle set it again after the
    sides agreed (A -> B -> A), and no write of ours carried that edit: Lifecycle
    changed the field too, as HubSpot's `FieldSync.reset_ms` says of HubSpot's side."""
    if entry is None or entry.base is None or ours != entry.base:
        return False
    stamp = _stamp(rule, account)
    if stamp <= entry.base_ms:
        return False
    written = entry.written
    return not (written is not None and written.value == ours and written.ours_ms >= stamp)


def _theirs_ms(state: SyncState, rule: Rule) -> int:
    """When HubSpot set its value of the field: exactly if known, else the record's
    modified time."""
    entry = state.fields.get(rule.key)
    exact = entry.remote_ms if entry is not None and entry.prop == rule.property else 0
    return exact or state.remote_ms


def _timed(rule: Rule) -> bool:
    """A field whose conflicts the change times decide."""
    return rule.owner == fieldspecs.TWO_WAY and rule.policy == fieldspecs.LATEST


def _latest_undecided(
    rule: Rule, *, ours: str, theirs: str | None, base: str | None, ours_reset: bool = False
) -> bool:
    """Both sides changed a latest-wins field to different values: the decision needs
    when HubSpot's value was set (`ours_reset`: ours is the base set again since)."""
    return (
        _timed(rule)
        and theirs is not None
        and ours != theirs
        and (base is None or ((ours != base or ours_reset) and theirs != base))
    )


def _event_change(rule: Rule, value: str, events: Sequence[Any]) -> Any:
    """The latest webhook event (provenance.EventValue) that said HubSpot's property
    took this value, or None."""
    found = None
    for event in events:
        if event.prop != rule.property:
            continue
        try:
            if rule.spec.canonical_remote(event.value) == value and (
                found is None or event.occurred_ms > found.occurred_ms
            ):
                found = event
        except Unmappable:
            continue
    return found


def _at(ms: int) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def local_value(rule: Rule, value: str) -> Any:
    """A canonical value as our field holds it."""
    return rule.spec.from_hubspot(value) if value != "" else _empty(rule)


def _empty(rule: Rule) -> Any:
    model_field = Account._meta.get_field(rule.spec.attribute)
    assert isinstance(model_field, models.Field)
    return None if model_field.null else model_field.get_default()


@dataclass(frozen=True)
class Pull:
    """A field inbound sync set on an account (its new value is on the account), or,
    when not `applied`, an edit it judged and kept ours over; `note` says why."""

    account: Account
    attribute: str
    old: Any
    note: str = ""
    applied: bool = True
    new: Any = None


@dataclass
class Outcome:
    pulled: int = 0
    pushed: int = 0
    agreed: int = 0
    conflicts: int = 0
    failed: int = 0
    quarantined: int = 0
    calls: int = 0
    # Partitions of due accounts left to the pass holding them (outbound/push.py).
    deferred: int = 0
    changed_accounts: list[Account] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        names = ("pulled", "pushed", "agreed", "conflicts", "failed", "quarantined", "calls")
        for name in (*names, "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def journal_row(
    account: Account,
    *,
    key: str,
    old: str,
    new: str,
    source: str,
    at: datetime,
    note: str = "",
    change_source: str = "",
    old_by: str = "",
    status: str = "applied",
) -> dict[str, Any]:
    """An account's journal row, as fields (for `bulk.insert` or `create(**row)`);
    `note` says why when a policy decided (both sides changed)."""
    return {
        "account_id": account.pk,
        "object_type": "account",
        "object_id": account.pk,
        "hubspot_id": account.hubspot_id or "",
        "field": key,
        "old_value": old,
        "new_value": new,
        "source": source,
        "change_source": change_source[:40],
        "note": note[:100],
        "old_by": old_by[:80],
        "status": status,
        "at": at,
    }


def _conflict(
    account: Account, rule: Rule, *, base: str | None, ours: str, theirs: str, theirs_ms: int
) -> SyncConflict:
    return SyncConflict(
        account=account,
        field=rule.key,
        base_value=base or "",
        ours=ours,
        ours_at=_at(ours_ms(rule, account)),
        theirs=theirs,
        theirs_at=_at(theirs_ms),
    )
