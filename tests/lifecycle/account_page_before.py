"""The account page as it was before it was read with plain SQL and written in Python
(lifecycle/account_page): the view over the apps' selectors, rendering the page
template and its panel partials kept in account_page_templates/. Mounted at
/_before/accounts/<pk>/ beside the app's URLs by tests/lifecycle/test_account_page.py,
which compares the two pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.backends.django import DjangoTemplates
from django.urls import path
from django.utils import timezone

from accounts import selectors
from accounts.http import AuthedRequest
from accounts.models import Account
from accounts.roles import can_edit_account, sees_all_writes
from accounts.selectors import account_timeline
from accounts.support import selectors as support_selectors
from accounts.support.selectors import account_engagements
from onboarding import selectors as onboarding_selectors
from success.alerts import selectors as alerts_selectors
from success.health import selectors as health_selectors
from success.playbooks import selectors as playbooks_selectors
from success.playbooks.forms import StartForm as PlaybookStartForm
from success.selectors.overview import account_success

_APP: dict[str, Any] = settings.TEMPLATES[0]
_OPTIONS = {k: v for k, v in _APP["OPTIONS"].items() if k != "loaders"}
BEFORE = DjangoTemplates(
    {
        "NAME": "account_page_before",
        "DIRS": [Path(__file__).parent / "account_page_templates", *_APP["DIRS"]],
        "APP_DIRS": True,
        "OPTIONS": _OPTIONS,
    }
)


# lifecycle/timeline.py as it was
@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    summary: str
    link: str
    kind: str
    actor: Any


def account_timeline_entries(*, account: Account, limit: int = 50) -> list[TimelineEntry]:
    """The latest `limit` entries of both sources (two queries)."""
    entries = [
        TimelineEntry(e.occurred_at, e.summary, e.link, e.get_kind_display(), e.actor)
        for e in account_timeline(account=account, limit=limit)
    ]
    for g in account_engagements(account_id=account.pk, limit=limit):
        direction = f" ({g.get_direction_display().lower()})" if g.direction else ""
        summary = f"{g.get_kind_display()}{direction}: {g.subject or 'no subject'}"
        if g.contact is not None:
            summary += f" · with {g.contact.name}"
        kind = f"{g.get_kind_display()} (CRM)"
        entries.append(TimelineEntry(g.occurred_at, summary[:500], g.hubspot_url, kind, g.owner))
    entries.sort(key=lambda entry: entry.occurred_at, reverse=True)
    return entries[:limit]


def _support_panel(account: Account) -> dict[str, Any]:
    return {
        "figures": support_selectors.account_support_figures(account_id=account.pk),
        "open_tickets": support_selectors.account_open_tickets(account_id=account.pk),
        "responses": support_selectors.account_survey_responses(account_id=account.pk),
        "touches": support_selectors.account_last_touches(account_id=account.pk),
    }


def account_overview_before(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(selectors.portfolio_accounts(), pk=pk)
    context = {
        "account": account,
        "today": timezone.localdate(),
        "can_edit": can_edit_account(request.user, account),
        "can_reassign": sees_all_writes(request.user),
        "contacts": selectors.account_contacts(account=account),
        "deals": selectors.account_deals(account=account),
        "timeline": account_timeline_entries(account=account),
        "support": _support_panel(account),
        "usage": selectors.account_latest_usage(account=account),
        "onboarding_plans": onboarding_selectors.account_plans(account=account),
        "success": account_success(account=account),
        "health": health_selectors.account_health(account=account, today=timezone.localdate()),
        "alerts": alerts_selectors.account_live_alerts(account_id=account.pk),
        "playbook_runs": playbooks_selectors.account_runs(account_id=account.pk),
        "playbook_start_form": PlaybookStartForm(),
        "hubspot_installed": apps.is_installed("accounts.hubspot"),
        "sync_conflicts": selectors.open_conflicts_count(account_id=account.pk)
        if account.hubspot_id
        else 0,
    }
    return HttpResponse(BEFORE.get_template("lifecycle/account.html").render(context, request))


urlpatterns = [
    path("_before/accounts/<int:pk>/", account_overview_before),
    *import_module("lifecycle.urls").urlpatterns,
]
