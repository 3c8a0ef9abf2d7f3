"""Success pages: plans, business reviews, renewals, My work and the renewal
pipeline. Every form posts to a real URL and works without JavaScript; with
htmx the plan's objectives and the pipeline's results swap in place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.csv_stream import csv_download
from accounts.formats import date_display, money_display
from accounts.http import AuthedRequest, form_errors_apply, is_htmx, redirect_next
from accounts.models import Account, ForecastCategory
from accounts.roles import Role, can_edit_account, require_account_edit, role_of

from . import selectors, services
from .forms import (
    OWNER_ALL,
    OWNER_ME,
    ActionItemFormSet,
    ForecastForm,
    ObjectiveForm,
    ObjectiveStatusForm,
    ObjectiveValueForm,
    PlanForm,
    RenewalCloseForm,
    RenewalFilter,
    ReviewHoldForm,
    ReviewScheduleForm,
    TaskForm,
)
from .models import BusinessReview, Objective, Renewal, SuccessPlan, SuccessTask


def _form_page(
    request: AuthedRequest,
    *,
    form: forms.BaseForm,
    account: Account,
    title: str,
    submit: str,
    intro: str = "",
    back: str = "",
) -> HttpResponse:
    return render(
        request,
        "success/form_page.html",
        {
            "form": form,
            "account": account,
            "title": title,
            "submit": submit,
            "intro": intro,
            "back": back or account.get_absolute_url(),
        },
    )


# ---- Plans ----


@require_GET
def plan(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    context = {
        "account": account,
        "plan": selectors.current_plan(account=account),
        "history": selectors.plan_history(account=account),
        "can_edit": can_edit_account(request.user, account),
        "today": timezone.localdate(),
        "share_url": "",
    }
    current = context["plan"]
    # The link opens the plan to anyone holding it: only those who may revoke it see it.
    if isinstance(current, SuccessPlan) and current.share_token and context["can_edit"]:
        context["share_url"] = request.build_absolute_uri(
            reverse("success:shared_plan", args=[current.share_token])
        )
    template = "success/plan.html"
    if is_htmx(request):
        template += "#objectives"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def plan_create(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    current = selectors.current_plan(account=account)
    form = PlanForm(
        request.POST or None,
        initial={"desired_outcomes": current.desired_outcomes} if current else None,
    )
    if request.method == "POST" and form.is_valid():
        services.plan_create(account=account, by=request.user, **form.cleaned_data)
        messages.success(request, "Success plan started." if not current else "Plan replaced.")
        return redirect("success:plan", pk=account.pk)
    return _form_page(
        request,
        form=form,
        account=account,
        title="Replace the success plan" if current else "Start a success plan",
        submit="Replace plan" if current else "Start plan",
        intro="The current plan and its objectives are kept in the plan history."
        if current
        else "",
    )


@require_http_methods(["GET", "POST"])
def plan_edit(request: AuthedRequest, plan_pk: int) -> HttpResponse:
    plan = get_object_or_404(SuccessPlan.objects.select_related("account"), pk=plan_pk)
    require_account_edit(request.user, plan.account)
    form = PlanForm(
        request.POST or None,
        initial={"desired_outcomes": plan.desired_outcomes, "internal_notes": plan.internal_notes},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(plan=plan, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("success:plan", pk=plan.account_id)
    return _form_page(
        request, form=form, account=plan.account, title="Edit desired outcomes", submit="Save"
    )


@require_POST
def plan_share(request: AuthedRequest, plan_pk: int) -> HttpResponse:
    plan = get_object_or_404(SuccessPlan.objects.select_related("account"), pk=plan_pk)
    require_account_edit(request.user, plan.account)
    if request.POST.get("action") == "revoke":
        services.plan_share_revoke(plan=plan, by=request.user)
        messages.success(request, "The customer's link no longer works.")
    else:
        try:
            services.plan_share(plan=plan, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, "New customer link created; any earlier link stopped working."
            )
    return redirect("success:plan", pk=plan.account_id)


@login_not_required
@require_GET
def shared_plan(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's read-only view: no login, no internal notes, no history."""
    plan = selectors.shared_plan(token=token)
    if plan is None:
        raise Http404("This link is no longer valid.")
    response = render(request, "success/shared_plan.html", {"plan": plan, "account": plan.account})
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def objective_create(request: AuthedRequest, plan_pk: int) -> HttpResponse:
    plan = get_object_or_404(SuccessPlan.objects.select_related("account"), pk=plan_pk)
    require_account_edit(request.user, plan.account)
    form = ObjectiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_create(plan=plan, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, "Objective added.")
            return redirect("success:plan", pk=plan.account_id)
    return _form_page(
        request, form=form, account=plan.account, title="Add an objective", submit="Add"
    )


def _objective(request: AuthedRequest, pk: int) -> Objective:
    objective = get_object_or_404(
        Objective.objects.select_related("plan__account"), pk=pk, plan__replaced_at__isnull=True
    )
    require_account_edit(request.user, objective.plan.account)
    return objective


@require_http_methods(["GET", "POST"])
def objective_value(request: AuthedRequest, pk: int) -> HttpResponse:
    objective = _objective(request, pk)
    form = ObjectiveValueForm(request.POST or None, initial={"value": objective.current_value})
    if request.method == "POST" and form.is_valid():
        services.objective_value_record(
            objective=objective,
            value=form.cleaned_data["value"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
        messages.success(request, f"{objective.title}: value recorded.")
        return redirect("success:plan", pk=objective.plan.account_id)
    return _form_page(
        request,
        form=form,
        account=objective.plan.account,
        title=f"Update {objective.title}",
        intro=f"{objective.metric}: baseline {objective.baseline:g}, target {objective.target:g}.",
        submit="Record value",
    )


@require_http_methods(["GET", "POST"])
def objective_status(request: AuthedRequest, pk: int) -> HttpResponse:
    objective = _objective(request, pk)
    form = ObjectiveStatusForm(request.POST or None, initial={"status": objective.status})
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_status_set(objective=objective, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, f"{objective.title} is now {objective.get_status_display()}.")
            return redirect("success:plan", pk=objective.plan.account_id)
    return _form_page(
        request,
        form=form,
        account=objective.plan.account,
        title=f"Set the status of {objective.title}",
        submit="Set status",
    )


@require_http_methods(["GET", "POST"])
def task_create(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    form = TaskForm(
        request.POST or None, account=account, initial={"objective": request.GET.get("objective")}
    )
    if request.method == "POST" and form.is_valid():
        user, contact = form.assignees()
        try:
            services.task_create(
                account=account,
                title=form.cleaned_data["title"],
                objective=form.cleaned_data["objective"],
                assignee_user=user,
                assignee_contact=contact,
                due_date=form.cleaned_data["due_date"],
                by=request.user,
            )
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, "Task added.")
            return redirect("success:plan", pk=account.pk)
    return _form_page(request, form=form, account=account, title="Add a task", submit="Add task")


@require_POST
def task_done(request: AuthedRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(SuccessTask.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, task.account)
    services.task_set_done(task=task, done=request.POST.get("done") != "0", by=request.user)
    return redirect_next(request, "success:my_work")


# ---- Reviews ----


@require_http_methods(["GET", "POST"])
def review_create(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    require_account_edit(request.user, account)
    form = ReviewScheduleForm(
        request.POST or None,
        account=account,
        initial={"owner": account.owner or request.user, "attendee_users": [request.user]},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review = services.review_schedule(
                account=account,
                kind=data["kind"],
                scheduled_for=data["scheduled_for"],
                owner=data["owner"],
                agenda=data["agenda"],
                attendee_users=data["attendee_users"],
                attendee_contacts=data["attendee_contacts"],
                by=request.user,
            )
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, f"{review.get_kind_display()} scheduled.")
            return redirect(review)
    return _form_page(
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
    if request.method == "POST" and form.is_valid() and items.is_valid():
        try:
            services.review_hold(
                review=review,
                by=request.user,
                action_items=[i for i in (f.item() for f in items) if i],
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, "Review recorded; the snapshot is frozen.")
            return redirect(review)
    return render(
        request,
        "success/review_hold.html",
        {"form": form, "items": items, "review": review, "account": account},
    )


@require_POST
def review_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(BusinessReview.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, review.account)
    try:
        services.review_cancel(review=review, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Review cancelled.")
    return redirect(review.account)


# ---- Renewals ----


@require_GET
def renewal(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        instance = selectors.renewal_detail(pk=pk)
    except Renewal.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "success/renewal.html",
        {
            "renewal": instance,
            "account": instance.account,
            "history": selectors.renewal_history(renewal=instance),
            "movements": instance.arr_movements.all(),
            "can_edit": can_edit_account(request.user, instance.account),
        },
    )


@require_http_methods(["GET", "POST"])
def renewal_forecast(request: AuthedRequest, pk: int) -> HttpResponse:
    renewal = get_object_or_404(Renewal.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, renewal.account)
    if not renewal.is_open:
        messages.info(request, "This renewal is closed.")
        return redirect(renewal)
    form = ForecastForm(
        request.POST or None,
        initial={
            "category": renewal.forecast_category or ForecastCategory.LIKELY,
            "forecast_arr": renewal.forecast_arr,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.renewal_forecast_change(
                renewal=renewal, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, f"Forecast is now {changed.get_forecast_category_display()}.")
            return redirect(renewal)
    return _form_page(
        request,
        form=form,
        account=renewal.account,
        title=f"Forecast the renewal of {date_display(renewal.renewal_date)}",
        intro=f"{money_display(renewal.current_arr, renewal.account.currency)} up for renewal.",
        submit="Save forecast",
        back=renewal.get_absolute_url(),
    )


@require_POST
def renewal_deal_recreate(request: AuthedRequest, pk: int) -> HttpResponse:
    """A person asks for the renewal's deal, deleted in HubSpot, to be made there again."""
    renewal = get_object_or_404(Renewal.objects.select_related("account", "deal"), pk=pk)
    require_account_edit(request.user, renewal.account)
    if renewal.deal is None:
        raise Http404
    try:
        account_services.deal_recreate(deal=renewal.deal, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The renewal deal will be made again in HubSpot.")
    return redirect(renewal)


@require_http_methods(["GET", "POST"])
def renewal_close(request: AuthedRequest, pk: int) -> HttpResponse:
    renewal = get_object_or_404(Renewal.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, renewal.account)
    if not renewal.is_open:
        messages.info(request, "This renewal is closed.")
        return redirect(renewal)
    form = RenewalCloseForm(
        request.POST or None,
        initial={"new_arr": renewal.forecast_arr, "closed_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["outcome"] == "renewed":
                services.renewal_renew(
                    renewal=renewal, new_arr=data["new_arr"], on=data["closed_on"], by=request.user
                )
                messages.success(request, "Renewed; the contract rolled forward.")
            else:
                services.renewal_churn(
                    renewal=renewal,
                    reason=data["churn_reason"],
                    note=data["note"],
                    on=data["closed_on"],
                    by=request.user,
                )
                messages.warning(request, f"{renewal.account.name} churned.")
        except ValidationError as exc:
            form_errors_apply(form, exc)
        else:
            return redirect(renewal)
    return _form_page(
        request,
        form=form,
        account=renewal.account,
        title=f"Close the renewal of {date_display(renewal.renewal_date)}",
        intro=f"Current ARR {money_display(renewal.account.arr, renewal.account.currency)}.",
        submit="Close renewal",
        back=renewal.get_absolute_url(),
    )


def _renewal_filter(request: AuthedRequest) -> RenewalFilter:
    params: QueryDict = request.GET.copy()
    if not params.get("owner"):
        params["owner"] = OWNER_ME if role_of(request.user) == Role.CSM else OWNER_ALL
    return RenewalFilter(params, queryset=selectors.renewals_pipeline(), user=request.user)


@require_GET
def renewals(request: AuthedRequest) -> HttpResponse:
    filterset = _renewal_filter(request)
    group = "quarter" if request.GET.get("group") == "quarter" else "month"
    periods = selectors.renewals_totals(renewals=filterset.qs, group=group)
    paginator = Paginator(filterset.qs.order_by("renewal_date", "pk"), settings.PORTFOLIO_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = filterset.data.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "group": group,
        "periods": periods,
        "total": selectors.grand_totals(periods),
        "category_labels": selectors.CATEGORY_LABELS,
        "lead_days": settings.SUCCESS_RENEWAL_LEAD_DAYS,
        "page": page,
        "query": query.urlencode(),
    }
    template = "success/renewals.html"
    if is_htmx(request):
        template += "#results"
    return render(request, template, context)


@require_GET
def renewals_export(request: AuthedRequest) -> StreamingHttpResponse:
    """The filtered renewal pipeline as CSV, streamed."""
    filterset = _renewal_filter(request)

    def rows() -> Iterator[list[Any]]:
        yield [
            "renewal_id",
            "account_id",
            "account",
            "owner",
            "segment",
            "renewal_date",
            "currency",
            "arr_up_for_renewal",
            "forecast_category",
            "forecast_arr",
            "health_band",
        ]
        for r in filterset.qs.order_by("renewal_date", "pk").iterator(chunk_size=2000):
            yield [
                r.pk,
                r.account_id,
                r.account.name,
                r.account.owner.email if r.account.owner else "",
                r.account.segment,
                r.renewal_date,
                r.account.currency,
                r.current_arr,
                r.forecast_category,
                "" if r.forecast_arr is None else r.forecast_arr,
                r.account.health_band,
            ]

    return csv_download(rows(), "renewals.csv")


# ---- My work ----


@require_GET
def my_work(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    items = selectors.my_work(user=request.user, today=today)
    conflicts = account_selectors.open_conflicts_count(owner_id=request.user.pk)
    return render(
        request,
        "success/my_work.html",
        {
            "items": items,
            "today": today,
            "overdue": sum(1 for i in items if i.overdue),
            "sync_conflicts": conflicts,
        },
    )
