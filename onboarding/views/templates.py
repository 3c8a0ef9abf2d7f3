"""Admins configure onboarding templates; with htmx the milestone order swaps
in place, without it every button posts and redirects."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthedRequest, action_post, form_post, is_htmx
from accounts.roles import (
    admin_required,
)

from .. import selectors, services
from ..forms import (
    MilestoneTemplateForm,
    TemplateForm,
)
from ..models import (
    MilestoneTemplate,
    OnboardingPlan,
    OnboardingTemplate,
)

TEMPLATE_ACTIONS = ("activate", "deactivate", "archive", "duplicate")


# --- Templates (admin) -----------------------------------------------------


@require_GET
@admin_required
def template_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "onboarding/template_list.html",
        {"templates": selectors.templates_admin_list()},
    )


@require_http_methods(["GET", "POST"])
@admin_required
def template_create(request: AuthedRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None)
    if done := form_post(
        request,
        form,
        lambda: services.template_create(by=request.user, data=form.cleaned_data),
        success="Template created. Add its milestones, then activate it.",
        then=lambda template: template,
    ):
        return done
    return render(request, "onboarding/template_form.html", {"form": form, "template": None})


def _template_context(template: OnboardingTemplate, **extra: Any) -> dict[str, Any]:
    return {
        "template": template,
        "milestones": list(template.milestones.all()),
        "problems": services.template_problems(template=template),
        "outdated": selectors.template_outdated_plans(template=template).count(),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@admin_required
def template_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(selectors.template_with_milestones(), pk=pk)
    form = TemplateForm(request.POST or None, instance=OnboardingTemplate.objects.get(pk=pk))
    if done := form_post(
        request,
        form,
        lambda: services.template_update(
            template=template, by=request.user, data=form.cleaned_data
        ),
        success="Template saved.",
        then=template,
    ):
        return done
    return render(request, "onboarding/template.html", _template_context(template, form=form))


@require_http_methods(["GET", "POST"])
@admin_required
def template_milestone_edit(
    request: AuthedRequest, pk: int, mpk: int | None = None
) -> HttpResponse:
    template = get_object_or_404(OnboardingTemplate, pk=pk)
    milestone = get_object_or_404(MilestoneTemplate, pk=mpk, template=template) if mpk else None
    form = MilestoneTemplateForm(request.POST or None, instance=milestone)
    if done := form_post(
        request,
        form,
        lambda: services.milestone_template_save(
            template=template, by=request.user, data=form.cleaned_data, milestone=milestone
        ),
        success="Milestone saved.",
        then=template,
    ):
        return done
    return render(
        request,
        "onboarding/template_milestone_form.html",
        {"form": form, "template": template, "milestone": milestone},
    )


@require_POST
@admin_required
def template_milestone_move(request: AuthedRequest, pk: int, mpk: int) -> HttpResponse:
    milestone = get_object_or_404(
        MilestoneTemplate.objects.select_related("template"), pk=mpk, template_id=pk
    )
    try:
        services.milestone_template_move(
            milestone=milestone, direction=request.POST.get("direction", ""), by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    template = get_object_or_404(selectors.template_with_milestones(), pk=pk)
    if is_htmx(request):
        return render(request, "onboarding/template.html#milestones", _template_context(template))
    return redirect(template)


@require_POST
@admin_required
def template_milestone_delete(request: AuthedRequest, pk: int, mpk: int) -> HttpResponse:
    milestone = get_object_or_404(
        MilestoneTemplate.objects.select_related("template"), pk=mpk, template_id=pk
    )
    return action_post(
        request,
        lambda: services.milestone_template_delete(milestone=milestone, by=request.user),
        success=f"Deleted {milestone.title}.",
        then=reverse("onboarding:template", args=[pk]),
        refused_prefix="Not deleted: ",
    )


@require_POST
@admin_required
def template_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    if action not in TEMPLATE_ACTIONS:
        raise Http404("Unknown action")
    template = get_object_or_404(OnboardingTemplate, pk=pk)
    try:
        if action == "activate":
            services.template_activate(template=template, by=request.user)
            messages.success(request, f"{template.name} is active: CSMs can start plans from it.")
        elif action == "deactivate":
            services.template_deactivate(template=template, by=request.user)
            messages.success(request, f"{template.name} no longer starts new plans.")
        elif action == "archive":
            services.template_archive(template=template, by=request.user)
            messages.success(request, f"{template.name} is archived. Running plans carry on.")
        else:
            copy = services.template_duplicate(template=template, by=request.user)
            messages.success(request, f"Created {copy.name}, inactive until you activate it.")
            return redirect(copy)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(template)


@require_http_methods(["GET", "POST"])
@admin_required
def template_apply(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm, then move not-yet-started plans to the template's current version."""
    template = get_object_or_404(OnboardingTemplate, pk=pk)
    if request.method == "POST":
        count = services.template_version_apply(template=template, by=request.user)
        messages.success(request, f"Moved {count} plan(s) to version {template.version}.")
        return redirect(template)
    plans = list(selectors.template_outdated_plans(template=template).order_by("account__name"))
    running_other = OnboardingPlan.objects.filter(
        template=template, finished_on__isnull=True, template_version__lt=template.version
    ).count() - len(plans)
    return render(
        request,
        "onboarding/template_apply.html",
        {"template": template, "plans": plans, "untouched": running_other},
    )
