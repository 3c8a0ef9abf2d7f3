"""Reads for business reviews: the review pack (the account then and now,
compared with the review before) and the API's review list."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Account, User

from ..models import BusinessReview, ObjectiveStatus, Renewal, SuccessTask
from ..models.plans import objective_progress
from ..services.reviews import review_snapshot
from .plans import open_tasks
from .renewals import open_renewal


def reviews_for(*, account: Account) -> QuerySet[BusinessReview]:
    return BusinessReview.objects.filter(account=account).select_related("owner")


@dataclass
class ObjectiveMovement:
    title: str
    metric: str
    baseline: Decimal
    target: Decimal
    value: Decimal
    status: str
    progress: int
    previous_value: Decimal | None
    previous_progress: int | None

    @property
    def change(self) -> Decimal | None:
        return None if self.previous_value is None else self.value - self.previous_value

    @property
    def progress_change(self) -> int | None:
        return None if self.previous_progress is None else self.progress - self.previous_progress

    @property
    def status_label(self) -> str:
        return ObjectiveStatus(self.status).label if self.status else ""


@dataclass
class ReviewPack:
    review: BusinessReview
    snapshot: dict[str, Any]
    is_live: bool
    previous: BusinessReview | None
    objectives: list[ObjectiveMovement]
    action_items: list[SuccessTask]
    open_tasks: list[SuccessTask]
    renewal: Renewal | None
    attendee_users: list[User] = field(default_factory=list)
    attendee_contacts: list[Any] = field(default_factory=list)

    @property
    def arr_change(self) -> Decimal | None:
        if not self.previous or "arr" not in self.previous.snapshot:
            return None
        return Decimal(self.snapshot["arr"]) - Decimal(self.previous.snapshot["arr"])

    @property
    def health_change(self) -> int | None:
        before = self.previous.snapshot.get("health_score") if self.previous else None
        now = self.snapshot.get("health_score")
        return None if before is None or now is None else now - before


def review_pack(*, review: BusinessReview) -> ReviewPack:
    """A held review shows its frozen snapshot; a scheduled one shows the
    account as it is now. Both compare with the last review held before it."""
    review = (
        BusinessReview.objects.select_related("account__owner", "owner")
        .prefetch_related("attendee_users", "attendee_contacts")
        .get(pk=review.pk)
    )
    account = review.account
    is_live = not review.is_held
    snapshot = review_snapshot(account=account) if is_live else review.snapshot
    earlier = BusinessReview.objects.filter(account=account, status=BusinessReview.Status.HELD)
    if review.is_held and review.held_on:
        earlier = earlier.filter(
            Q(held_on__lt=review.held_on) | Q(held_on=review.held_on, pk__lt=review.pk)
        )
    previous = earlier.exclude(pk=review.pk).order_by("-held_on", "-pk").first()
    before = {o["id"]: o for o in (previous.snapshot.get("objectives", []) if previous else [])}
    movements = []
    for o in snapshot.get("objectives", []):
        prior = before.get(o["id"])
        baseline, target, value = (
            Decimal(o["baseline"]),
            Decimal(o["target"]),
            Decimal(o["current_value"]),
        )
        movements.append(
            ObjectiveMovement(
                title=o["title"],
                metric=o["metric"],
                baseline=baseline,
                target=target,
                value=value,
                status=o["status"],
                progress=objective_progress(baseline, target, value),
                previous_value=Decimal(prior["current_value"]) if prior else None,
                previous_progress=prior["progress"] if prior else None,
            )
        )
    return ReviewPack(
        review=review,
        snapshot=snapshot,
        is_live=is_live,
        previous=previous,
        objectives=movements,
        action_items=list(review.action_items.select_related("assignee_user", "assignee_contact")),
        open_tasks=list(open_tasks().filter(account=account)),
        renewal=open_renewal(account=account),
        attendee_users=list(review.attendee_users.all()),
        attendee_contacts=list(review.attendee_contacts.all()),
    )


def reviews_list() -> QuerySet[BusinessReview]:
    return BusinessReview.objects.select_related("account__owner", "owner").prefetch_related(
        "attendee_users", "attendee_contacts"
    )
