"""Reads that gather plans, reviews and renewals for one page: the success
section of the account page (a person's My work list is `work`)."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Account

from ..models import BusinessReview, Renewal, SuccessPlan, SuccessTask
from .plans import open_tasks
from .renewals import open_renewal
from .reviews import reviews_for


@dataclass
class AccountSuccess:
    """What the account page shows of plans, reviews and the renewal."""

    plan: SuccessPlan | None
    upcoming_reviews: list[BusinessReview]
    past_reviews: list[BusinessReview]
    renewal: Renewal | None
    open_tasks: list[SuccessTask]


def account_success(*, account: Account) -> AccountSuccess:
    reviews = list(reviews_for(account=account).exclude(status=BusinessReview.Status.CANCELLED))
    return AccountSuccess(
        plan=SuccessPlan.objects.filter(account=account, replaced_at__isnull=True)
        .prefetch_related("objectives")
        .first(),
        upcoming_reviews=sorted(
            (r for r in reviews if r.status == BusinessReview.Status.SCHEDULED),
            key=lambda r: r.scheduled_for,
        ),
        past_reviews=[r for r in reviews if r.status == BusinessReview.Status.HELD][:5],
        renewal=open_renewal(account=account),
        open_tasks=list(open_tasks().filter(account=account)[:10]),
    )
