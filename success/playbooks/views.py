"""Playbook pages: the admin's builder, the effectiveness page, running playbooks
(a leader's overview, overdue steps first), and a run's steps."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthedRequest, action_post, form_post
from accounts.models import Account
from accounts.roles import admin_required, can_edit_account, is_admin, require_account_edit

from . import selectors, services
from .forms import PlaybookForm, ReasonForm, SnoozeForm, StartForm, StepFormSet, VersionForm
from .models import Playbook, PlaybookRun, PlaybookRunStep, PlaybookStep, RunStatus


@require_GET
def playbook_list(request: AuthedRequest) -> HttpResponse:
    playbooks = list(selectors.playbooks_list())
    for p in playbooks:
        p.current = p.versions.all()[0] if p.versions.all() else None  # type: ignore[attr-defined]
    return render(
        request,
        "playbooks/playbook_list.html",
        {"playbooks": playbooks, "can_configure": is_admin(request.user)},
    )


@require_GET
def playbook_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    today = timezone.localdate()
    return render(
        request,
        "playbooks/playbook_detail.html",
        {
            "playbook": playbook,
            "versions": selectors.playbook_versions(playbook),
            "effect": selectors.effectiveness(playbook, today=today),
            "min_sample": selectors.MIN_SAMPLE,
            "can_configure": is_admin(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@admin_required
def playbook_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk) if pk else None
    current = services.current_version(playbook) if playbook else None
    data = request.POST if request.method == "POST" else None
    form = PlaybookForm(data, instance=playbook, prefix="p")
    version_form = VersionForm(data, instance=current, prefix="v")
    steps = StepFormSet(
        data,
        prefix="s",
        queryset=current.steps.all() if current else PlaybookStep.objects.none(),
    )

    @transaction.atomic
    def save() -> Playbook:
        kept = [
            f.cleaned_data
            for f in steps.forms
            if (f.has_changed() or f.instance.pk) and not f.cleaned_data.get("DELETE")
        ]
        return services.playbook_save(
            by=request.user,
            playbook=playbook,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            is_active=form.cleaned_data["is_active"],
            crm_tasks=form.cleaned_data["crm_tasks"],
            version=version_form.cleaned_data,
            steps=kept,
        )

    if done := form_post(
        request,
        form,
        save,
        success=lambda saved: f"Saved playbook “{saved.name}”.",
        then=lambda saved: saved,
        also_valid=[version_form, steps],
    ):
        return done
    return render(
        request,
        "playbooks/playbook_form.html",
        {"form": form, "version_form": version_form, "steps": steps, "playbook": playbook},
    )


@require_GET
def run_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "live")
    if status not in {"live", "", *RunStatus.values}:
        status = "live"
    runs = selectors.runs_for(user=request.user, today=timezone.localdate(), status=status)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "playbooks/run_list.html",
        {
            "page": page,
            "status": status,
            "statuses": RunStatus.choices,
            "today": timezone.localdate(),
        },
    )


@require_GET
def run_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.run_detail(), pk=pk)
    return render(
        request,
        "playbooks/run_detail.html",
        {
            "run": run,
            "can_edit": can_edit_account(request.user, run.account),
            "today": timezone.localdate(),
            "reason_form": ReasonForm(),
            "snooze_form": SnoozeForm(),
        },
    )


@require_POST
def run_start(request: AuthedRequest, pk: int) -> HttpResponse:
    """Start a playbook by hand from the account page."""
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    form = StartForm(request.POST)
    return action_post(
        request,
        lambda: services.run_start(
            playbook=form.cleaned_data["playbook"],
            account=account,
            by=request.user,
            today=timezone.localdate(),
        ),
        form=form,
        invalid="Choose a playbook to start.",
        success=lambda run: f"Started “{run.playbook.name}”; its tasks are in My work.",
        then=lambda run: reverse("playbooks:run", args=[run.pk]),
        refused=account,
    )


def _run_for_edit(request: AuthedRequest, pk: int) -> PlaybookRun:
    run = get_object_or_404(PlaybookRun.objects.select_related("account", "playbook"), pk=pk)
    require_account_edit(request.user, run.account)
    return run


@require_POST
def run_snooze(request: AuthedRequest, pk: int) -> HttpResponse:
    run = _run_for_edit(request, pk)
    form = SnoozeForm(request.POST)
    return action_post(
        request,
        lambda: services.run_snooze(
            run=run,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
            by=request.user,
            today=timezone.localdate(),
        ),
        form=form,
        invalid="Pick a date to snooze until and say why.",
        success="Playbook snoozed; its open tasks moved with it.",
        then=reverse("playbooks:run", args=[run.pk]),
    )


@require_POST
def run_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    run = _run_for_edit(request, pk)
    form = ReasonForm(request.POST)
    return action_post(
        request,
        lambda: services.run_cancel(run=run, reason=form.cleaned_data["reason"], by=request.user),
        form=form,
        invalid="Say why the playbook is cancelled.",
        success="Playbook cancelled; its open tasks left My work.",
        then=reverse("playbooks:run", args=[run.pk]),
    )


def _step_for_edit(request: AuthedRequest, pk: int) -> PlaybookRunStep:
    run_step = get_object_or_404(
        PlaybookRunStep.objects.select_related("run__account", "run__playbook", "step", "task"),
        pk=pk,
    )
    require_account_edit(request.user, run_step.run.account)
    return run_step


@require_POST
def step_complete(request: AuthedRequest, pk: int) -> HttpResponse:
    run_step = _step_for_edit(request, pk)
    return action_post(
        request,
        lambda: services.run_step_complete(run_step=run_step, by=request.user),
        success=f"Done: {run_step.step.title}.",
        then=reverse("playbooks:run", args=[run_step.run_id]),
    )


@require_POST
def step_skip(request: AuthedRequest, pk: int) -> HttpResponse:
    run_step = _step_for_edit(request, pk)
    form = ReasonForm(request.POST)
    return action_post(
        request,
        lambda: services.run_step_skip(
            run_step=run_step, reason=form.cleaned_data["reason"], by=request.user
        ),
        form=form,
        invalid="Say why the step is skipped.",
        success=f"Skipped: {run_step.step.title}.",
        then=reverse("playbooks:run", args=[run_step.run_id]),
    )


@require_POST
@admin_required
def playbooks_run_now(request: AuthedRequest) -> HttpResponse:
    result = services.playbooks_evaluate(today=timezone.localdate())
    messages.success(
        request,
        f"Started {sum(result.started.values())} run(s); {result.not_started} trigger(s) did "
        f"not start one; {result.objectives_met} objective(s) met.",
    )
    return redirect("playbooks:list")
