"""CSMs run plans; leaders read the numbers. Forms post to real URLs and work
without JavaScript; with htmx the plan checklist swaps in place."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import AuthedRequest, form_errors_apply, form_post, is_htmx
from accounts.models import Account
from accounts.roles import (
    Role,
    can_edit_account,
    require_account_edit,
    require_leader,
    role_of,
    sees_all_writes,
)

from .. import selectors, services
from ..forms import (
    ACTION_FORMS,
    OWNER_ALL,
    OWNER_ME,
    AdhocMilestoneForm,
    PlanFilter,
    PlanStartForm,
)
from ..models import (
    Milestone,
    OnboardingPlan,
    PlanStatus,
)
from ..status import plan_derive
from .plan_rows import plan_rows

ACTION_LABELS = {
    "complete": "Complete",
    "reopen": "Reopen",
    "skip": "Skip",
    "due": "Change due date",
    "reassign": "Reassign",
}

# --- Lists -----------------------------------------------------------------


@require_GET
def my_onboarding(request: AuthedRequest) -> HttpResponse:
    """The CSM's running plans, late first; leaders and viewers see everyone's."""
    params = request.GET.copy()
    if not params.get("owner"):
        params["owner"] = OWNER_ME if role_of(request.user) == Role.CSM else OWNER_ALL
    filterset = PlanFilter(
        params,
        queryset=selectors.plans_list(),
        user=request.user,
        owners=role_of(request.user) != Role.CSM,
    )
    paginator = Paginator(selectors.plan_list_rows(filterset.qs), settings.PORTFOLIO_PAGE_SIZE)
    paginator.count = filterset.qs.count()  # without the rows' joins and subqueries
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = [selectors.PlanRow._make(row) for row in page.object_list]
    query = params.copy()
    query.pop("page", None)
    today = timezone.localdate()
    context = {
        "filter": filterset,
        "page": page,
        "rows": plan_rows(page.object_list, today=today),
        "query": query.urlencode(),
        "today": today,
    }
    template = "onboarding/my_onboarding.html"
    if is_htmx(request):
        template += "#results"
    return render(request, template, context)


@require_GET
def insights(request: AuthedRequest) -> HttpResponse:
    require_leader(request.user)
    return render(
        request,
        "onboarding/insights.html",
        {
            "insights": selectors.onboarding_insights(),
            "buckets": selectors.TTV_BUCKETS,
            "today": timezone.localdate(),
        },
    )


# --- Plans -----------------------------------------------------------------


def _plan_context(
    request: AuthedRequest, plan: OnboardingPlan, failed: dict[str, Any] | None = None
) -> dict[str, Any]:
    today = timezone.localdate()
    milestones = list(selectors.plan_milestones(plan=plan))
    for m in milestones:
        m.flag = m.lateness(today)  # type: ignore[attr-defined]
    can_act = plan.is_active and can_edit_account(request.user, plan.account)
    # The stored status is what lists sort on (the daily job keeps it fresh);
    # this page derives it from today's date so it is never a day behind.
    status = plan.status if not plan.is_active else plan_derive(milestones, today).status
    return {
        "plan": plan,
        "status": status,
        "status_label": PlanStatus(status).label,
        "account": plan.account,
        "milestones": milestones,
        "history": selectors.plan_history(plan=plan),
        "can_act": can_act,
        "can_skip_required": sees_all_writes(request.user),
        "today": today,
        "failed": failed or {},
    }


@require_GET
def plan_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(selectors.plan_detail(), pk=pk)
    return render(request, "onboarding/plan.html", _plan_context(request, plan))


@require_http_methods(["GET", "POST"])
def plan_start(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    require_account_edit(request.user, account)
    templates = selectors.templates_for_start(account=account)
    form = PlanStartForm(request.POST or None, templates=templates)
    if done := form_post(
        request,
        form,
        lambda: services.plan_start(
            account=account,
            template=form.cleaned_data["template"],
            start_date=form.cleaned_data["start_date"],
            by=request.user,
        ),
        success=f"Onboarding started for {account.name}.",
        then=lambda plan: plan,
    ):
        return done
    return render(
        request,
        "onboarding/plan_start.html",
        {"form": form, "account": account, "templates": templates},
    )


def _run_action(
    action: str, milestone: Milestone, form: forms.Form, request: AuthedRequest
) -> None:
    data = form.cleaned_data
    by = request.user
    if action == "complete":
        services.milestone_complete(milestone=milestone, by=by, on=data["on"], note=data["note"])
    elif action == "reopen":
        services.milestone_reopen(milestone=milestone, by=by)
    elif action == "skip":
        services.milestone_skip(milestone=milestone, by=by, reason=data["reason"])
    elif action == "due":
        services.milestone_due_change(
            milestone=milestone, by=by, due_date=data["due_date"], reason=data["reason"]
        )
    elif action == "reassign":
        services.milestone_reassign(
            milestone=milestone, by=by, owner_side=data["owner_side"], assignee=data["assignee"]
        )


@require_http_methods(["GET", "POST"])
def milestone_action(request: AuthedRequest, pk: int, mpk: int, action: str) -> HttpResponse:
    if action not in ACTION_FORMS:
        raise Http404("Unknown action")
    plan = get_object_or_404(selectors.plan_detail(), pk=pk)
    milestone = get_object_or_404(Milestone.objects.select_related("assignee"), pk=mpk, plan=plan)
    milestone.plan = plan
    require_account_edit(request.user, plan.account)
    initial: dict[str, Any] = {
        "on": timezone.localdate(),
        "due_date": milestone.due_date,
        "owner_side": milestone.owner_side,
        "assignee": milestone.assignee_id,
    }
    form = ACTION_FORMS[action](request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                _run_action(action, milestone, form, request)
            except ValidationError as exc:
                form_errors_apply(form, exc)
            else:
                if is_htmx(request):
                    plan.refresh_from_db()
                    return render(
                        request, "onboarding/plan.html#checklist", _plan_context(request, plan)
                    )
                messages.success(request, f"{ACTION_LABELS[action]}: {milestone.title}.")
                return redirect(plan)
        if is_htmx(request):
            failed = {"milestone": milestone.pk, "action": action, "form": form}
            return render(
                request, "onboarding/plan.html#checklist", _plan_context(request, plan, failed)
            )
    return render(
        request,
        "onboarding/milestone_action.html",
        {
            "form": form,
            "plan": plan,
            "account": plan.account,
            "milestone": milestone,
            "action": action,
            "action_label": ACTION_LABELS[action],
        },
    )


@require_http_methods(["GET", "POST"])
def milestone_add(request: AuthedRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(selectors.plan_detail(), pk=pk)
    require_account_edit(request.user, plan.account)
    form = AdhocMilestoneForm(request.POST or None, initial={"due_date": timezone.localdate()})
    if done := form_post(
        request,
        form,
        lambda: services.milestone_add(plan=plan, by=request.user, data=form.cleaned_data),
        success="Milestone added to this plan.",
        then=plan,
    ):
        return done
    return render(
        request,
        "onboarding/milestone_add.html",
        {"form": form, "plan": plan, "account": plan.account},
    )
