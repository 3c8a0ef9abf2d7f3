"""Renewal pages: one renewal, its forecast and close, and the renewal pipeline
with its totals and CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as account_services
from accounts.csv_stream import csv_download
from accounts.formats import date_display, money_display
from accounts.http import AuthedRequest, action_post, form_post, is_htmx
from accounts.models import ForecastCategory
from accounts.roles import Role, can_edit_account, require_account_edit, role_of

from .. import services
from ..forms import OWNER_ALL, OWNER_ME, ForecastForm, RenewalCloseForm, RenewalFilter
from ..models import Renewal
from ..selectors import renewals as selectors
from .common import form_page
from .renewal_rows import renewal_rows


@require_GET
def renewal(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        instance = selectors.renewal_detail(pk=pk)
    except Renewal.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "success/renewal.html",
        {
            "renewal": instance,
            "account": instance.account,
            "history": selectors.renewal_history(renewal=instance),
            "movements": instance.arr_movements.all(),
            "can_edit": can_edit_account(request.user, instance.account),
        },
    )


@require_http_methods(["GET", "POST"])
def renewal_forecast(request: AuthedRequest, pk: int) -> HttpResponse:
    renewal = get_object_or_404(Renewal.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, renewal.account)
    if not renewal.is_open:
        messages.info(request, "This renewal is closed.")
        return redirect(renewal)
    form = ForecastForm(
        request.POST or None,
        initial={
            "category": renewal.forecast_category or ForecastCategory.LIKELY,
            "forecast_arr": renewal.forecast_arr,
        },
    )
    if done := form_post(
        request,
        form,
        lambda: services.renewal_forecast_change(
            renewal=renewal, by=request.user, **form.cleaned_data
        ),
        success=lambda changed: f"Forecast is now {changed.get_forecast_category_display()}.",
        then=renewal,
    ):
        return done
    return form_page(
        request,
        form=form,
        account=renewal.account,
        title=f"Forecast the renewal of {date_display(renewal.renewal_date)}",
        intro=f"{money_display(renewal.current_arr, renewal.account.currency)} up for renewal.",
        submit="Save forecast",
        back=renewal.get_absolute_url(),
    )


@require_http_methods(["GET", "POST"])
def renewal_close(request: AuthedRequest, pk: int) -> HttpResponse:
    renewal = get_object_or_404(Renewal.objects.select_related("account"), pk=pk)
    require_account_edit(request.user, renewal.account)
    if not renewal.is_open:
        messages.info(request, "This renewal is closed.")
        return redirect(renewal)
    form = RenewalCloseForm(
        request.POST or None,
        initial={"new_arr": renewal.forecast_arr, "closed_on": timezone.localdate()},
    )

    def close() -> None:
        data = form.cleaned_data
        if data["outcome"] == "renewed":
            services.renewal_renew(
                renewal=renewal, new_arr=data["new_arr"], on=data["closed_on"], by=request.user
            )
            messages.success(request, "Renewed; the contract rolled forward.")
        else:
            services.renewal_churn(
                renewal=renewal,
                reason=data["churn_reason"],
                note=data["note"],
                on=data["closed_on"],
                by=request.user,
            )
            # A churn is news, not a success.
            messages.warning(request, f"{renewal.account.name} churned.")

    if done := form_post(request, form, close, success="", then=renewal):
        return done
    return form_page(
        request,
        form=form,
        account=renewal.account,
        title=f"Close the renewal of {date_display(renewal.renewal_date)}",
        intro=f"Current ARR {money_display(renewal.account.arr, renewal.account.currency)}.",
        submit="Close renewal",
        back=renewal.get_absolute_url(),
    )


def _renewal_filter(request: AuthedRequest) -> RenewalFilter:
    params: QueryDict = request.GET.copy()
    if not params.get("owner"):
        params["owner"] = OWNER_ME if role_of(request.user) == Role.CSM else OWNER_ALL
    return RenewalFilter(params, queryset=selectors.renewals_pipeline(), user=request.user)


@require_GET
def renewals(request: AuthedRequest) -> HttpResponse:
    filterset = _renewal_filter(request)
    group = "quarter" if request.GET.get("group") == "quarter" else "month"
    periods = selectors.renewals_totals(renewals=filterset.qs, group=group)
    total = selectors.grand_totals(periods)
    paginator = Paginator(selectors.renewals_page_rows(filterset.qs), settings.PORTFOLIO_PAGE_SIZE)
    # The totals counted the same renewals: no COUNT query of its own.
    paginator.count = total.count
    page = paginator.get_page(request.GET.get("page"))
    query = filterset.data.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "group": group,
        "periods": periods,
        "total": total,
        "rows": renewal_rows(map(selectors.RenewalRow._make, page.object_list)),
        "category_labels": selectors.CATEGORY_LABELS,
        "lead_days": settings.SUCCESS_RENEWAL_LEAD_DAYS,
        "page": page,
        "query": query.urlencode(),
    }
    template = "success/renewals.html"
    if is_htmx(request):
        template += "#results"
    return render(request, template, context)


@require_GET
def renewals_export(request: AuthedRequest) -> StreamingHttpResponse:
    """The filtered renewal pipeline as CSV, streamed."""
    filterset = _renewal_filter(request)

    def rows() -> Iterator[list[Any]]:
        yield [
            "renewal_id",
            "account_id",
            "account",
            "owner",
            "segment",
            "renewal_date",
            "currency",
            "arr_up_for_renewal",
            "forecast_category",
            "forecast_arr",
            "health_band",
        ]
        for r in filterset.qs.order_by("renewal_date", "pk").iterator(chunk_size=2000):
            yield [
                r.pk,
                r.account_id,
                r.account.name,
                r.account.owner.email if r.account.owner else "",
                r.account.segment,
                r.renewal_date,
                r.account.currency,
                r.current_arr,
                r.forecast_category,
                "" if r.forecast_arr is None else r.forecast_arr,
                r.account.health_band,
            ]

    return csv_download(rows(), "renewals.csv")


@require_POST
def renewal_deal_recreate(request: AuthedRequest, pk: int) -> HttpResponse:
    """A person asks for the renewal's deal, deleted in HubSpot, to be made there again."""
    renewal = get_object_or_404(Renewal.objects.select_related("account", "deal"), pk=pk)
    require_account_edit(request.user, renewal.account)
    deal = renewal.deal
    if deal is None:
        raise Http404
    return action_post(
        request,
        lambda: account_services.deal_recreate(deal=deal, by=request.user),
        success="The renewal deal will be made again in HubSpot.",
        then=renewal,
    )
