"""Every read the accounts pages need, with what they show already joined."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string

from lifecycle.ops.triggers import kept_by_triggers

from .models import (
    Account,
    ApiToken,
    Contact,
    Deal,
    Event,
    LiveAccountCount,
    StageChange,
    UsageSnapshot,
    User,
    normalise_domain,
)
from .roles import Role, strongest_role


def portfolio_accounts() -> QuerySet[Account]:
    return Account.objects.select_related("owner")


class PortfolioAccount(NamedTuple):
    """One account as the portfolio table shows it (`PORTFOLIO_COLUMNS`, in order)."""

    pk: int
    name: str
    domain: str
    segment: str
    stage: str
    arr: Decimal
    currency: str
    renewal_date: date | None
    health_score: int | None
    health_band: str
    last_activity_at: datetime | None
    owner_id: int | None
    owner_first_name: str | None
    owner_last_name: str | None
    owner_username: str | None


PORTFOLIO_COLUMNS = (
    "pk",
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
    "owner_id",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def portfolio_list_accounts() -> QuerySet[Account]:
    """The portfolio's accounts, to filter, count and page: no join, so a count or a
    page's ids can be read from an index alone (PostgreSQL keeps a join's column
    needed even when it drops the unused join, which ruled that out). A page's rows
    are then `portfolio_rows`."""
    return Account.objects.all()


def within(id_range: tuple[int, int] | None, field: str = "account__pk") -> Q:
    """Rows whose account id lies in `id_range` (any row when None): said beside
    `account__in=<a chunk's accounts>`, which PostgreSQL reads as a join, it lets the
    query read a range of the account index: it keeps no row the join would drop (the
    daily health job's chunks, success.health.inputs)."""
    return Q(**{f"{field}__range": id_range}) if id_range is not None else Q()


class LiveCount(NamedTuple):
    owner_id: int | None
    segment: str
    stage: str
    accounts: int


def live_account_counts() -> list[LiveCount] | None:
    """How many live (not archived) accounts each owner (None: unassigned) has in each
    segment and stage, those with none left out, exactly as `COUNT(*)` would find them
    in this snapshot: from the counts the database's triggers keep
    (`LiveAccountCount`), one small read instead of counting every live account. None
    where no trigger keeps them (not PostgreSQL): count instead."""
    connection = kept_by_triggers(LiveAccountCount)
    if connection is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT owner_key, segment, stage, accounts"
            f" FROM {LiveAccountCount._meta.db_table} WHERE accounts > 0"
        )
        return [
            LiveCount(owner or None, segment, stage, n)
            for owner, segment, stage, n in cursor.fetchall()
        ]


def portfolio_rows(accounts: QuerySet[Account]) -> list[PortfolioAccount]:
    """A page of the portfolio as the table shows it: only those columns (not the
    JSON of field change times, not the owner's password hash), the owner's name
    joined, as values rather than model instances."""
    return [PortfolioAccount._make(row) for row in accounts.values_list(*PORTFOLIO_COLUMNS)]


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


class Person(NamedTuple):
    pk: int
    name: str  # str(user): the full name, else the username
    first_name: str
    assignable: bool  # one of `assignable_owners`
    role: Role | None  # roles.role_of(user)


def _people_sql() -> str:
    """Every user with each of their groups' names (a row per group; NULL: none), in
    the order of first name, last name and username. Plain SQL: the statement
    never changes, and the ORM's form of it (an EXISTS per role) cost PostgreSQL
    several times this join to plan."""
    users = User._meta.db_table
    memberships = User.groups.through._meta.db_table
    groups = Group._meta.db_table
    return (
        "SELECT u.id, u.first_name, u.last_name, u.username, u.is_active, u.is_superuser, "
        f"g.name FROM {users} u LEFT OUTER JOIN {memberships} m ON m.user_id = u.id "
        f"LEFT OUTER JOIN {groups} g ON g.id = m.group_id "
        "ORDER BY u.first_name, u.last_name, u.username, u.id"
    )


def people() -> list[Person]:
    """Every user, in the database's order of first name, last name and username
    (the owner sort's order and the owner selects'), with whether they can own
    accounts (`assignable_owners`) and their role (`roles.role_of`: the page's own
    user's role comes with them instead of a query of its own), in one statement."""
    with connections[router.db_for_read(User)].cursor() as cursor:
        cursor.execute(_people_sql())
        rows = cursor.fetchall()
    found: dict[int, tuple[tuple[Any, ...], set[str]]] = {}
    for *user, group in rows:
        held = found.setdefault(user[0], (tuple(user), set()))[1]
        if group is not None:
            held.add(group)
    owner_roles = {Role.CSM.value, Role.LEADER.value}
    # str(user) is AbstractUser.get_full_name(), else the username.
    return [
        Person(
            pk,
            f"{first} {last}".strip() or username,
            first,
            bool(active) and not owner_roles.isdisjoint(groups),
            Role.ADMIN if superuser else strongest_role(groups),
        )
        for (pk, first, last, username, active, superuser), groups in found.values()
    ]


def assignable_owner_choices(everyone: list[Person] | None = None) -> list[tuple[str, str]]:
    """(str(pk), str(user)) for each of `assignable_owners`, in its order: the choices
    of the owner selects, from `people` (read now unless given)."""
    return [
        (str(p.pk), p.name) for p in (people() if everyone is None else everyone) if p.assignable
    ]


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
