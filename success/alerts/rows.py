"""The alerts list's rows, written in Python: each row carries two forms with a
CSRF token, two `{% url %}`s and a select, and the template's per-row tags cost
more than the page's SQL (docs/performance.md). The markup is what the row
template wrote; tests/alerts compare them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from html import escape

from django.http import HttpRequest
from django.template.defaultfilters import date as date_filter
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from accounts.formats import date_display
from accounts.links import url_for_ids

from .models import Alert


def _e(value: object) -> str:
    """What `{{ value }}` writes for a plain value: Django's escape is html.escape
    of str(value), without the lazy-string wrapper around it."""
    return escape(str(value))


def alert_rows(
    alerts: Iterable[Alert],
    *,
    request: HttpRequest,
    csrf_token: str,
    today: date,
    can_write: bool,
    snooze_choices: Iterable[tuple[object, object]],
) -> list[SafeString]:
    account_url = url_for_ids("account")
    close_url = url_for_ids("alerts:close")
    # One token and one `next` for the page, as the template's lazy `csrf_token`
    # and `request.get_full_path` gave every row the same ones (the view puts the
    # same token in the page's context).
    hidden = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">'
        f'<input type="hidden" name="next" value="{_e(request.get_full_path())}">'
    )
    options = "".join(
        f'<option value="{_e(v)}">{_e(label)}</option>' for v, label in snooze_choices
    )
    rows = []
    for a in alerts:
        url = account_url(a.account_id)
        record = a.record
        link = ""
        if record:
            if record.hubspot_url:
                what = (
                    "Open the ticket in HubSpot"
                    if a.ticket
                    else "Open the survey answer in HubSpot"
                )
                link = (
                    f' · <a href="{_e(record.hubspot_url)}" rel="noopener" target="_blank">'
                    f"{what}</a>"
                )
            else:
                what = "See the ticket" if a.ticket else "See the survey answer"
                link = f' · <a href="{url}#support">{what}</a>'
        live = a.is_live
        reopen = (
            f'<br><span class="small reopen-note">{_e(a.reopen_note)}</span>'
            if live and a.reopen_note
            else ""
        )
        due = (
            f'<span class="badge badge-red">overdue {_e(date_filter(a.due_on, "M j"))}</span>'
            if live and a.due_on < today
            else _e(date_display(a.due_on))
        )
        badge = (
            "badge-yellow"
            if a.status == "open"
            else "badge-green"
            if a.status == "resolved"
            else ""
        )
        status = f'<span class="badge {badge}">{_e(a.get_status_display())}</span>'
        if a.is_snoozed:
            status += (
                f' <span class="badge badge-blue">snoozed until '
                f"{_e(date_display(a.snoozed_until))}</span>"
            )
        if a.note:
            status += f'<br><span class="muted small">{_e(a.note)}</span>'
        act = ""
        if can_write:
            inner = ""
            if live:
                action = close_url(a.pk)
                acknowledge = (
                    '<button class="btn btn-small" type="submit" name="status" '
                    'value="acknowledged">Acknowledge</button>'
                    if a.status == "open"
                    else ""
                )
                pk = a.pk
                inner = (
                    f'<div class="alert-actions"><form method="post" action="{action}">{hidden}\n'
                    f"      {acknowledge}\n"
                    '      <button class="btn btn-small" type="submit" name="status" '
                    'value="resolved">Resolve</button></form>\n'
                    '      <details><summary class="btn btn-small btn-danger">Dismiss…</summary>\n'
                    f'        <form method="post" action="{action}" class="inline-form">{hidden}'
                    '<input type="hidden" name="status" value="dismissed">\n'
                    f'        <label class="sr-only" for="note-{pk}">Why dismiss?</label>'
                    f'<input id="note-{pk}" type="text" name="note" '
                    'placeholder="Why is this not a problem?" required>\n'
                    f'        <label class="sr-only" for="snooze-{pk}">Quiet until</label>'
                    f'<select id="snooze-{pk}" name="snooze_days">{options}</select>'
                    '<button class="btn btn-small btn-danger" type="submit">Dismiss</button>'
                    "</form>\n"
                    "      </details></div>"
                )
            act = f"<td>{inner}</td>"
        rows.append(
            mark_safe(  # every value is escaped or ours
                "<tr>\n"
                f'    <td><a class="row-title" href="{url}">{_e(a.account.name)}</a></td>\n'
                f'    <td>{_e(a.message)}<br><span class="muted small">{_e(a.rule.name)} · '
                f"opened {_e(date_filter(localtime(a.opened_at), 'M j'))}{link}</span>"
                f"{reopen}</td>\n"
                f"    <td>{_e(a.owner) if a.owner else 'Unassigned'}</td>\n"
                f"    <td>{due}</td>\n"
                f"    <td>{status}</td>\n"
                f"    {act}\n"
                "  </tr>"
            )
        )
    return rows
