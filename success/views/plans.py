"""Success plan pages: the plan with its objectives and tasks, editing them,
and the customer's read-only link."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthedRequest, action_post, form_post, is_htmx, redirect_next
from accounts.models import Account
from accounts.roles import can_edit_account, require_account_edit

from .. import services
from ..forms import ObjectiveForm, ObjectiveStatusForm, ObjectiveValueForm, PlanForm, TaskForm
from ..models import Objective, SuccessPlan, SuccessTask
from ..selectors import plans as selectors
from .common import form_page


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
    if done := form_post(
        request,
        form,
        lambda: services.plan_create(account=account, by=request.user, **form.cleaned_data),
        success="Success plan started." if not current else "Plan replaced.",
        then=reverse("success:plan", args=[account.pk]),
    ):
        return done
    return form_page(
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
    if done := form_post(
        request,
        form,
        lambda: services.plan_update(plan=plan, by=request.user, **form.cleaned_data),
        success="Saved.",
        then=reverse("success:plan", args=[plan.account_id]),
    ):
        return done
    return form_page(
        request, form=form, account=plan.account, title="Edit desired outcomes", submit="Save"
    )


@require_POST
def plan_share(request: AuthedRequest, plan_pk: int) -> HttpResponse:
    plan = get_object_or_404(SuccessPlan.objects.select_related("account"), pk=plan_pk)
    require_account_edit(request.user, plan.account)
    back = reverse("success:plan", args=[plan.account_id])
    if request.POST.get("action") == "revoke":
        return action_post(
            request,
            lambda: services.plan_share_revoke(plan=plan, by=request.user),
            success="The customer's link no longer works.",
            then=back,
        )
    return action_post(
        request,
        lambda: services.plan_share(plan=plan, by=request.user),
        success="New customer link created; any earlier link stopped working.",
        then=back,
    )


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
    if done := form_post(
        request,
        form,
        lambda: services.objective_create(plan=plan, by=request.user, **form.cleaned_data),
        success="Objective added.",
        then=reverse("success:plan", args=[plan.account_id]),
    ):
        return done
    return form_page(
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
    if done := form_post(
        request,
        form,
        lambda: services.objective_value_record(
            objective=objective,
            value=form.cleaned_data["value"],
            note=form.cleaned_data["note"],
            by=request.user,
        ),
        success=f"{objective.title}: value recorded.",
        then=reverse("success:plan", args=[objective.plan.account_id]),
    ):
        return done
    return form_page(
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
    if done := form_post(
        request,
        form,
        lambda: services.objective_status_set(
            objective=objective, by=request.user, **form.cleaned_data
        ),
        # Read after the service: the status it set.
        success=lambda _: f"{objective.title} is now {objective.get_status_display()}.",
        then=reverse("success:plan", args=[objective.plan.account_id]),
    ):
        return done
    return form_page(
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

    def save() -> object:
        user, contact = form.assignees()
        return services.task_create(
            account=account,
            title=form.cleaned_data["title"],
            objective=form.cleaned_data["objective"],
            assignee_user=user,
            assignee_contact=contact,
            due_date=form.cleaned_data["due_date"],
            by=request.user,
        )

    if done := form_post(
        request,
        form,
        save,
        success="Task added.",
        then=reverse("success:plan", args=[account.pk]),
    ):
        return done
    return form_page(request, form=form, account=account, title="Add a task", submit="Add task")


@require_POST
def task_done(request: AuthedRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(SuccessTask.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, task.account)
    services.task_set_done(task=task, done=request.POST.get("done") != "0", by=request.user)
    return redirect_next(request, "success:my_work")
