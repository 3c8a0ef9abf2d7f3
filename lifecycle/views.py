"""Pages that compose several apps: the portfolio and the account overview."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import selectors
from accounts.csv_stream import csv_download
from accounts.filters import OWNER_ALL, OWNER_ME, PortfolioFilter
from accounts.http import AuthedRequest, is_htmx
from accounts.models import Account
from accounts.pagination import DeferredJoinPaginator
from accounts.plain_sql import read_ahead
from accounts.portfolio_sql import portfolio_owner_page, portfolio_page
from accounts.roles import (
    Role,
    admin_required,
    can_edit_account,
    role_of,
    role_read,
    sees_all_writes,
    writes,
)

from .account_page import reads as account_page
from .account_page.panels import account_content
from .account_page.reads import AccountHead
from .rows import portfolio_rows_html, portfolio_table_html

SORTABLE = ["name", "owner", "stage", "arr", "renewal", "health", "activity"]


@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    """This week's numbers: a CSM's own book; the whole portfolio for others."""
    from .metrics.home import week_figures
    from .metrics.scope import Scope

    own_book = role_of(request.user) == Role.CSM
    scope = Scope(owner_id=request.user.pk) if own_book else Scope()
    today = timezone.localdate()
    context = {"week": week_figures(scope=scope, today=today), "own_book": own_book}
    return render(request, "lifecycle/home.html", context)


def _portfolio_filter(
    request: AuthedRequest, accounts: QuerySet[Account] | None = None
) -> PortfolioFilter:
    params: QueryDict = request.GET.copy()
    # Everyone, read first: the owner choices and sort, and this user's role.
    everyone = selectors.people()
    me = next((p for p in everyone if p.pk == request.user.pk), None)
    if me is not None:
        role_read(request.user, me.role)
    if not params.get("owner"):
        params["owner"] = OWNER_ME if role_of(request.user) == Role.CSM else OWNER_ALL
    if not params.get("sort"):
        params["sort"] = "name"
    queryset = selectors.portfolio_accounts() if accounts is None else accounts
    return PortfolioFilter(params, queryset=queryset, user=request.user, everyone=everyone)


def _query_pieces(params: QueryDict) -> dict[str, list[str]]:
    """Each parameter's `key=value` pieces, as QueryDict.urlencode writes them and
    in its order: the page's links are these with one key changed, joined by `&`
    (copying the QueryDict for each of them cost more than the rest of the head)."""
    encoding = params.encoding
    return {
        key: [urlencode({key.encode(encoding): str(v).encode(encoding)}) for v in values]
        for key, values in params.lists()
    }


def _joined(pieces: dict[str, list[str]]) -> str:
    return "&".join(piece for values in pieces.values() for piece in values)


def _sort_links(params: QueryDict) -> dict[str, dict[str, Any]]:
    """For each sortable column: the URL that sorts by it and its current direction."""
    current = params.get("sort", "name")
    pieces = _query_pieces(params)
    pieces.pop("page", None)
    links = {}
    for column in SORTABLE:
        direction = "asc" if current == column else "desc" if current == f"-{column}" else ""
        pieces["sort"] = [urlencode({"sort": f"-{column}" if current == column else column})]
        links[column] = {"url": f"?{_joined(pieces)}", "direction": direction}
    return links


@require_GET
def portfolio(request: AuthedRequest) -> HttpResponse:
    filterset = _portfolio_filter(request, selectors.portfolio_list_accounts())
    per_page = settings.PORTFOLIO_PAGE_SIZE
    number = request.GET.get("page")
    plain = filterset.plain_query()
    # The exact counts the database keeps (accounts.models.LiveAccountCount) instead of
    # counting up to every live account, unless the search, renewal window or quiet
    # days narrow them. The filter is of live accounts only (_portfolio_filter).
    counts = filterset.live_counts()
    known = None if counts is None else sum(counts.values())
    if plain is not None and plain.by_owner is not None:
        # Pages by owner without sorting every account by its owner's name.
        page = portfolio_owner_page(
            plain,
            number,
            per_page,
            people=[(p.pk, p.first_name) for p in filterset.people],
            descending=plain.by_owner,
            known_counts=counts,
        )
    elif plain is not None:
        # The count and the page's rows in one plain statement (the querysets cost
        # several times their SQL to build and compile), or the page's rows alone.
        page = portfolio_page(plain, number, per_page, known_count=known)
    else:
        # A sort plain_query does not write: the filtered queryset, as before.
        paginator = DeferredJoinPaginator(filterset.qs, per_page, known_count=known)
        page = paginator.get_page(number)
        # The page's rows as the table shows them (the count and ids read no join).
        page.object_list = selectors.portfolio_rows(cast("QuerySet[Account]", page.object_list))
    rows = cast("list[selectors.PortfolioAccount]", page.object_list)
    pieces = _query_pieces(filterset.data)
    pieces.pop("page", None)
    query = _joined(pieces)
    table = ""
    if rows:
        table = portfolio_table_html(
            page=page, rows=portfolio_rows_html(rows), sort=_sort_links(filterset.data), query=query
        )
    context = {
        "filter": filterset,
        "page": page,
        "table": table,
        "query": query,
        "filtered": any(
            filterset.data.get(k) for k in ("q", "segment", "stage", "renewal_within", "quiet_for")
        ),
    }
    template = "lifecycle/portfolio.html"
    if is_htmx(request):
        template += "#results"
    return render(request, template, context)


@require_GET
def portfolio_export(request: AuthedRequest) -> StreamingHttpResponse:
    """The filtered portfolio as CSV, streamed so a large book never sits in memory."""
    filterset = _portfolio_filter(request)

    def rows() -> Iterator[list[Any]]:
        yield [
            "id",
            "name",
            "domain",
            "owner",
            "segment",
            "stage",
            "arr",
            "currency",
            "contract_start",
            "renewal_date",
            "health_score",
            "health_band",
            "hubspot_id",
        ]
        for a in filterset.qs.iterator(chunk_size=2000):
            yield [
                a.pk,
                a.name,
                a.domain,
                a.owner.email if a.owner else "",
                a.segment,
                a.stage,
                a.arr,
                a.currency,
                a.contract_start or "",
                a.renewal_date or "",
                "" if a.health_score is None else a.health_score,
                a.health_band,
                a.hubspot_id or "",
            ]

    return csv_download(rows(), "portfolio.csv")


def account_overview_context(
    request: AuthedRequest,
    account: AccountHead,
    people: account_page.People,
    now: datetime,
) -> dict[str, Any]:
    """What the account page shows as of `now`, every panel read with one plain
    statement or two (lifecycle.account_page: the ORM's cost per query was most of the
    page's)."""
    pk = account.pk
    today = timezone.localdate(now)
    can_edit = can_edit_account(request.user, account)
    contacts, contact_names = account_page.contacts(account_id=pk)
    engagements = account_page.engagements(account_id=pk, contacts=contact_names)
    # The playbook start form's choices: read (and the form shown) only for editors.
    playbooks = account_page.startable_playbooks() if can_edit else None
    return {
        "account": account,
        "today": today,
        "can_edit": can_edit,
        "can_reassign": sees_all_writes(request.user),
        "contacts": contacts,
        "deals": account_page.deals(account_id=pk),
        "timeline": account_page.timeline(
            account_id=pk, engagement_rows=engagements, people=people
        ),
        "support": account_page.support_panel(
            account_id=pk,
            now=now,
            engagement_rows=engagements,
            contacts=contact_names,
            people=people,
        ),
        "usage": account_page.latest_usage(account_id=pk),
        "onboarding_plans": account_page.onboarding_plans(account=account),
        "success": account_page.account_success(
            account_id=pk, contacts=contact_names, people=people
        ),
        "health": account_page.health(account_id=pk, today=today, people=people),
        "alerts": account_page.live_alerts(account_id=pk),
        "playbook_runs": account_page.playbook_runs(account_id=pk),
        "startable_playbooks": playbooks,
        "hubspot_installed": apps.is_installed("accounts.hubspot"),
        "sync_conflicts": selectors.open_conflicts_count(account_id=pk)
        if account.hubspot_id
        else 0,
        "csrf_token": get_token(request),
    }


@require_GET
def account_overview(request: AuthedRequest, pk: int) -> HttpResponse:
    people = account_page.People()  # everyone the page names, read once
    now = timezone.now()
    # The panels' statements go to PostgreSQL together, in one round trip: each
    # cost more waiting for its answer than PostgreSQL spent on it.
    statements = account_page.page_statements(
        pk=pk, now=now, today=timezone.localdate(now), playbooks=writes(request.user)
    )
    with read_ahead(statements):
        account = account_page.account_head(pk=pk, people=people)
        if account is None:
            raise Http404("No account with that id.")
        context = account_overview_context(request, account, people, now)
    # The panels are written in Python (lifecycle/account_page/panels.py): as
    # template partials they cost more than the page's SQL.
    # The frame's forms take the token the playbook form was written with (each
    # get_token masks the secret anew: a third of the frame's CSRF cost).
    return render(
        request,
        "lifecycle/account.html",
        {
            "account": account,
            "content": account_content(context),
            "csrf_token": context["csrf_token"],
        },
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 that says what is missing (the message PermissionDenied carries)."""
    message = str(exception) if exception and str(exception) else ""
    return render(
        request,
        "403.html",
        {"message": message or "Your role does not allow this.", "role": role_of(request.user)},
        status=403,
    )


@require_GET
@admin_required
def settings_home(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "lifecycle/settings.html",
        {"hubspot_installed": apps.is_installed("accounts.hubspot")},
    )


def bench_bare(request: HttpRequest) -> HttpResponse:
    """bench_pages' yardstick (mounted only with settings.BENCH_BARE_VIEW)."""
    return HttpResponse("ok")
