"""HubSpot owners Lifecycle could not name, once an admin maps them: the companies each
one owns are read again from HubSpot and written, so the owner applies by the owner
field's rule like any other change (page_context.owner_issues_save opens the issues)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.hubspot.inbound.objects import properties_for
from accounts.hubspot.inbound.page_context import OWNER_ISSUES, PageResult, SyncContext
from accounts.hubspot.inbound.writers import companies_page_write
from accounts.hubspot.models import SyncIssue, SyncSource
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import OwnerLink, User

BATCH = 100


def owner_map(*, hubspot_owner_id: str, user: User, client: HubSpotClient) -> PageResult:
    """An admin says who a HubSpot owner is (from the status page's unmatched owners or
    from an owner issue): the owner link is saved (made when HubSpot's owner list never
    had it) and the companies of any open issue for that owner get it at once."""
    with transaction.atomic():
        OwnerLink.objects.update_or_create(
            hubspot_owner_id=hubspot_owner_id, defaults={"user": user}
        )
    total = PageResult()
    open_issues = SyncIssue.objects.filter(
        object_type=OWNER_ISSUES, resolved_at__isnull=True, hubspot_id=hubspot_owner_id
    ).order_by("pk")
    ctx: SyncContext | None = None
    for issue in open_issues:
        ctx = ctx or SyncContext(source=SyncSource.MATCH).load()
        total.add(owner_issue_apply(issue=issue, client=client, ctx=ctx))
    return total


def owner_issue_apply(*, issue: SyncIssue, client: HubSpotClient, ctx: SyncContext) -> PageResult:
    """Read the issue's companies as HubSpot has them now and write them; the issue is
    resolved, or opened again by the write if the owner still cannot be named."""
    total = PageResult()
    companies = [str(h) for h in (issue.payload or {}).get("companies", [])]
    SyncIssue.objects.filter(pk=issue.pk).update(resolved_at=timezone.now())
    for start in range(0, len(companies), BATCH):
        found = client.batch_read(
            "companies",
            companies[start : start + BATCH],
            properties=properties_for("companies", ctx.config),
        )
        if found.results:
            total.add(companies_page_write(found.results, ctx))
    return total


def owner_issues_reapply(*, client: HubSpotClient, ctx: SyncContext) -> PageResult:
    """Open owner issues whose owner now maps to a user (mapped on the status page, or by
    email when owners were read again): applied."""
    total = PageResult()
    mapped = OwnerLink.objects.filter(user__isnull=False).values("hubspot_owner_id")
    for issue in SyncIssue.objects.filter(
        object_type=OWNER_ISSUES, resolved_at__isnull=True, hubspot_id__in=mapped
    ).order_by("pk"):
        total.add(owner_issue_apply(issue=issue, client=client, ctx=ctx))
    return total
