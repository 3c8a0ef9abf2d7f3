"""Every write to the accounts domain. Keyword-only, one transaction each."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.formats import money_display

from . import bulk
from .models import (
    Account,
    ApiToken,
    Contact,
    Deal,
    Event,
    Stage,
    StageChange,
    UsageSnapshot,
    User,
)

ACCOUNT_EDITABLE_FIELDS = (
    "name",
    "domain",
    "segment",
    "arr",
    "currency",
    "contract_start",
    "renewal_date",
    "status",
)

# Fields other apps own and write here for HubSpot's sake.
CS_FIELDS = frozenset(
    {
        "health_score",
        "health_band",
        "onboarding_status",
        "onboarding_progress",
        "next_business_review",
        "renewal_forecast_category",
        "renewal_forecast_arr",
    }
)


def _display(value: Any) -> Any:
    """A JSON-safe form of a field value for audit data."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, User):
        return value.get_username()
    return value


def event_record(
    *,
    account: Account,
    kind: str,
    summary: str,
    actor: User | None = None,
    link: str = "",
    data: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Add one entry to an account's timeline; when a person did something with
    the customer (`Event.is_activity`), it is also the account's last activity."""
    when = occurred_at or timezone.now()
    event = Event.objects.create(
        account=account,
        kind=kind,
        summary=summary[:500],
        actor=actor,
        link=link,
        data=dict(data or {}),
        occurred_at=when,
    )
    if Event.is_activity(kind=kind, actor=actor):
        Account.objects.filter(pk=account.pk).exclude(last_activity_at__gt=when).update(
            last_activity_at=when
        )
        account.last_activity_at = max(filter(None, [account.last_activity_at, when]))
    return event


def accounts_last_activity_recompute(*, account_ids: Iterable[int]) -> int:
    """Set the accounts' last activity from their timelines (`Event.activity_q`), for
    writers that move events without event_record (the demo dating its start-up
    work into the past). One UPDATE with a subquery on the (account, -occurred_at)
    index. Returns the number of accounts updated."""
    latest = (
        Event.objects.filter(Event.activity_q(), account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    return Account.objects.filter(pk__in=list(account_ids)).update(
        last_activity_at=Subquery(latest)
    )


def _save_changed(account: Account, fields: Iterable[str]) -> None:
    """Save the named fields, note when they changed (`field_changed_at`, merged in the
    UPDATE so concurrent writers of other fields keep their stamps), and tell HubSpot
    sync once committed."""
    names = list(fields)
    patch = dict.fromkeys(names, int(timezone.now().timestamp() * 1000))
    known = account.field_changed_at if isinstance(account.field_changed_at, dict) else {}
    account.field_changed_at = bulk.JSONMerge("field_changed_at", patch)
    account.save(update_fields=[*names, "field_changed_at", "updated_at"])
    account.field_changed_at = {**known, **patch}  # the row also keeps others' stamps
    accounts_changed_notify(account_ids=[account.pk])


def accounts_changed_notify(*, account_ids: Iterable[int]) -> None:
    """Once the change is committed, call every ACCOUNT_CHANGED_HOOKS function with the
    sorted ids of the changed accounts: HubSpot sync's (when its app is installed) pushes
    their synced fields within seconds, coalescing bursts of edits. Dotted paths in
    settings, as for usage, because accounts imports no integration."""
    ids = sorted(set(account_ids))
    if not ids:
        return
    for path in settings.ACCOUNT_CHANGED_HOOKS:
        transaction.on_commit(partial(import_string(path), ids), robust=True)


@transaction.atomic
def account_create(*, by: User | None, **fields: Any) -> Account:
    """Create an account. Its first stage is recorded like any later change."""
    account = Account(**fields)
    account.full_clean()
    account.save()
    StageChange.objects.create(
        account=account, from_stage="", to_stage=account.stage, reason="Created", changed_by=by
    )
    event_record(
        account=account,
        kind=Event.Kind.ACCOUNT_CREATED,
        summary=f"Account created in stage {account.get_stage_display()}",
        actor=by,
    )
    accounts_changed_notify(account_ids=[account.pk])  # its HubSpot company, soon
    return account


@transaction.atomic
def account_update(*, account: Account, by: User | None, data: Mapping[str, Any]) -> Account:
    """Change an account's own fields; the timeline keeps each field's old and new value."""
    unknown = set(data) - set(ACCOUNT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    changes: dict[str, list[Any]] = {}
    for field, value in data.items():
        old = getattr(account, field)
        setattr(account, field, value)
        changes[field] = [old, value]
    account.full_clean()
    changes = {
        f: [_display(old), _display(getattr(account, f))]
        for f, (old, _new) in changes.items()
        if old != getattr(account, f)
    }
    if not changes:
        return account
    _save_changed(account, changes)
    labels = ", ".join(str(getattr(Account._meta.get_field(f), "verbose_name", f)) for f in changes)
    event_record(
        account=account,
        kind=Event.Kind.ACCOUNT_UPDATED,
        summary=f"Changed {labels}",
        actor=by,
        data={"changes": changes},
    )
    return account


@transaction.atomic
def account_stage_change(
    *, account: Account, to_stage: str, reason: str, by: User | None, on: datetime | None = None
) -> Account:
    """Move an account to another lifecycle stage. A reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the stage changes."})
    if to_stage not in Stage.values:
        raise ValidationError({"to_stage": f"Unknown stage {to_stage!r}."})
    if to_stage == account.stage:
        raise ValidationError({"to_stage": "The account is already in this stage."})
    when = on or timezone.now()
    from_stage = account.stage
    account.stage = to_stage
    _save_changed(account, ["stage"])
    StageChange.objects.create(
        account=account,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        changed_by=by,
        changed_at=when,
    )
    event_record(
        account=account,
        kind=Event.Kind.STAGE_CHANGED,
        summary=f"Stage {Stage(from_stage).label} → {Stage(to_stage).label}: {reason}",
        actor=by,
        data={"from": from_stage, "to": to_stage, "reason": reason},
        occurred_at=when,
    )
    return account


@transaction.atomic
def account_reassign(*, account: Account, owner: User | None, by: User | None) -> Account:
    """Give the account to another CSM (leaders and admins)."""
    if owner == account.owner:
        return account
    previous = account.owner
    account.owner = owner
    _save_changed(account, ["owner"])
    event_record(
        account=account,
        kind=Event.Kind.OWNER_CHANGED,
        summary=f"Owner {previous or 'nobody'} → {owner or 'nobody'}",
        actor=by,
        data={"from": previous.pk if previous else None, "to": owner.pk if owner else None},
    )
    return account


def account_cs_fields_update(*, account: Account, **fields: Any) -> Account:
    """The one door through which other apps write CS fields onto an account.

    Only the named fields are saved, so concurrent writers of different CS
    fields (health, onboarding, renewals) never overwrite each other.
    """
    unknown = set(fields) - CS_FIELDS
    if unknown:
        raise ValueError(f"Not a CS field: {', '.join(sorted(unknown))}")
    changed = [f for f, v in fields.items() if getattr(account, f) != v]
    if not changed:
        return account
    for field in changed:
        setattr(account, field, fields[field])
    _save_changed(account, changed)
    return account


def account_cs_fields_bulk_update(*, values: Mapping[int, Mapping[str, Any]]) -> int:
    """Write CS fields onto many accounts at once (e.g. the daily health job):
    one set-based UPDATE per 10,000 accounts, touching (and stamping
    `updated_at` on) only the accounts whose values changed. Every account
    must get the same fields. Returns the number of accounts changed."""
    for fields in values.values():
        unknown = set(fields) - CS_FIELDS
        if unknown:
            raise ValueError(f"Not a CS field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        now = timezone.now()
        return bulk.update_changed(
            Account,
            values,
            also={"updated_at": now},
            stamp=("field_changed_at", int(now.timestamp() * 1000)),
        )


@transaction.atomic
def contact_save(
    *, account: Account, by: User | None, data: Mapping[str, Any], contact: Contact | None = None
) -> Contact:
    """Create a contact, or update one, and note it on the timeline."""
    creating = contact is None
    contact = contact or Contact(account=account)
    for field, value in data.items():
        setattr(contact, field, value)
    contact.full_clean()
    contact.save()
    event_record(
        account=account,
        kind=Event.Kind.CONTACT_ADDED if creating else Event.Kind.CONTACT_UPDATED,
        summary=f"{'Added' if creating else 'Updated'} contact {contact.name}"
        f" ({contact.get_role_display()})",
        actor=by,
    )
    return contact


@transaction.atomic
def deal_save(
    *, account: Account, by: User | None, data: Mapping[str, Any], deal: Deal | None = None
) -> Deal:
    """Create a deal, or update one, and note it on the timeline."""
    creating = deal is None
    deal = deal or Deal(account=account, created_in_lifecycle=True)
    for field, value in data.items():
        setattr(deal, field, value)
    deal.full_clean()
    deal.save()
    if deal.created_in_lifecycle:
        accounts_changed_notify(account_ids=[account.pk])
    event_record(
        account=account,
        kind=Event.Kind.DEAL_ADDED if creating else Event.Kind.DEAL_UPDATED,
        summary=f"{'Added' if creating else 'Updated'} {deal.get_kind_display().lower()} deal "
        f"{deal.name}: {money_display(deal.amount, account.currency)} ({deal.stage.label})",
        actor=by,
    )
    return deal


@transaction.atomic
def deal_recreate(*, deal: Deal, by: User | None) -> Deal:
    """A person asks for a deal Lifecycle made, deleted in the CRM, to be made there
    again: it leaves the archive and forgets its CRM link, so the sync creates a new
    deal (a deleted deal stays deleted until a person says so)."""
    deal = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    if not deal.created_in_lifecycle:
        raise ValidationError("Only deals made in Lifecycle can be recreated in the CRM.")
    if deal.archived_at is None:
        raise ValidationError("This deal was not deleted in the CRM.")
    gone = deal.hubspot_id or ""
    deal.archived_at = None
    deal.hubspot_id = None
    deal.hubspot_pushed_at = None
    deal.hubspot_pushed_hash = ""
    deal.save(
        update_fields=[
            "archived_at",
            "hubspot_id",
            "hubspot_pushed_at",
            "hubspot_pushed_hash",
            "updated_at",
        ]
    )
    event_record(
        account=deal.account,
        kind=Event.Kind.DEAL_UPDATED,
        summary=f"Asked for deal {deal.name} to be made again in the CRM"
        + (f" (deal {gone} was deleted there)" if gone else ""),
        actor=by,
    )
    accounts_changed_notify(account_ids=[deal.account_id])
    return deal


USAGE_FIELDS = (
    "active_users",
    "seats_purchased",
    "seats_used",
    "logins_30d",
    "core_features_adopted",
    "open_tickets",
    "csat",
    "nps",
)


@transaction.atomic
def usage_ingested_notify(*, account_ids: Iterable[int]) -> None:
    """After the rows are committed, call every USAGE_INGESTED_HOOKS function
    with the sorted ids of the accounts they touched.

    The hooks are dotted paths in settings because accounts imports no other
    app: success rescores health this way without accounts knowing of it. They
    run robustly: usage that was stored stays stored and answered as such even
    if a hook fails (the failure is logged, and the daily scoring catches up)."""
    ids = sorted(set(account_ids))
    if not ids:
        return
    for path in settings.USAGE_INGESTED_HOOKS:
        transaction.on_commit(partial(import_string(path), ids), robust=True)


def usage_snapshots_upsert(*, rows: Iterable[Mapping[str, Any]]) -> int:
    """Store usage snapshots in bulk, one per (account, date): a second reading
    of the same day replaces the first, never duplicates it. Rows carry
    `account_id`, `date` and any of USAGE_FIELDS; no two rows may share an
    account and date (callers reject such duplicates row by row). Once
    committed, the USAGE_INGESTED_HOOKS run for the touched accounts."""
    rows = list(rows)
    usage_ingested_notify(account_ids=[row["account_id"] for row in rows])
    bulk.analyze(UsageSnapshot, rows=len(rows))
    now = timezone.now()
    return bulk.upsert(
        UsageSnapshot,
        [
            {
                "account_id": row["account_id"],
                "date": row["date"],
                **{f: row.get(f) for f in USAGE_FIELDS},
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ],
        unique=["account", "date"],
        update=[*USAGE_FIELDS, "updated_at"],
    )


API_TOKEN_PREFIX = "lc_"
# How stale `last_used_at` may get before a request writes it again: one write
# per token per minute, not one per request.
API_TOKEN_TOUCH_INTERVAL = timedelta(seconds=60)


@transaction.atomic
def api_token_create(*, user: User, name: str, by: User | None) -> tuple[ApiToken, str]:
    """Issue a token for `user`. Returns the token row and the secret, which is
    shown once and never stored: only its sha256 is kept."""
    prefix = f"{API_TOKEN_PREFIX}{secrets.token_hex(4)}"
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=user, name=name.strip(), prefix=prefix, key_hash=ApiToken.hash_key(key), created_by=by
    )
    token.full_clean()
    token.save()
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User | None) -> ApiToken:
    """Stop a token from authenticating. The row stays for the record."""
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = by
    token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Record that the token was used, at most once per API_TOKEN_TOUCH_INTERVAL."""
    now = now or timezone.now()
    if token.last_used_at and now - token.last_used_at < API_TOKEN_TOUCH_INTERVAL:
        return
    token.last_used_at = now
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
