"""Alerts (whom to call), alert rules (admins), expansion signals."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.formats import date_display
from accounts.http import AuthedRequest, action_post, form_post, redirect_next
from accounts.models import Account, id_or_none
from accounts.roles import admin_required, require_account_edit, writes

from . import selectors, services
from .forms import AlertCloseForm, AlertRuleForm, ExpansionHintForm, FollowUpForm, SignalForm
from .models import RULE_PARAMS, Alert, AlertRule, ExpansionHint, ExpansionSignal
from .rows import alert_rows
from .support import support_expansion_raise


@require_GET
def alert_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "live")
    if status not in {"live", "", selectors.SNOOZED, *Alert.Status.values}:
        status = "live"
    rule = request.GET.get("rule", "")
    rule_id = id_or_none(rule)
    paginator = Paginator(
        selectors.alert_list_rows(user=request.user, status=status, rule_id=rule_id), 50
    )
    # Not the count of the rows' own query, which would keep their joins (rule,
    # ticket, survey answer, owner): the kept counts, or an index-only count.
    paginator.count = selectors.alerts_count(user=request.user, status=status, rule_id=rule_id)
    page = paginator.get_page(request.GET.get("page"))
    today = timezone.localdate()
    token = get_token(request)  # the page's one token: its forms and the rows'
    rows = alert_rows(
        map(selectors.AlertRow._make, page.object_list),
        request=request,
        csrf_token=token,
        today=today,
        can_write=writes(request.user),
        snooze_choices=AlertCloseForm.base_fields["snooze_days"].choices,  # type: ignore[attr-defined]
    )
    return render(
        request,
        "alerts/alert_list.html",
        {
            "page": page,
            # one string: the template's loop over 50 rows cost more than joining them
            "rows": mark_safe("".join(f"\n  {row}\n  " for row in rows)),  # rows are safe
            "csrf_token": token,
            "status": status,
            "rule": rule,
            "pager_query": urlencode({"status": status, "rule": rule}),
            "rules": selectors.rule_choices(),
            "statuses": Alert.Status.choices,
            "today": today,
        },
    )


@require_POST
def alert_close(request: AuthedRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, alert.account)
    form = AlertCloseForm(request.POST)

    def closed(_: object) -> str:
        until = (
            f" until {date_display(alert.snoozed_until)}, unless the condition clears first"
            if alert.snoozed_until
            else ""
        )
        return f"Alert {alert.get_status_display().lower()}{until}."

    return action_post(
        request,
        lambda: services.alert_close(alert=alert, by=request.user, **form.cleaned_data),
        form=form,
        invalid="Choose acknowledge, resolve or dismiss.",
        success=closed,
        then=redirect_next(request, "alerts:list").url,
    )


@require_GET
@admin_required
def rule_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "alerts/rule_list.html", {"rules": selectors.rules()})


@require_http_methods(["GET", "POST"])
@admin_required
def rule_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk) if pk else None
    form = AlertRuleForm(request.POST or None, instance=rule)

    def save() -> AlertRule:
        saved = form.save(commit=False)
        if rule is None:
            saved.created_by = request.user
        saved.save()
        return saved

    if done := form_post(
        request,
        form,
        save,
        success=lambda saved: f"Saved rule “{saved.name}”.",
        then="alerts:rules",
    ):
        return done
    return render(
        request, "alerts/rule_form.html", {"form": form, "rule": rule, "params": RULE_PARAMS}
    )


@require_POST
@admin_required
def rules_run(request: AuthedRequest) -> HttpResponse:
    run = services.alerts_evaluate(today=timezone.localdate())
    hinted = support_expansion_raise()
    messages.success(
        request,
        f"Opened {sum(run.opened.values())} alert(s), reopened {sum(run.reopened.values())}, "
        f"cleared {sum(run.cleared.values())}, "
        f"raised {run.signals + len(hinted)} expansion signal(s).",
    )
    return redirect("alerts:rules")


@require_GET
def signal_list(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.signals_for(user=request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/signal_list.html",
        {"page": page, "follow_ups": selectors.signal_follow_ups(user=request.user)},
    )


@require_http_methods(["GET", "POST"])
@admin_required
def expansion_hint_edit(request: AuthedRequest) -> HttpResponse:
    """The admin's expansion hints: ticket categories and keywords."""
    hint = selectors.expansion_hint_current()
    form = ExpansionHintForm(request.POST or None, instance=hint)

    def save() -> ExpansionHint:
        saved = form.save(commit=False)
        saved.updated_by = request.user
        saved.save()
        return saved

    if done := form_post(
        request,
        form,
        save,
        success="Saved the expansion hints; tickets and notes are read for them as they sync.",
        then="alerts:signals",
    ):
        return done
    return render(request, "alerts/hint_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def signal_raise(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    form = SignalForm(request.POST or None)
    if done := form_post(
        request,
        form,
        lambda: services.expansion_signal_raise(
            account=account, by=request.user, **form.cleaned_data
        ),
        success="Expansion signal raised; follow up within 24 hours.",
        then=account,
    ):
        return done
    return render(request, "alerts/signal_form.html", {"form": form, "account": account})


@require_POST
def signal_follow_up(request: AuthedRequest, pk: int) -> HttpResponse:
    signal = get_object_or_404(ExpansionSignal.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, signal.account)
    form = FollowUpForm(request.POST)
    return action_post(
        request,
        lambda: services.expansion_signal_follow_up(
            signal=signal, outcome=form.cleaned_data["outcome"], by=request.user
        ),
        form=form,
        invalid="Say what came of the follow-up.",
        success="Follow-up recorded.",
        then="alerts:signals",
    )
