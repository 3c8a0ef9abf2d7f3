"""A sandbox seed built from Lifecycle's own data, so `make run` shows a portal
that mirrors the demo portfolio: every account is a company (same name and
domain, owned by the same CSM's HubSpot owner), and every local deal pipeline is a
HubSpot pipeline. The first import links the companies to the accounts by domain and
the pipelines by label instead of creating new ones. Contacts and
deals are left out: the demo already has them locally, and the import has no
key to recognise them by, so seeding them would duplicate them."""

from __future__ import annotations

from typing import Any

from accounts.models import Account, Pipeline, User


def _pipelines() -> list[dict[str, Any]]:
    """Lifecycle's own pipelines (its renewals pipeline) as the portal's, so deals
    Lifecycle makes in them can be pushed; the import links them back by label."""
    return [
        {
            "id": str(900 + p.pk),
            "label": p.label,
            "displayOrder": p.display_order,
            "stages": [
                {
                    "id": f"{900 + p.pk}-{s.pk}",
                    "label": s.label,
                    "isClosed": s.is_closed,
                    "probability": "1.0" if s.is_won else str(s.probability),
                }
                for s in p.stages.order_by("display_order", "pk")
            ],
        }
        for p in Pipeline.objects.filter(hubspot_id__isnull=True).prefetch_related("stages")
    ]


def seed_from_accounts(*, limit: int | None = None) -> dict[str, Any]:
    accounts = list(
        Account.objects.filter(status=Account.Status.ACTIVE)
        .exclude(domain="")
        .select_related("owner")
        .order_by("pk")[:limit]
    )
    owner_ids = {a.owner_id for a in accounts if a.owner_id}
    owners = [
        {
            "id": str(7000 + u.pk),
            "email": u.email,
            "firstName": u.first_name,
            "lastName": u.last_name,
        }
        for u in User.objects.filter(pk__in=owner_ids).exclude(email="")
    ]
    owner_of = {int(o["id"]) - 7000: o["id"] for o in owners}
    data: dict[str, Any] = {"owners": owners, "companies": [], "pipelines": _pipelines()}
    for a in accounts:
        data["companies"].append(
            {
                "key": f"a{a.pk}",
                "properties": {
                    "name": a.name,
                    "domain": a.domain,
                    "hubspot_owner_id": owner_of.get(a.owner_id or 0, ""),
                    "annualrevenue": str(a.arr),
                },
            }
        )
    return data
