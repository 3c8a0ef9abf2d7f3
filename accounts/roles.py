"""Roles are Django groups. One place answers "may this user do that?".

- admin: configuration, and everything a leader may do
- leader: everything a CSM may do, on every account; reassigns accounts
- csm: reads every account, writes only the accounts they own
- viewer: reads only
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, Protocol

from django.core.exceptions import PermissionDenied
from django.db import connections, router

if TYPE_CHECKING:
    from .models import Account


class Role(StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    CSM = "csm"
    VIEWER = "viewer"


ROLE_ORDER = [Role.ADMIN, Role.LEADER, Role.CSM, Role.VIEWER]
# The roles that write (a CSM only on the accounts they own); a viewer only reads.
WRITERS = (Role.ADMIN, Role.LEADER, Role.CSM)
ROLE_LABELS = {
    Role.ADMIN: "Admin",
    Role.LEADER: "CS leader",
    Role.CSM: "CSM",
    Role.VIEWER: "Viewer",
}


def role_of(user: Any) -> Role | None:
    """The strongest role the user holds, cached on the user for the request."""
    if not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, "_lifecycle_role"):
        cached: Role | None = user._lifecycle_role
        return cached
    role = role_from_groups(user, () if user.is_superuser else _group_names(user))
    user._lifecycle_role = role
    return role


def role_from_groups(user: Any, group_names: Collection[str]) -> Role | None:
    """What role_of answers for `user` whose groups are named `group_names`."""
    return Role.ADMIN if user.is_superuser else strongest_role(group_names)


def _group_names(user: Any) -> set[str]:
    """`user.groups.values_list("name", flat=True)` as one plain statement: every page
    asks it, and building the related manager's query cost several times running it."""
    groups = user.__class__.groups  # the many-to-many descriptor (user may be lazy)
    group_table = groups.field.related_model._meta.db_table
    sql = (
        f"SELECT g.name FROM {group_table} g INNER JOIN {groups.through._meta.db_table} m "
        "ON g.id = m.group_id WHERE m.user_id = %s"
    )
    with connections[router.db_for_read(groups.field.related_model)].cursor() as cursor:
        cursor.execute(sql, [user.pk])
        return {name for (name,) in cursor.fetchall()}


def strongest_role(group_names: Collection[str]) -> Role | None:
    """The strongest role among a user's group names (a superuser is an admin)."""
    return next((r for r in ROLE_ORDER if r.value in group_names), None)


def role_read(user: Any, role: Role | None) -> None:
    """`user`'s role, read with other rows (the portfolio reads it with everyone's
    names, accounts.selectors.people): role_of answers it without a query."""
    user._lifecycle_role = role


def is_admin(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def writes(user: Any) -> bool:
    """Admins, leaders and CSMs write (a CSM on their own accounts); viewers never."""
    return role_of(user) in WRITERS


def sees_all_writes(user: Any) -> bool:
    """Leaders and admins act on every account."""
    return role_of(user) in (Role.ADMIN, Role.LEADER)


def reads_metrics(user: Any) -> bool:
    """Leaders, admins and viewers read the portfolio's numbers (the metrics
    dashboard); a CSM's home page shows their own book instead. The nav, the
    home page's link and the dashboard's permission all ask this."""
    return role_of(user) in (Role.ADMIN, Role.LEADER, Role.VIEWER)


class Owned(Protocol):
    """An account as far as who may edit it goes (a model, or a page's row of it)."""

    @property
    def owner_id(self) -> int | None: ...


def can_edit_account(user: Any, account: Account | Owned) -> bool:
    role = role_of(user)
    if role in (Role.ADMIN, Role.LEADER):
        return True
    return role == Role.CSM and account.owner_id == user.pk


def require(allowed: bool, missing: str) -> None:
    """Raise a 403 whose page tells the user what they lack."""
    if not allowed:
        raise PermissionDenied(missing)


def require_account_edit(user: Any, account: Account) -> None:
    require(
        can_edit_account(user, account),
        f"Only the account's owner, a CS leader or an admin can change {account.name}.",
    )


def require_leader(user: Any) -> None:
    require(sees_all_writes(user), "This needs the CS leader or admin role.")


def require_admin(user: Any) -> None:
    require(is_admin(user), "This needs the admin role.")


def admin_required[**P, R](
    view: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Any, P], R]:
    """A page only admins may open (configuration): anyone else gets the 403
    page saying so. Put it under the method decorators, so a wrong method is
    still a 405 whoever asks."""

    @wraps(view)
    def admin_only(request: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        require_admin(request.user)
        return view(request, *args, **kwargs)

    return admin_only
