"""Role checks for the API, the same rules the pages apply (accounts.roles)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ..roles import can_edit_account, role_of, writes


class HasRole(BasePermission):
    """Any role may read; a signed-in user without a role sees nothing."""

    message = "Your user has no role in Lifecycle; ask an admin for one."

    def has_permission(self, request: Request, view: Any) -> bool:
        return role_of(request.user) is not None


class CanWrite(BasePermission):
    """Admins, leaders and CSMs may write (CSMs only on accounts they own,
    checked per object or per row); viewers never."""

    message = "This needs the CSM, CS leader or admin role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return writes(request.user)


class CanEditAccount(BasePermission):
    """On an account, or on an object of one: a view whose objects are not
    accounts (a milestone, a renewal) says how to reach the account with
    `account_of(obj)`."""

    message = "Only the account's owner, a CS leader or an admin can change this account."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        account_of = getattr(view, "account_of", None)
        return can_edit_account(request.user, account_of(obj) if account_of else obj)
