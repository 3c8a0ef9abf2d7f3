"""Writes to business reviews: scheduling, holding (with a frozen snapshot of
the account) and the account's next-review date that HubSpot sees."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.formats import date_display
from accounts.models import Account, Contact, Event, User
from accounts.services import account_cs_fields_update, event_record
from accounts.support.selectors import support_snapshot

from ..models import BusinessReview, SuccessPlan
from .plans import task_create


@dataclass(frozen=True)
class ActionItem:
    title: str
    assignee_user: User | None = None
    assignee_contact: Contact | None = None
    due_date: date | None = None


def review_snapshot(*, account: Account) -> dict[str, Any]:
    """What the account looks like right now, in JSON-safe form."""
    plan = (
        SuccessPlan.objects.filter(account=account, replaced_at__isnull=True)
        .prefetch_related("objectives")
        .first()
    )
    objectives = [
        {
            "id": o.pk,
            "title": o.title,
            "metric": o.metric,
            "baseline": str(o.baseline),
            "target": str(o.target),
            "current_value": str(o.current_value),
            "status": o.status,
            "progress": o.progress,
        }
        for o in (plan.objectives.all() if plan else [])
    ]
    return {
        "taken_at": timezone.now().isoformat(),
        "health_score": account.health_score,
        "health_band": account.health_band,
        "arr": str(account.arr),
        "currency": account.currency,
        "onboarding_status": account.onboarding_status,
        "onboarding_progress": account.onboarding_progress,
        "renewal_date": account.renewal_date.isoformat() if account.renewal_date else None,
        "renewal_forecast_category": account.renewal_forecast_category,
        "objectives": objectives,
        # Tickets, NPS, CSAT and last touch as support saw them (accounts.support).
        "support": support_snapshot(account_id=account.pk),
    }


def _next_review_sync(*, account: Account) -> None:
    """The earliest scheduled review goes onto the account for HubSpot."""
    upcoming = (
        BusinessReview.objects.filter(account=account, status=BusinessReview.Status.SCHEDULED)
        .order_by("scheduled_for")
        .values_list("scheduled_for", flat=True)
        .first()
    )
    account_cs_fields_update(account=account, next_business_review=upcoming)


@transaction.atomic
def review_schedule(
    *,
    account: Account,
    kind: str,
    scheduled_for: date,
    by: User | None,
    owner: User | None = None,
    agenda: str = "",
    attendee_users: Iterable[User] = (),
    attendee_contacts: Iterable[Contact] = (),
) -> BusinessReview:
    """Put a review in the calendar; the account's next business review follows."""
    contacts = list(attendee_contacts)
    if any(c.account_id != account.pk for c in contacts):
        raise ValidationError({"attendee_contacts": "Contacts must belong to this account."})
    review = BusinessReview(
        account=account,
        kind=kind,
        scheduled_for=scheduled_for,
        owner=owner or account.owner or by,
        agenda=agenda.strip(),
        created_by=by,
    )
    review.full_clean()
    review.save()
    review.attendee_users.set(list(attendee_users))
    review.attendee_contacts.set(contacts)
    _next_review_sync(account=account)
    event_record(
        account=account,
        kind=Event.Kind.REVIEW,
        summary=f"Scheduled a {review.get_kind_display()} for {date_display(scheduled_for)}",
        actor=by,
        link=review.get_absolute_url(),
    )
    return review


@transaction.atomic
def review_hold(
    *,
    review: BusinessReview,
    held_on: date,
    sentiment: str,
    by: User | None,
    notes: str = "",
    outcomes: str = "",
    action_items: Sequence[ActionItem] = (),
) -> BusinessReview:
    """Record that a review took place: freeze the account's snapshot, keep
    notes, outcomes and sentiment, and turn action items into tasks."""
    review = BusinessReview.objects.select_for_update().select_related("account").get(pk=review.pk)
    if review.status != BusinessReview.Status.SCHEDULED:
        raise ValidationError(f"This review is already {review.get_status_display().lower()}.")
    if not sentiment:
        raise ValidationError({"sentiment": "How did the customer feel?"})
    account = review.account
    review.status = BusinessReview.Status.HELD
    review.held_on = held_on
    review.sentiment = sentiment
    review.notes = notes.strip()
    review.outcomes = outcomes.strip()
    review.snapshot = review_snapshot(account=account)
    review.full_clean()
    review.save()
    for item in action_items:
        task_create(
            account=account,
            review=review,
            title=item.title,
            assignee_user=item.assignee_user,
            assignee_contact=item.assignee_contact,
            due_date=item.due_date,
            by=by,
        )
    _next_review_sync(account=account)
    event_record(
        account=account,
        kind=Event.Kind.REVIEW,
        summary=f"Held a {review.get_kind_display()} ({review.get_sentiment_display().lower()})"
        + (f" with {len(action_items)} action item(s)" if action_items else ""),
        actor=by,
        link=review.get_absolute_url(),
    )
    return review


@transaction.atomic
def review_cancel(*, review: BusinessReview, by: User | None) -> BusinessReview:
    """Take a scheduled review out of the calendar."""
    if review.status != BusinessReview.Status.SCHEDULED:
        raise ValidationError("Only a scheduled review can be cancelled.")
    review.status = BusinessReview.Status.CANCELLED
    review.save(update_fields=["status", "updated_at"])
    _next_review_sync(account=review.account)
    event_record(
        account=review.account,
        kind=Event.Kind.REVIEW,
        summary=f"Cancelled the {review.get_kind_display()} "
        f"of {date_display(review.scheduled_for)}",
        actor=by,
        link=review.get_absolute_url(),
    )
    return review
