"""My work: everything due for the signed-in person, across plans, playbooks,
reviews and renewals, in sections by when it is due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape as _esc

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from accounts import selectors as account_selectors
from accounts.formats import date_display
from accounts.http import AuthedRequest
from accounts.links import url_for_ids
from accounts.models import User

from ..selectors import work
from ..selectors.work import WorkItem


def _row_html(
    i: WorkItem, *, today: date, done_url: Callable[[int], str], done_form_tail: str
) -> SafeString:
    """One table row, written in Python: a CSM's list is a thousand rows and more,
    and the template's per-row tags and filters cost more than its SQL
    (docs/performance.md). The markup is what the row template wrote."""
    if i.due:
        when = f'<time datetime="{i.due.isoformat()}">{date_display(i.due)}</time>'
        if i.overdue:
            when += '<br><span class="succ-late small">overdue</span>'
        elif i.due == today:
            when += '<br><span class="succ-today small">due today</span>'
    else:
        when = '<span class="muted">No date</span>'
    done = ""
    if i.task_id:
        done = (
            f'<form method="post" action="{_esc(done_url(i.task_id))}" class="succ-inline">'
            f"{done_form_tail}"
        )
    # html.escape is what Django's escape calls, without its lazy-string wrapper
    # (a third of the rows' cost); every value here is a plain string.
    return mark_safe(  # every value below is escaped or ours
        f'<tr class="{"succ-row-overdue" if i.overdue else ""}">\n'
        f"        <td>{when}</td>\n"
        f'        <td><a class="row-title" href="{_esc(i.url)}">{_esc(i.title)}</a><br>'
        f'<span class="muted small">{_esc(i.detail)}</span></td>\n'
        f'        <td><a href="{_esc(i.account_url)}">{_esc(i.account_name)}</a></td>\n'
        f'        <td class="hide-sm"><span class="badge succ-kind-{_esc(i.kind)}">'
        f"{_esc(i.kind_label)}</span></td>\n"
        f"        <td>{done}</td>\n      </tr>"
    )


@dataclass(frozen=True, slots=True)
class _ShownSection:
    key: str
    title: str
    count: int
    rows: SafeString
    more: int  # items of the section not on this view


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _section_page(user: User, today: date, key: str, number: int) -> list[work.WorkSection]:
    first = (number - 1) * work.PER_PAGE
    return work.work_sections(user=user, today=today, show=(key,), first=first, limit=work.PER_PAGE)


@require_GET
def my_work(request: AuthedRequest) -> HttpResponse:
    """What is due now (overdue, the next 7 days: each section's first rows) and
    every section's count; `?section=<key>` is one section, a page at a time
    (`&page=`). So the page is at most a hundred rows whatever the book's size."""
    today = timezone.localdate()
    user = request.user
    current = request.GET.get("section")
    page = None
    if current not in work.SECTIONS:
        current = None
        sections = work.work_sections(
            user=user, today=today, show=work.FIRST_VIEW, limit=work.PREVIEW
        )
    else:
        number = _page_number(request.GET.get("page"))
        sections = _section_page(user, today, current, number)
        page = Paginator(
            range(sections[work.SECTIONS.index(current)].count), work.PER_PAGE
        ).get_page(number)
        if page.number != number:  # past the last page: the last one, as other lists do
            sections = _section_page(user, today, current, page.number)
    conflicts = account_selectors.open_conflicts_count(owner_id=user.pk)
    # What {% csrf_token %} and the hidden `next` wrote in each row's form: one token
    # for the page, as the template's lazy `csrf_token` gave every form the same one
    # (the same token goes in the context for the page's other forms). `next` brings
    # the person back to the page they ticked the item off on.
    token = get_token(request)
    done_form_tail = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">'
        '<button class="btn btn-small" type="submit">Done</button></form>',
        token,
        request.get_full_path(),
    )
    done_url = url_for_ids("success:task_done")
    shown = [
        _ShownSection(
            key=s.key,
            title=s.title,
            count=s.count,
            rows=mark_safe(  # each row is escaped by _row_html
                "\n      ".join(
                    _row_html(i, today=today, done_url=done_url, done_form_tail=done_form_tail)
                    for i in s.items
                )
            ),
            more=s.count - len(s.items),
        )
        for s in sections
        if s.count and s.key in ((current,) if current else work.FIRST_VIEW)
    ]
    return render(
        request,
        "success/my_work.html",
        {
            "sections": sections,
            "shown": shown,
            "current": current,
            "page": page,
            "query": f"section={current}",
            "total": sum(s.count for s in sections),
            "overdue": sections[0].count,
            "csrf_token": token,
            "today": today,
            "sync_conflicts": conflicts,
        },
    )
