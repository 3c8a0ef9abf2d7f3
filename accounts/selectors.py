"""Every read the accounts pages need, with what they show already joined."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string

from .models import (
    Account,
    ApiToken,
    Contact,
    Deal,
    Event,
    StageChange,
    UsageSnapshot,
    User,
    normalise_domain,
)
from .roles import Role


def portfolio_accounts() -> QuerySet[Account]:
    return Account.objects.select_related("owner")


PORTFOLIO_COLUMNS = (
    "name",
    "domain",
    "segment",
    "stage",
    "arr",
    "currency",
    "renewal_date",
    "health_score",
    "health_band",
    "last_activity_at",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def portfolio_list_accounts() -> QuerySet[Account]:
    """The portfolio table's accounts: only the columns it shows (not the JSON of
    field change times, nor the owner's password hash), owner joined."""
    return Account.objects.select_related("owner").only(*PORTFOLIO_COLUMNS)


def account_contacts(*, account: Account) -> QuerySet[Contact]:
    return account.contacts.filter(archived_at__isnull=True)


def account_deals(*, account: Account) -> QuerySet[Deal]:
    return account.deals.filter(archived_at__isnull=True).select_related("pipeline", "stage")


def account_timeline(*, account: Account, limit: int = 50) -> QuerySet[Event]:
    return account.events.select_related("actor")[:limit]


def account_stage_history(*, account: Account) -> QuerySet[StageChange]:
    return account.stage_changes.select_related("changed_by")


def account_latest_usage(*, account: Account) -> UsageSnapshot | None:
    return account.usage_snapshots.order_by("-date").first()


def assignable_owners() -> QuerySet[User]:
    """Users who can own accounts: CSMs and leaders."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.CSM, Role.LEADER])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def assignable_owner_choices() -> list[tuple[str, str]]:
    """`assignable_owners()` as select choices, (pk, the name `str(user)` writes),
    read as values: a list page's owner filter needs no user instances."""
    rows = assignable_owners().values_list("pk", "first_name", "last_name", "username")
    return [(str(pk), f"{first} {last}".strip() or name) for pk, first, last, name in rows]


class AccountRef(NamedTuple):
    pk: int
    owner_id: int | None


def accounts_by_reference(*, references: Iterable[str]) -> dict[str, AccountRef]:
    """Resolve references that name an account by our id, its HubSpot id or its
    domain, in one query. Our id wins over a HubSpot id, which wins over a
    domain. References that match nothing are absent from the answer."""
    keys = {r for r in references if r}
    if not keys:
        return {}
    # Postgres ids are bigints: a longer number cannot be one of ours.
    ids = {int(k) for k in keys if k.isascii() and k.isdigit() and len(k) < 19}
    domains = {normalise_domain(k) for k in keys} - {""}
    by_id: dict[str, AccountRef] = {}
    by_hubspot: dict[str, AccountRef] = {}
    by_domain: dict[str, AccountRef] = {}
    rows = Account.objects.filter(
        Q(pk__in=ids) | Q(hubspot_id__in=keys) | Q(domain__in=domains)
    ).values_list("pk", "owner_id", "hubspot_id", "domain")
    for pk, owner_id, hubspot_id, domain in rows:
        ref = AccountRef(pk, owner_id)
        by_id[str(pk)] = ref
        if hubspot_id:
            by_hubspot[hubspot_id] = ref
        if domain:
            by_domain[domain] = ref
    resolved: dict[str, AccountRef] = {}
    for key in keys:
        found = by_id.get(key) or by_hubspot.get(key) or by_domain.get(normalise_domain(key))
        if found is not None:
            resolved[key] = found
    return resolved


def api_accounts() -> QuerySet[Account]:
    """Accounts as the API lists them: with their owner joined."""
    return Account.objects.select_related("owner")


def api_usage_snapshots() -> QuerySet[UsageSnapshot]:
    return UsageSnapshot.objects.all()


def api_token_by_key(*, key: str) -> ApiToken | None:
    """The live token whose secret is `key`, with its user, or None."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True)
        .first()
    )


def api_tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user", "created_by", "revoked_by")


def open_conflicts_count(*, account_id: int | None = None, owner_id: int | None = None) -> int:
    """What waits for a person in the integrations (open sync conflicts) for one account
    or one owner's accounts: the sum of the OPEN_CONFLICTS_HOOKS (dotted paths, so
    accounts imports no integration); 0 when none is installed."""
    return sum(
        import_string(path)(account_id=account_id, owner_id=owner_id)
        for path in settings.OPEN_CONFLICTS_HOOKS
    )
