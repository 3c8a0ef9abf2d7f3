"""My work: everything due for the signed-in person, across plans, reviews and
renewals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape as _esc

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

from ..selectors import overview
from ..selectors.overview import WorkItem


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


@require_GET
def my_work(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    items = overview.my_work(user=request.user, today=today)
    conflicts = account_selectors.open_conflicts_count(owner_id=request.user.pk)
    # What {% csrf_token %} and the hidden `next` wrote in each row's form: one token
    # for the page, as the template's lazy `csrf_token` gave every form the same one
    # (the same token goes in the context for the page's other forms).
    token = get_token(request)
    done_form_tail = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">'
        '<button class="btn btn-small" type="submit">Done</button></form>',
        token,
        request.path,
    )
    done_url = url_for_ids("success:task_done")
    rows = [
        _row_html(i, today=today, done_url=done_url, done_form_tail=done_form_tail) for i in items
    ]
    return render(
        request,
        "success/my_work.html",
        {
            "items": items,
            "rows": rows,
            "csrf_token": token,
            "today": today,
            "overdue": sum(1 for i in items if i.overdue),
            "sync_conflicts": conflicts,
        },
    )
