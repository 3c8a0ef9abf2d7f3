"""The bell and inbox, preferences, the signed links from emails and Slack, and
the admins' settings and delivery problems."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthedRequest, action_post, form_post
from accounts.models import User
from accounts.roles import admin_required
from success.alerts.models import AlertRule

from . import selectors, services, tokens
from .forms import ChannelsForm, PreferencesForm, RuleSettingForm, SlackWebhookForm
from .models import Delivery, Kind, Notification, RuleSetting, SlackWebhook
from .timezones import SESSION_KEY


def _safe(request: HttpRequest, path: str) -> str:
    ok = url_has_allowed_host_and_scheme(path, allowed_hosts={request.get_host()})
    return path if ok else "/"


@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.inbox(user=request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread": selectors.unread_count(user=request.user)},
    )


@require_GET
def bell(request: AuthedRequest) -> HttpResponse:
    """The nav's unread count, loaded by htmx after the page so pages keep their queries."""
    return render(
        request,
        "notifications/bell.html",
        {"unread": selectors.unread_count(user=request.user)},
    )


@require_POST
def read_all(request: AuthedRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("notifications:inbox")


@require_GET
def open_notification(request: AuthedRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(notification=notification)
    return redirect(_safe(request, notification.path))


@login_not_required
@require_GET
def open_signed(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an email or a Slack message: marks the notification read here
    (no sign-in needed, the token names it), then goes to its page."""
    pk = tokens.open_read(token)
    notification = get_object_or_404(Notification, pk=pk) if pk else None
    if notification is None:
        return render(request, "notifications/link_invalid.html", status=400)
    services.notification_mark_read(notification=notification)
    return redirect(_safe(request, notification.path))


@login_not_required
@csrf_exempt  # RFC 8058 one-click: mail clients POST without our form
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop one kind of email for the person the signed token names; works
    without signing in. GET asks, POST (our button, or a mail client's
    List-Unsubscribe-Post) does it."""
    data = tokens.unsubscribe_read(token)
    user = User.objects.filter(pk=data.user_id).first() if data else None
    if data is None or user is None or data.kind not in Kind.values:
        return render(request, "notifications/link_invalid.html", status=400)
    label = Kind(data.kind).label
    if request.method == "POST":
        services.unsubscribe(user=user, kind=data.kind)
        return render(request, "notifications/unsubscribed.html", {"label": label, "done": True})
    return render(
        request, "notifications/unsubscribed.html", {"label": label, "done": False, "who": user}
    )


@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    profile = selectors.profile_of(request.user)
    choices = selectors.choices_for([request.user.pk])[request.user.pk]
    form = PreferencesForm(
        request.POST or None,
        choices=choices,
        initial={"time_zone": profile.time_zone, "digest_hour": profile.digest_hour},
    )

    def save() -> object:
        saved = services.preferences_save(
            user=request.user,
            time_zone=form.cleaned_data["time_zone"],
            digest_hour=form.cleaned_data["digest_hour"],
            choices=form.channel_choices(),
        )
        request.session[SESSION_KEY] = saved.time_zone
        return saved

    if done := form_post(
        request, form, save, success="Preferences saved.", then="notifications:preferences"
    ):
        return done
    return render(request, "notifications/preferences.html", {"form": form, "profile": profile})


@require_http_methods(["GET", "POST"])
@admin_required
def admin_settings(request: AuthedRequest) -> HttpResponse:
    form = ChannelsForm(request.POST or None, choices=selectors.default_choices())
    if done := form_post(
        request,
        form,
        lambda: services.defaults_save(choices=form.channel_choices()),
        success="Defaults saved.",
        then="notifications:settings",
    ):
        return done
    return render(
        request,
        "notifications/settings.html",
        {
            "form": form,
            "webhooks": SlackWebhook.objects.select_related("team_leader"),
            "rules": AlertRule.objects.select_related(
                "notification_setting__slack_webhook"
            ).order_by("name"),
            "counts": selectors.delivery_counts(),
        },
    )


@require_http_methods(["GET", "POST"])
@admin_required
def webhook_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    hook = get_object_or_404(SlackWebhook, pk=pk) if pk else None
    form = SlackWebhookForm(request.POST or None, instance=hook)
    if done := form_post(
        request,
        form,
        form.save,
        success=lambda saved: f"Saved Slack channel “{saved.name}”.",
        then="notifications:settings",
    ):
        return done
    return render(request, "notifications/edit.html", {"form": form, "title": "Slack channel"})


@require_http_methods(["GET", "POST"])
@admin_required
def rule_setting_edit(request: AuthedRequest, rule_pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=rule_pk)
    setting = RuleSetting.objects.filter(rule=rule).first() or RuleSetting(rule=rule)
    form = RuleSettingForm(request.POST or None, instance=setting)
    if done := form_post(
        request,
        form,
        form.save,
        success=f"Saved how “{rule.name}” notifies.",
        then="notifications:settings",
    ):
        return done
    return render(
        request, "notifications/edit.html", {"form": form, "title": f"Notify for “{rule.name}”"}
    )


@require_GET
@admin_required
def deliveries(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.deliveries_needing_attention(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/deliveries.html",
        {"page": page, "counts": selectors.delivery_counts()},
    )


@require_POST
@admin_required
def delivery_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk)
    return action_post(
        request,
        lambda: services.delivery_retry(delivery=delivery),
        success=f"Delivery #{delivery.pk} queued again.",
        then="notifications:deliveries",
    )
