"""The authentication backend: Django's ModelBackend, whose per-request read of the
signed-in user also reads their role.

Every page's frame asks the user's role (accounts.roles.role_of: the nav, the
permission checks), which was a statement of its own on every request: one more wait
for the database (0.2-0.4 ms on a host of this kind, docs/performance.md, "The
signed-in user and their role in one statement"). Here the user's row comes with their
groups' names, one row per group, and the role is set on the user as role_of would
have found it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from .roles import role_from_groups, role_read

_GROUP = "lifecycle_group"


class RoleReadingBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        through = model.groups.through._meta.db_table  # the user-group table
        group_table = Group._meta.db_table
        rows = list(
            model._default_manager.raw(
                f"SELECT u.*, g.name AS {_GROUP} FROM {model._meta.db_table} u "
                f"LEFT JOIN {through} m ON m.user_id = u.id "
                f"LEFT JOIN {group_table} g ON g.id = m.group_id WHERE u.id = %s",
                [pk],
            )
        )
        if not rows:
            return None
        # raw() sets each extra column as an attribute
        names = {getattr(row, _GROUP) for row in rows if getattr(row, _GROUP) is not None}
        user = rows[0]
        delattr(user, _GROUP)
        if not self.user_can_authenticate(user):
            return None
        role_read(user, role_from_groups(user, names))
        return user
