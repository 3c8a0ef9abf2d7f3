"""The conflict inbox's one write: a person picks the value, it goes to whichever side
needs it and becomes the agreed base."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from accounts.hubspot.models import SyncChange, SyncConflict, SyncSource, SyncState
from accounts.hubspot.rules import sync_state
from accounts.hubspot.rules.field_rules import (
    epoch_ms,
    journal_row,
    local_value,
    ours_value,
    rules_load,
)
from accounts.hubspot.rules.mapping import Unmappable
from accounts.models import Account, User

logger = logging.getLogger(__name__)


# -- conflicts ---------------------------------------------------------------------------


def conflict_resolve(conflict: SyncConflict, *, value: str, by: User) -> SyncConflict:
    """A person's answer: `value` (canonical) becomes ours now and HubSpot's at the next
    push. Done by setting the base to HubSpot's current value, so the next pass sees
    "only Lifecycle changed" and pushes (or agrees, if HubSpot holds it already)."""
    rules = {r.key: r for r in rules_load()}
    rule = rules.get(conflict.field)
    if rule is None:
        raise ValueError(f"{conflict.field} is not synced any more")
    try:
        local = local_value(rule, value)
        canonical = rule.spec.canonical_local(local)
    except (Unmappable, ValueError, ArithmeticError) as exc:
        raise ValueError(f"{value!r} is not a valid {rule.spec.label}: {exc}") from exc
    now = timezone.now()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=conflict.account_id)
        state, _ = SyncState.objects.get_or_create(account=account)
        old = ours_value(rule, account)
        setattr(account, rule.spec.attribute, local)
        account.save(update_fields=[rule.spec.attribute, "updated_at"])
        theirs = sync_state.remote_of(state, rule)
        if theirs is not None:
            # The person answered having seen HubSpot's value (and the company as last
            # read): the agreement covers them whatever HubSpot's clock said. Ahead of
            # ours, that edit would otherwise look later than the answer, be read as a
            # new HubSpot edit back to the base, and reopen the conflict.
            entry = sync_state.field_of(state, rule)
            entry.agree(theirs, max(epoch_ms(now), entry.remote_ms, state.remote_ms))
        state.checked_at = None
        state.save()
        conflict.status = SyncConflict.Status.RESOLVED
        conflict.resolution = canonical
        conflict.resolved_by = by
        conflict.resolved_at = now
        conflict.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
        SyncChange.objects.create(
            **journal_row(
                account,
                key=rule.spec.attribute,
                old=old,
                new=canonical,
                source=SyncSource.RESOLVE,
                at=now,
                change_source=by.get_full_name() or by.email or by.username,
            )
        )
    return conflict
