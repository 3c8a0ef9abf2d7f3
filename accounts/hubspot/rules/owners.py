"""Who a HubSpot owner is in Lifecycle, for the owner field's rule: owner ids to users
and back, read once per pass (from the run's own owner list when it has one).

The owner field compares HubSpot owner ids on both sides. An owner Lifecycle cannot
name (unknown, or not mapped to a user) reads as no owner: the account is left without
one, the owner is reported as a sync issue of its own (inbound/owner_issues.py), and
once an admin maps it the owner applies like any other change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from accounts.hubspot.rules.mapping import OwnerRef
from accounts.models import OwnerLink


@dataclass
class OwnerDirectory:
    """HubSpot owner ids and Lifecycle users, both ways. Loaded on first use."""

    refs: Mapping[str, OwnerRef] | None = None
    _user_of: dict[str, int] = field(default_factory=dict)
    _owner_of: dict[int, str] = field(default_factory=dict)
    _loaded: bool = False

    def _load(self) -> None:
        if self._loaded:
            return
        refs = self.refs
        if refs is None:
            refs = {
                link.hubspot_owner_id: OwnerRef(email=link.email, user_pk=link.user_id)
                for link in OwnerLink.objects.order_by("pk")
            }
        for owner_id, ref in refs.items():
            if ref.user_pk is not None:
                self._user_of[owner_id] = ref.user_pk
                self._owner_of.setdefault(ref.user_pk, owner_id)
        self._loaded = True

    def user_of(self, owner_id: str) -> int | None:
        """The user behind a HubSpot owner id (None: no owner, or one we cannot name)."""
        self._load()
        return self._user_of.get(owner_id)

    def owner_of(self, user_pk: int | None) -> str:
        """The HubSpot owner id of a user ("" for none, or a user HubSpot does not know)."""
        if user_pk is None:
            return ""
        self._load()
        return self._owner_of.get(user_pk, "")
