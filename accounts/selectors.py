"""Every read the accounts pages need, with what they show already joined."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Account, Contact, Deal, Event, StageChange, UsageSnapshot, User
from .roles import Role


def portfolio_accounts() -> QuerySet[Account]:
    return Account.objects.select_related("owner")


def account_contacts(*, account: Account) -> QuerySet[Contact]:
    return account.contacts.all()


def account_deals(*, account: Account) -> QuerySet[Deal]:
    return account.deals.select_related("pipeline", "stage")


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
