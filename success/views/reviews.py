"""Business review pages: scheduling, the review pack, holding (which freezes
the account's snapshot) and cancelling."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthedRequest, action_post, form_post
from accounts.models import Account
from accounts.roles import can_edit_account, require_account_edit

from .. import services
from ..forms import ActionItemFormSet, ReviewHoldForm, ReviewScheduleForm
from ..models import BusinessReview
from ..selectors import reviews as selectors
from .common import form_page


@require_http_methods(["GET", "POST"])
def review_create(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    require_account_edit(request.user, account)
    form = ReviewScheduleForm(
        request.POST or None,
        account=account,
        initial={"owner": account.owner or request.user, "attendee_users": [request.user]},
    )

    def save() -> BusinessReview:
        data = form.cleaned_data
        return services.review_schedule(
            account=account,
            kind=data["kind"],
            scheduled_for=data["scheduled_for"],
            owner=data["owner"],
            agenda=data["agenda"],
            attendee_users=data["attendee_users"],
            attendee_contacts=data["attendee_contacts"],
            by=request.user,
        )

    if done := form_post(
        request,
        form,
        save,
        success=lambda review: f"{review.get_kind_display()} scheduled.",
        then=lambda review: review,
    ):
        return done
    return form_page(
        request, form=form, account=account, title="Schedule a business review", submit="Schedule"
    )


@require_GET
def review(request: AuthedRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(BusinessReview, pk=pk)
    pack = selectors.review_pack(review=instance)
    return render(
        request,
        "success/review.html",
        {
            "pack": pack,
            "review": pack.review,
            "account": pack.review.account,
            "can_edit": can_edit_account(request.user, pack.review.account),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def review_hold(request: AuthedRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(BusinessReview.objects.select_related("account"), pk=pk)
    account = review.account
    require_account_edit(request.user, account)
    if review.status != BusinessReview.Status.SCHEDULED:
        messages.info(request, f"This review is already {review.get_status_display().lower()}.")
        return redirect(review)
    form = ReviewHoldForm(request.POST or None, initial={"held_on": review.scheduled_for})
    items = ActionItemFormSet(
        request.POST or None, prefix="items", form_kwargs={"account": account}
    )
    if done := form_post(
        request,
        form,
        lambda: services.review_hold(
            review=review,
            by=request.user,
            action_items=[i for i in (f.item() for f in items) if i],
            **form.cleaned_data,
        ),
        success="Review recorded; the snapshot is frozen.",
        then=review,
        also_valid=[items],
    ):
        return done
    return render(
        request,
        "success/review_hold.html",
        {"form": form, "items": items, "review": review, "account": account},
    )


@require_POST
def review_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(BusinessReview.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, review.account)
    return action_post(
        request,
        lambda: services.review_cancel(review=review, by=request.user),
        success="Review cancelled.",
        then=review.account,
    )
