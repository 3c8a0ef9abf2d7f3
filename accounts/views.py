"""Pages that change accounts, contacts, deals, and CSV imports."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from . import services
from .forms import (
    AccountCreateForm,
    AccountForm,
    ContactForm,
    CsvUploadForm,
    DealForm,
    ReassignForm,
    StageChangeForm,
)
from .http import AuthedRequest, form_post, is_htmx
from .imports import (
    Preview,
    columns_for,
    import_apply,
    import_batch_create,
    import_batch_preview,
    rows_to_csv,
)
from .models import Account, Contact, Deal, ImportBatch
from .roles import require_account_edit, require_leader


@require_http_methods(["GET", "POST"])
def account_create(request: AuthedRequest) -> HttpResponse:
    require_leader(request.user)
    form = AccountCreateForm(request.POST or None)
    if done := form_post(
        request,
        form,
        lambda: services.account_create(by=request.user, **form.cleaned_data),
        success=lambda account: f"Created {account.name}.",
        then=lambda account: account,
    ):
        return done
    return render(request, "accounts/account_form.html", {"form": form, "account": None})


@require_http_methods(["GET", "POST"])
def account_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    form = AccountForm(request.POST or None, instance=Account.objects.get(pk=pk))
    if done := form_post(
        request,
        form,
        lambda: services.account_update(
            account=account,
            by=request.user,
            data={f: form.cleaned_data[f] for f in form.Meta.fields},
        ),
        success="Saved.",
        then=account,
    ):
        return done
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


@require_http_methods(["GET", "POST"])
def account_stage(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    form = StageChangeForm(request.POST or None, account=account)
    if done := form_post(
        request,
        form,
        lambda: services.account_stage_change(
            account=account,
            to_stage=form.cleaned_data["to_stage"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        ),
        # Read after the service: the stage it set.
        success=lambda _: f"Stage is now {account.get_stage_display()}.",
        then=account,
    ):
        return done
    return render(request, "accounts/stage_form.html", {"form": form, "account": account})


@require_http_methods(["GET", "POST"])
def account_reassign(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    require_leader(request.user)
    form = ReassignForm(request.POST or None, initial={"owner": account.owner})
    if done := form_post(
        request,
        form,
        lambda: services.account_reassign(
            account=account, owner=form.cleaned_data["owner"], by=request.user
        ),
        # Read after the service: the owner it set.
        success=lambda _: f"{account.name} now belongs to {account.owner or 'nobody'}.",
        then=account,
    ):
        return done
    return render(request, "accounts/reassign_form.html", {"form": form, "account": account})


@require_http_methods(["GET", "POST"])
def contact_edit(request: AuthedRequest, pk: int, contact_pk: int | None = None) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    contact = get_object_or_404(Contact, pk=contact_pk, account=account) if contact_pk else None
    form = ContactForm(request.POST or None, instance=contact)
    if done := form_post(
        request,
        form,
        lambda: services.contact_save(
            account=account, contact=contact, by=request.user, data=form.cleaned_data
        ),
        success="Contact saved.",
        then=account,
    ):
        return done
    return render(
        request,
        "accounts/contact_form.html",
        {"form": form, "account": account, "contact": contact},
    )


@require_http_methods(["GET", "POST"])
def deal_edit(request: AuthedRequest, pk: int, deal_pk: int | None = None) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    require_account_edit(request.user, account)
    deal = get_object_or_404(Deal, pk=deal_pk, account=account) if deal_pk else None
    form = DealForm(request.POST or None, instance=deal)
    if done := form_post(
        request,
        form,
        lambda: services.deal_save(
            account=account, deal=deal, by=request.user, data=form.cleaned_data
        ),
        success="Deal saved.",
        then=account,
    ):
        return done
    return render(
        request, "accounts/deal_form.html", {"form": form, "account": account, "deal": deal}
    )


@require_http_methods(["GET", "POST"])
def import_upload(request: AuthedRequest, kind: str) -> HttpResponse:
    require_leader(request.user)
    if kind not in ImportBatch.Kind.values:
        raise Http404("Unknown import kind")
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = import_batch_create(
            kind=kind,
            filename=form.filename,
            content=form.cleaned_data["file"],
            by=request.user,
        )
        return redirect("accounts:import_preview", pk=batch.pk)
    return render(
        request,
        "accounts/import_upload.html",
        {"form": form, "kind": ImportBatch.Kind(kind), "columns": columns_for(kind)},
    )


# The preview lists rows with errors first; past this many, the skipped-rows CSV has them.
ROWS_SHOWN = 500


@require_http_methods(["GET", "POST"])
def import_preview(request: AuthedRequest, pk: int) -> HttpResponse:
    require_leader(request.user)
    if is_htmx(request) and request.method == "GET":
        # Polled every second while the worker works: its counters, not the stored rows.
        polled = (
            ImportBatch.objects.defer("content", "preview")
            .annotate(checked=Q(preview__isnull=False))
            .filter(pk=pk)
            .first()
        )
        if polled is None:
            raise Http404("No such import")
        if polled.checked and polled.status != ImportBatch.Status.IMPORTING:
            # Done: the whole page changes (counts, rows written, links).
            return HttpResponse(headers={"HX-Refresh": "true"})
        context = {"batch": polled, "working": True, "checked": polled.checked}
        return render(request, "accounts/import_preview.html#progress", context)
    batch = get_object_or_404(ImportBatch.objects.select_related("created_by"), pk=pk)
    if request.method == "POST" and batch.status == ImportBatch.Status.PREVIEW:
        if request.POST.get("action") == "cancel":
            batch.status = ImportBatch.Status.CANCELLED
            batch.save(update_fields=["status"])
            messages.info(request, "Import cancelled; nothing was written.")
            return redirect("portfolio")
        try:
            queued = import_apply(
                batch=batch,
                by=request.user,
                valid_only=request.POST.get("action") == "valid_only",
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Importing {queued} row(s).")
            return redirect("accounts:import_preview", pk=batch.pk)
    working = batch.preview is None or batch.status == ImportBatch.Status.IMPORTING
    preview = None if batch.preview is None else Preview.from_json(batch.kind, batch.preview)
    return render(
        request,
        "accounts/import_preview.html",
        {
            "batch": batch,
            "preview": preview,
            "working": working,
            "checked": batch.preview is not None,
            "shown": (preview.invalid + preview.valid)[:ROWS_SHOWN] if preview else [],
            "rows_shown": ROWS_SHOWN,
        },
    )


@require_GET
def import_skipped(request: AuthedRequest, pk: int) -> HttpResponse:
    require_leader(request.user)
    batch = get_object_or_404(ImportBatch, pk=pk)
    preview = import_batch_preview(batch=batch)
    response = HttpResponse(
        rows_to_csv(preview.columns, preview.invalid), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="skipped-rows-{batch.pk}.csv"'
    return response
