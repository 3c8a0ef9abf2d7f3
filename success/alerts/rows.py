"""The alerts list's rows, written in Python: each row carries two forms with a
CSRF token, two `{% url %}`s and a select, and the template's per-row tags cost
more than the page's SQL (docs/performance.md). The markup is what the row
template wrote; tests/alerts compare them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from html import escape

from django.http import HttpRequest
from django.template.defaultfilters import date as date_filter
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from accounts.formats import date_display
from accounts.links import url_for_ids
from accounts.support.models import hubspot_record_url

from .models import Alert
from .selectors import AlertRow

_STATUS_LABELS = dict(Alert.Status.choices)
_LIVE = (Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED)
# HubSpot's object type ids, as Ticket.hubspot_url and FeedbackSubmission.hubspot_url.
_TICKET_TYPE, _FEEDBACK_TYPE = "0-5", "0-19"


def _e(value: object) -> str:
    """What `{{ value }}` writes for a plain value: Django's escape is html.escape
    of str(value), without the lazy-string wrapper around it."""
    return escape(str(value))


class _MonthDay(dict[date, str]):
    """`|date:"M j"` of each local day, once per day: a page's alerts were mostly
    opened on a few days, and Django's date format costs more than the row."""

    def __missing__(self, day: date) -> str:
        text = self[day] = _e(date_filter(day, "M j"))
        return text


def alert_rows(
    alerts: Iterable[AlertRow],
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
    month_day = _MonthDay()
    rows = []
    for a in alerts:
        url = account_url(a.account_id)
        link = ""
        if a.ticket_id is not None or a.feedback_id is not None:
            ticket = a.ticket_id is not None
            hubspot_url = (
                hubspot_record_url(_TICKET_TYPE, a.ticket_hubspot_id)
                if ticket
                else hubspot_record_url(_FEEDBACK_TYPE, a.feedback_hubspot_id)
            )
            if hubspot_url:
                what = (
                    "Open the ticket in HubSpot" if ticket else "Open the survey answer in HubSpot"
                )
                link = f' · <a href="{_e(hubspot_url)}" rel="noopener" target="_blank">{what}</a>'
            else:
                what = "See the ticket" if ticket else "See the survey answer"
                link = f' · <a href="{url}#support">{what}</a>'
        live = a.status in _LIVE
        reopen = (
            f'<br><span class="small reopen-note">{_e(a.reopen_note)}</span>'
            if live and a.reopen_note
            else ""
        )
        due = (
            f'<span class="badge badge-red">overdue {month_day[a.due_on]}</span>'
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
        label = _STATUS_LABELS.get(a.status, a.status)
        status = f'<span class="badge {badge}">{_e(label)}</span>'
        if (
            a.status == Alert.Status.DISMISSED
            and a.snoozed_until is not None
            and a.condition_cleared_at is None
        ):
            status += (
                f' <span class="badge badge-blue">snoozed until '
                f"{_e(date_display(a.snoozed_until))}</span>"
            )
        if a.note:
            status += f'<br><span class="muted small">{_e(a.note)}</span>'
        if a.owner_username is None:
            owner = "Unassigned"
        else:
            owner = _e(f"{a.owner_first_name} {a.owner_last_name}".strip() or a.owner_username)
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
                f'    <td><a class="row-title" href="{url}">{_e(a.account_name)}</a></td>\n'
                f'    <td>{_e(a.message)}<br><span class="muted small">{_e(a.rule_name)} · '
                f"opened {month_day[_local_day(a.opened_at)]}{link}</span>"
                f"{reopen}</td>\n"
                f"    <td>{owner}</td>\n"
                f"    <td>{due}</td>\n"
                f"    <td>{status}</td>\n"
                f"    {act}\n"
                "  </tr>"
            )
        )
    return rows


def _local_day(moment: datetime) -> date:
    return localtime(moment).date()
