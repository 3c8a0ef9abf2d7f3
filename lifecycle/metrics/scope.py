"""Who the figures are about: the owner and segment filters, as a Q on any
model that reaches an account through `prefix`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    owner_id: int | None = None
    segment: str = ""

    def q(self, prefix: str = "") -> Q:
        """Filter for rows whose account (at `prefix`, e.g. "account__") is in scope.
        Archived accounts (deleted or merged away in HubSpot) never are: a merged
        account's figures belong to the survivor, which holds its records now."""
        q = ~Q(**{f"{prefix}status": "archived"})
        if self.owner_id is not None:
            q &= Q(**{f"{prefix}owner_id": self.owner_id})
        if self.segment:
            q &= Q(**{f"{prefix}segment": self.segment})
        return q

    @property
    def is_filtered(self) -> bool:
        return self.owner_id is not None or bool(self.segment)
