"""Reads for the HubSpot pages, each a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.hubspot.models import (
    SyncChange,
    SyncConflict,
    SyncCursor,
    SyncIssue,
    SyncRun,
    WebhookEvent,
)
from accounts.hubspot.transport.budget import TIER_LIMITS, usage_on
from accounts.models import Account, Contact, Deal, OwnerLink, Pipeline, PipelineStage


def connection_status() -> dict[str, Any]:
    """What is configured and what the last run and the last webhook said."""
    last_ok = SyncRun.objects.filter(status=SyncRun.Status.DONE).order_by("-finished_at").first()
    last_failed = (
        SyncRun.objects.filter(status=SyncRun.Status.FAILED).order_by("-finished_at").first()
    )
    webhook = WebhookEvent.objects.order_by("-received_at").first()
    tier = settings.HUBSPOT_TIER
    per_ten, per_day = TIER_LIMITS.get(tier, (0, 0))
    usage = usage_on(timezone.now())
    healthy = bool(settings.HUBSPOT_ACCESS_TOKEN) and (
        last_failed is None
        or (last_ok is not None and (last_ok.finished_at or 0) > (last_failed.finished_at or 0))  # type: ignore[operator]
    )
    return {
        "token_set": bool(settings.HUBSPOT_ACCESS_TOKEN),
        "secret_set": bool(settings.HUBSPOT_CLIENT_SECRET),
        "base_url": settings.HUBSPOT_BASE_URL,
        "tier": tier,
        "per_ten_seconds": per_ten,
        "per_day": per_day,
        "usage": usage,
        "usage_percent": round(100 * usage["calls"] / per_day, 1) if per_day else 0,
        "portal_id": webhook.portal_id if webhook else "",
        "last_webhook_at": webhook.received_at if webhook else None,
        "last_ok": last_ok,
        "last_failed": last_failed,
        "healthy": healthy,
    }


def synced_counts() -> dict[str, int]:
    accounts = Account.objects.aggregate(
        linked=Count("pk", filter=Q(hubspot_id__isnull=False)),
        archived=Count("pk", filter=Q(hubspot_id__isnull=False, status=Account.Status.ARCHIVED)),
    )
    owners = OwnerLink.objects.aggregate(
        total=Count("pk"), unmatched=Count("pk", filter=Q(user__isnull=True))
    )
    return {
        "accounts": accounts["linked"],
        "archived_accounts": accounts["archived"],
        "deals": Deal.objects.filter(hubspot_id__isnull=False, archived_at__isnull=True).count(),
        "contacts": Contact.objects.filter(
            hubspot_id__isnull=False, archived_at__isnull=True
        ).count(),
        "pipelines": Pipeline.objects.filter(hubspot_id__isnull=False).count(),
        "stages": PipelineStage.objects.filter(hubspot_id__isnull=False).count(),
        "owners": owners["total"],
        "unmatched_owners": owners["unmatched"],
        "open_issues": SyncIssue.objects.filter(resolved_at__isnull=True).count(),
        "pending_events": WebhookEvent.objects.filter(processed_at__isnull=True).count(),
    }


def recent_runs(limit: int = 10) -> list[SyncRun]:
    return list(SyncRun.objects.order_by("-created_at", "-id")[:limit])


def cursors() -> QuerySet[SyncCursor]:
    return SyncCursor.objects.order_by("object_type")


def unmatched_owners() -> QuerySet[OwnerLink]:
    return OwnerLink.objects.filter(user__isnull=True).order_by("email")


def open_issues() -> QuerySet[SyncIssue]:
    return SyncIssue.objects.filter(resolved_at__isnull=True).order_by(
        "object_type", "-last_seen_at"
    )


def journal(*, account: Account | None = None) -> QuerySet[SyncChange]:
    changes = SyncChange.objects.select_related("account", "run").order_by("-at", "-id")
    if account is not None:
        changes = changes.filter(account=account)
    return changes


def two_way_summary() -> dict[str, Any]:
    """For the status page: who owns what, what waits to be pushed, open conflicts."""
    from django.db.models import Max

    from accounts.hubspot.models import SyncConflict, SyncState
    from accounts.hubspot.outbound.breaker import breaker_status
    from accounts.hubspot.outbound.push import dirty_accounts
    from accounts.hubspot.rules.field_rules import rules_load

    rules = rules_load()
    return {
        "enabled": settings.HUBSPOT_PUSH_ENABLED,
        "breaker": breaker_status(),
        "pushed_fields": [r for r in rules if r.pushes],
        "two_way_fields": [r for r in rules if r.owner == "two_way"],
        "waiting": dirty_accounts().count(),
        "open_conflicts": SyncConflict.objects.filter(status=SyncConflict.Status.OPEN).count(),
        "last_push": SyncState.objects.aggregate(last=Max("pushed_at"))["last"],
    }


def open_conflicts_count(*, account_id: int | None = None, owner_id: int | None = None) -> int:
    """OPEN_CONFLICTS_HOOKS entry: open sync conflicts of one account or of one owner's
    accounts (one query), for the account page and My work."""
    conflicts = SyncConflict.objects.filter(status=SyncConflict.Status.OPEN)
    if account_id is not None:
        conflicts = conflicts.filter(account_id=account_id)
    if owner_id is not None:
        conflicts = conflicts.filter(account__owner_id=owner_id)
    return conflicts.count()


def health_report() -> dict[str, Any]:
    """HEALTH_REPORT_HOOKS entry: the push's circuit breaker, for /healthz. Reported, not
    failed on: HubSpot being down is no reason to take Lifecycle out of rotation."""
    from accounts.hubspot.outbound.breaker import breaker_status

    status = breaker_status()
    return {
        "hubspot": {
            "push": status["state"],
            "failures": status["failures"],
            "retry_at": status["retry_at"].isoformat() if status["retry_at"] else None,
            "last_error": status["last_error"],
        }
    }
