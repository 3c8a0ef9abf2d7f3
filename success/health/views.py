"""Health pages: the model (admins configure it), an account's explanation,
and CSM overrides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.dates import DateField
from accounts.http import AuthedRequest, action_post, form_post
from accounts.models import Account
from accounts.roles import (
    admin_required,
    can_edit_account,
    is_admin,
    require,
    require_account_edit,
    require_leader,
)

from . import selectors, services
from .backtest import renewal_backtest
from .forms import HealthModelForm, MeasureFormSet, OverrideForm
from .models import HealthModel


@require_GET
def model_list(request: AuthedRequest) -> HttpResponse:
    models = list(selectors.health_models())
    return render(
        request,
        "health/model_list.html",
        {
            "active": next((m for m in models if m.status == "active"), None),
            "draft": next((m for m in models if m.status == "draft"), None),
            "versions": models,
            "can_configure": is_admin(request.user),
        },
    )


@require_POST
@admin_required
def model_new_version(request: AuthedRequest) -> HttpResponse:
    source = services.active_model() or HealthModel.objects.order_by("-version").first()
    if source is None:
        messages.error(request, "There is no model to start from.")
        return redirect("health:models")
    draft = services.health_model_new_version(source=source, by=request.user)
    return redirect("health:model_edit", pk=draft.pk)


@require_http_methods(["GET", "POST"])
@admin_required
def model_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(HealthModel, pk=pk)
    require(model.status == "draft", "Only a draft can change; start a new version instead.")
    form = HealthModelForm(request.POST or None, instance=model, prefix="model")
    formset = MeasureFormSet(request.POST or None, queryset=model.measures.all(), prefix="m")

    def save() -> object:
        measures = [
            {k: v for k, v in f.cleaned_data.items() if k not in ("id", "DELETE")}
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        return services.health_model_update_draft(
            model=model,
            data={f: form.cleaned_data[f] for f in form.Meta.fields},
            measures=measures,
        )

    if done := form_post(
        request,
        form,
        save,
        success=f"Saved draft v{model.version}. Preview it before activating.",
        then=reverse("health:model_preview", args=[model.pk]),
        also_valid=[formset],
    ):
        return done
    return render(
        request, "health/model_edit.html", {"model": model, "form": form, "formset": formset}
    )


@require_GET
@admin_required
def model_preview(request: AuthedRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(HealthModel.objects.prefetch_related("measures"), pk=pk)
    preview = services.health_model_preview(draft=model, today=timezone.localdate())
    peak = max(preview.histogram) or 1
    histogram = [
        {"label": f"{i * 10}–{i * 10 + 9 if i < 9 else 100}", "count": n, "pct": 100 * n / peak}
        for i, n in enumerate(preview.histogram)
    ]
    bands = ["green", "yellow", "red"]
    rows = [
        {"band": b, "draft": preview.draft_bands[b], "active": preview.active_bands[b]}
        for b in bands
    ]
    return render(
        request,
        "health/model_preview.html",
        {"model": model, "preview": preview, "histogram": histogram, "band_rows": rows},
    )


@require_POST
@admin_required
def model_activate(request: AuthedRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(HealthModel, pk=pk)
    return action_post(
        request,
        lambda: services.health_model_activate(model=model, by=request.user),
        success=f"v{model.version} is active; today's scores were recomputed.",
        then="health:models",
        refused=reverse("health:model_preview", args=[pk]),
    )


@require_GET
def account_health(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    health = selectors.account_health(account=account, today=timezone.localdate())
    return render(
        request,
        "health/account_health.html",
        {
            "account": account,
            "health": health,
            "chart": selectors.sparkline(
                health.history,
                yellow_min=health.latest.model.yellow_min if health.latest else 40,
            ),
            "can_edit": can_edit_account(request.user, account),
        },
    )


@require_http_methods(["GET", "POST"])
def override_set(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    form = OverrideForm(request.POST or None)
    if done := form_post(
        request,
        form,
        lambda: services.health_override_set(account=account, by=request.user, **form.cleaned_data),
        success="Override saved; the computed score is kept beside it.",
        then=reverse("health:account", args=[account.pk]),
    ):
        return done
    return render(request, "health/override_form.html", {"account": account, "form": form})


@require_POST
def override_end(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    return action_post(
        request,
        lambda: services.health_override_end(account=account, by=request.user),
        success="Override removed.",
        then=reverse("health:account", args=[account.pk]),
    )


class BacktestForm(forms.Form):
    start = DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end comes after the start.")
        return data


@require_GET
def backtest(request: AuthedRequest) -> HttpResponse:
    require_leader(request.user)
    today = timezone.localdate()
    initial = {"start": today - timedelta(days=365), "end": today}
    form = BacktestForm(request.GET or initial)
    outcomes = None
    if form.is_valid():
        outcomes = renewal_backtest(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return render(request, "health/backtest.html", {"form": form, "outcomes": outcomes})
