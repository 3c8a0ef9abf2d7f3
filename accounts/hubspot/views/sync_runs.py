"""HubSpot pages: the admin status page (runs with live progress, errors, quarantine,
cursors, owner mapping), the sync issues page, the sync journal, and the webhook
receiver (signed, not logged in)."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthedRequest
from accounts.hubspot import selectors, services, webhooks
from accounts.hubspot.inbound.page_context import OWNER_ISSUES
from accounts.hubspot.models import SyncIssue, SyncRun
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import Account, OwnerLink, User
from accounts.roles import admin_required

logger = logging.getLogger(__name__)
JOURNAL_PAGE_SIZE = 50


class OwnerMapForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True), required=False, empty_label="No user"
    )


@never_cache
@require_GET
@admin_required
def status(request: AuthedRequest) -> HttpResponse:
    """Connection, budget, counts, runs with progress, cursors and unmatched owners.
    htmx refreshes the runs part every few seconds; without JS, a running import makes
    the page reload itself."""
    runs = selectors.recent_runs()
    context = {
        "runs": runs,
        "active": any(r.is_active for r in runs),
        "failed_runs": [r for r in runs if r.status == SyncRun.Status.FAILED],
    }
    if getattr(request, "htmx", False):
        return render(request, "hubspot/status.html#runs", context)
    context.update(
        {
            "connection": selectors.connection_status(),
            "counts": selectors.synced_counts(),
            "cursors": selectors.cursors(),
            "two_way": selectors.two_way_summary(),
            "unmatched_owners": selectors.unmatched_owners(),
            "owner_form": OwnerMapForm(),
            "users": User.objects.filter(is_active=True).order_by("email"),
        }
    )
    return render(request, "hubspot/status.html", context)


@require_POST
@admin_required
def import_start(request: AuthedRequest) -> HttpResponse:
    run = services.sync_run_queue(kind=SyncRun.Kind.IMPORT)
    messages.success(request, f"Full import #{run.pk} queued.")
    return redirect("hubspot:status")


@require_POST
@admin_required
def sync_start(request: AuthedRequest) -> HttpResponse:
    run = services.sync_run_queue(kind=SyncRun.Kind.POLL)
    messages.success(request, f"Incremental sync #{run.pk} queued.")
    return redirect("hubspot:status")


def _owner_mapped(
    request: AuthedRequest, *, hubspot_owner_id: str, label: str, user: User | None
) -> None:
    """One path for both pages: save the mapping, apply it to the owner's companies, and
    say what happened in the same words."""
    if user is None:
        messages.error(request, f"Choose the user HubSpot owner {label} is.")
        return
    try:
        written = services.owner_map(
            hubspot_owner_id=hubspot_owner_id, user=user, client=HubSpotClient.from_settings()
        )
    except HubSpotError as exc:
        messages.error(
            request,
            f"HubSpot owner {label} is mapped to {user}, but its companies could not be "
            f"read ({exc}); the next sync applies it.",
        )
        return
    messages.success(
        request, f"HubSpot owner {label} is {user}: {written.updated} account(s) updated."
    )


@require_POST
@admin_required
def owner_map(request: AuthedRequest, pk: int) -> HttpResponse:
    """Map an unmatched HubSpot owner from the status page."""
    link = get_object_or_404(OwnerLink, pk=pk)
    form = OwnerMapForm(request.POST)
    _owner_mapped(
        request,
        hubspot_owner_id=link.hubspot_owner_id,
        label=link.email or link.hubspot_owner_id,
        user=form.cleaned_data["user"] if form.is_valid() else None,
    )
    return redirect("hubspot:status")


@never_cache
@require_GET
@admin_required
def issues(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "hubspot/issues.html",
        {"issues": selectors.open_issues()[:500], "owner_form": OwnerMapForm()},
    )


@require_POST
@admin_required
def owner_issue_map(request: AuthedRequest, pk: int) -> HttpResponse:
    """Map a HubSpot owner Lifecycle could not name from its owner issue."""
    issue = get_object_or_404(SyncIssue, pk=pk, object_type=OWNER_ISSUES, resolved_at__isnull=True)
    form = OwnerMapForm(request.POST)
    _owner_mapped(
        request,
        hubspot_owner_id=issue.hubspot_id,
        label=issue.hubspot_id,
        user=form.cleaned_data["user"] if form.is_valid() else None,
    )
    return redirect("hubspot:issues")


@require_POST
@admin_required
def issues_retry(request: AuthedRequest) -> HttpResponse:
    run = services.sync_run_queue(kind=SyncRun.Kind.RETRY)
    messages.success(request, f"Retry #{run.pk} of quarantined records queued.")
    return redirect("hubspot:issues")


@require_GET
@admin_required
def journal(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.journal(), JOURNAL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hubspot/journal.html", {"page": page, "account": None})


@require_GET
def account_journal(request: AuthedRequest, pk: int) -> HttpResponse:
    """Everyone who reads an account reads what the sync changed on it."""
    account = get_object_or_404(Account, pk=pk)
    changes = selectors.journal(account=account)
    page = Paginator(changes, JOURNAL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hubspot/journal.html", {"page": page, "account": account})


@login_not_required
@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest) -> HttpResponse:
    """HubSpot's webhook target: verify, store in one insert, enqueue, answer."""
    delivery = webhooks.Delivery(
        method=request.method or "POST",
        uri=request.build_absolute_uri(),
        body=request.body,
        headers={k.lower(): v for k, v in request.headers.items()},
    )
    try:
        version = webhooks.signature_verify(delivery, secret=settings.HUBSPOT_CLIENT_SECRET)
        parsed = webhooks.events_parse(request.body)
    except webhooks.Rejected as exc:
        logger.warning(
            "HubSpot webhook rejected (%s): %s; %d bytes from %s",
            exc.status,
            exc.reason,
            len(request.body),
            request.META.get("REMOTE_ADDR", ""),
        )
        return HttpResponse(exc.reason, status=exc.status, content_type="text/plain")
    # Refused events are kept aside with their reason; the rest of the delivery is
    # stored, and we answer 2xx so HubSpot does not resend the valid events forever.
    for event, reason in parsed.refused:
        logger.warning(
            "HubSpot webhook event refused: %s; %s",
            reason,
            webhooks.refused_summary(event),
        )
    webhooks.events_quarantine(parsed.refused)
    stored = webhooks.events_store(parsed.events) if parsed.events else 0
    if stored:
        services.events_apply_soon()  # one pending apply task at most
    logger.info(
        "HubSpot webhook (%s): %d events, %d new, %d refused",
        version,
        len(parsed.events),
        stored,
        len(parsed.refused),
    )
    return HttpResponse(status=204)


@require_POST
@admin_required
def issue_link(request: AuthedRequest, pk: int) -> HttpResponse:
    """Link a quarantined company to the candidate account a person picked."""
    issue = get_object_or_404(SyncIssue, pk=pk, resolved_at__isnull=True)
    choices = {int(c["id"]) for c in issue.candidates}
    try:
        account_pk = int(request.POST.get("account", ""))
    except ValueError:
        account_pk = 0
    if account_pk not in choices:
        messages.error(request, "Pick one of the accounts listed for this company.")
        return redirect("hubspot:issues")
    account = get_object_or_404(Account, pk=account_pk)
    try:
        services.issue_link(issue=issue, account=account, client=HubSpotClient.from_settings())
    except (ValueError, HubSpotError) as exc:
        messages.error(request, str(exc))
        return redirect("hubspot:issues")
    messages.success(request, f"HubSpot company {issue.hubspot_id} linked to {account.name}.")
    return redirect("hubspot:issues")


@require_POST
@admin_required
def issue_create_new(request: AuthedRequest, pk: int) -> HttpResponse:
    issue = get_object_or_404(SyncIssue, pk=pk, resolved_at__isnull=True)
    try:
        services.issue_create_new(issue=issue, client=HubSpotClient.from_settings())
    except (ValueError, HubSpotError) as exc:
        messages.error(request, str(exc))
        return redirect("hubspot:issues")
    messages.success(request, f"HubSpot company {issue.hubspot_id} imported as a new account.")
    return redirect("hubspot:issues")
