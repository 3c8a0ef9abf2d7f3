"""Two-way sync pages: field ownership (admins), the conflict inbox (admins and
leaders see every conflict, CSMs those of their own accounts), replay of a time
window and the drift found by reconciliation (admins)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_q.tasks import async_task

from accounts.dates import DateTimeField
from accounts.http import AuthedRequest
from accounts.hubspot import services, twoway
from accounts.hubspot.models import Drift, FieldRule, SyncConflict, SyncRun, SyncState
from accounts.hubspot.repair import reconcile as repair
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.transport.client import client_from_settings
from accounts.hubspot.transport.errors import HubSpotError
from accounts.roles import admin_required, is_admin, require, sees_all_writes, writes

CONFLICTS_PAGE_SIZE = 25


class FieldRuleForm(forms.Form):
    field = forms.ChoiceField(choices=[(s.key, s.label) for s in fieldspecs.ACCOUNT_FIELDS])
    owner = forms.ChoiceField(choices=FieldRule.Owner.choices)
    policy = forms.ChoiceField(choices=FieldRule.Policy.choices)
    property = forms.RegexField(
        regex=r"^[a-z][a-z0-9_]{0,99}$",
        required=False,
        error_messages={"invalid": "HubSpot property names are lower case letters, digits, _."},
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        spec = fieldspecs.BY_KEY.get(str(data.get("field", "")))
        if spec is not None and data.get("owner") not in spec.owners:
            allowed = ", ".join(dict(FieldRule.Owner.choices)[o] for o in spec.owners)
            self.add_error("owner", f"{spec.label} can only be: {allowed}.")
        return data


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def field_rules(request: AuthedRequest) -> HttpResponse:
    """Who owns each synced field; one form per field, saved one at a time."""
    failed: FieldRuleForm | None = None
    if request.method == "POST":
        form = FieldRuleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            saved = twoway.rule_save(
                key=data["field"],
                owner=data["owner"],
                policy=data["policy"],
                prop=data["property"],
                by=request.user,
            )
            messages.success(
                request,
                f"{fieldspecs.BY_KEY[saved.field].label}: {saved.get_owner_display()}"
                + (f", {saved.get_policy_display().lower()}" if saved.owner == "two_way" else "")
                + ".",
            )
            return redirect("hubspot:field_rules")
        failed = form
    rows = []
    for rule in twoway.rules_load():
        if failed is not None and failed.data.get("field") == rule.key:
            form = failed
        else:
            form = FieldRuleForm(
                initial={
                    "field": rule.key,
                    "owner": rule.owner,
                    "policy": rule.policy,
                    "property": rule.property,
                }
            )
        owners = [(v, label) for v, label in FieldRule.Owner.choices if v in rule.spec.owners]
        rows.append({"rule": rule, "form": form, "owners": owners})
    status = 400 if failed is not None else 200
    return render(
        request,
        "hubspot/fields.html",
        {"rows": rows, "policies": FieldRule.Policy.choices},
        status=status,
    )


@require_POST
@admin_required
def provision_start(request: AuthedRequest) -> HttpResponse:
    async_task("accounts.hubspot.tasks.hubspot_provision", task_name="hubspot-provision")
    messages.success(
        request, "Creating Lifecycle's property group and properties in HubSpot (queued)."
    )
    return redirect("hubspot:field_rules")


def _visible_conflicts(request: AuthedRequest) -> QuerySet[SyncConflict]:
    require(writes(request.user), "Conflicts are for CSMs and leaders.")
    conflicts = SyncConflict.objects.select_related("account", "account__owner", "resolved_by")
    if not sees_all_writes(request.user):
        conflicts = conflicts.filter(account__owner=request.user)
    return conflicts


@never_cache
@require_GET
def conflicts(request: AuthedRequest) -> HttpResponse:
    show = "resolved" if request.GET.get("show") == "resolved" else "open"
    found = _visible_conflicts(request).filter(status=show)
    page = Paginator(found, CONFLICTS_PAGE_SIZE).get_page(request.GET.get("page"))
    labels = {s.key: s.label for s in fieldspecs.ACCOUNT_FIELDS}
    rules = {r.key: r for r in twoway.rules_load()}
    states = {
        s.account_id: s
        for s in SyncState.objects.filter(account_id__in=[c.account_id for c in page])
    }
    rows = []
    for conflict in page:
        rule = rules.get(conflict.field)
        state = states.get(conflict.account_id)
        now_ours = twoway.ours_value(rule, conflict.account) if rule else ""
        now_theirs = twoway.remote_of(state, rule) if rule else None
        shown = rule.spec.label_of if rule else str
        rows.append(
            {
                "conflict": conflict,
                "base": shown(conflict.base_value),
                "ours": shown(conflict.ours),
                "theirs": shown(conflict.theirs),
                "resolution": shown(conflict.resolution),
                "now_ours_label": shown(now_ours),
                "now_theirs_label": shown(now_theirs or ""),
                "label": labels.get(conflict.field, conflict.field),
                "now_ours": now_ours,
                "now_theirs": now_theirs,
                "moved": conflict.status == "open"
                and (now_ours != conflict.ours or (now_theirs not in (None, conflict.theirs))),
            }
        )
    return render(
        request,
        "hubspot/conflicts.html",
        {
            "page": page,
            "rows": rows,
            "show": show,
            "open_count": _open_count(request),
            "is_admin": is_admin(request.user),
        },
    )


def _open_count(request: AuthedRequest) -> int:
    return _visible_conflicts(request).filter(status=SyncConflict.Status.OPEN).count()


@require_POST
def conflict_resolve(request: AuthedRequest, pk: int) -> HttpResponse:
    conflict = get_object_or_404(_visible_conflicts(request), pk=pk)
    if conflict.status != SyncConflict.Status.OPEN:
        messages.info(request, "That conflict was already resolved.")
        return redirect("hubspot:conflicts")
    choice = request.POST.get("choice", "")
    value = {"ours": conflict.ours, "theirs": conflict.theirs}.get(
        choice, request.POST.get("value", "").strip()
    )
    if choice not in ("ours", "theirs", "typed"):
        messages.error(request, "Choose Lifecycle's value, HubSpot's value, or type one.")
        return redirect("hubspot:conflicts")
    try:
        twoway.conflict_resolve(conflict, value=value, by=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("hubspot:conflicts")
    from accounts.hubspot.tasks import push_soon

    push_soon([conflict.account_id])
    spec = fieldspecs.BY_KEY.get(conflict.field)
    shown = (spec.label_of(value) if spec else value) or "(cleared)"
    messages.success(
        request,
        f"{conflict.account.name}: {shown} kept; it goes to HubSpot with the next push.",
    )
    return redirect("hubspot:conflicts")


MAX_REPLAY_DAYS = 31


class ReplayForm(forms.Form):
    since = DateTimeField(
        label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = DateTimeField(label="To", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since >= until:
                self.add_error("until", "The window must end after it starts.")
            elif until - since > timedelta(days=MAX_REPLAY_DAYS):
                self.add_error("until", f"Replay at most {MAX_REPLAY_DAYS} days at a time.")
            elif since > timezone.now():
                self.add_error("since", "The window starts in the future.")
        return data


@require_POST
@admin_required
def replay_start(request: AuthedRequest) -> HttpResponse:
    """Re-apply what HubSpot changed in a window (after an outage); safe to repeat."""
    form = ReplayForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Replay not started: {error}")
        return redirect("hubspot:status")
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    run = services.sync_run_queue(
        kind=SyncRun.Kind.REPLAY,
        cursors={
            "since_ms": int(since.timestamp() * 1000),
            "until_ms": int(until.timestamp() * 1000),
        },
    )
    messages.success(
        request,
        f"Replay #{run.pk} of {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} queued.",
    )
    return redirect("hubspot:status")


@never_cache
@require_GET
@admin_required
def drift(request: AuthedRequest) -> HttpResponse:
    latest = SyncRun.objects.filter(kind=SyncRun.Kind.RECONCILE).first()
    found = Drift.objects.none()
    if latest is not None:
        found = Drift.objects.filter(run=latest, repaired_at__isnull=True).select_related("account")
    page = Paginator(found, CONFLICTS_PAGE_SIZE * 2).get_page(request.GET.get("page"))
    labels = {s.key: s.label for s in fieldspecs.ACCOUNT_FIELDS}
    rows = [
        {
            "drift": d,
            "fields": [
                (labels.get(key, key), ours, theirs) for key, (ours, theirs) in d.fields.items()
            ],
        }
        for d in page
    ]
    return render(request, "hubspot/drift.html", {"run": latest, "page": page, "rows": rows})


@require_POST
@admin_required
def reconcile_start(request: AuthedRequest) -> HttpResponse:
    run = services.sync_run_queue(kind=SyncRun.Kind.RECONCILE)
    messages.success(request, f"Reconciliation #{run.pk} queued: it reads every company.")
    return redirect("hubspot:drift")


@require_POST
@admin_required
def drift_repair(request: AuthedRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Drift.objects.select_related("account"), pk=pk)
    if found.repaired_at is not None:
        messages.info(request, "Already repaired.")
        return redirect("hubspot:drift")
    try:
        done = repair.drift_repair(found, client=client_from_settings(), by=request.user)
    except HubSpotError as exc:
        messages.error(request, f"HubSpot refused the repair: {exc}")
        return redirect("hubspot:drift")
    from accounts.hubspot.tasks import push_soon

    push_soon([found.account_id] if found.account_id else [])
    messages.success(request, f"{found.account or found.hubspot_id}: {done}.")
    return redirect("hubspot:drift")
