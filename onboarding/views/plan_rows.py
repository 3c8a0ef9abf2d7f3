"""The onboarding list's rows, written in Python: two `{% include %}`s (status
badge, progress bar), a `reverse` and three filters per row cost more than the
page's SQL (docs/performance.md). The markup is what the row template wrote;
tests/onboarding/test_plan_rows.py compares them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe

from accounts.formats import date_display
from accounts.links import url_for_ids

from ..models import PlanStatus
from ..selectors import PlanRow
from ..templatetags.onboarding_tags import due_in_words

_STATUS_LABELS = dict(PlanStatus.choices)


def _e(value: object) -> str:
    """What `{{ value }}` writes for a plain value: Django's escape is html.escape
    of str(value), without the lazy-string wrapper around it."""
    return escape(str(value))


def plan_rows(plans: Iterable[PlanRow], *, today: date) -> SafeString:
    plan_url = url_for_ids("onboarding:plan")
    out = []
    for p in plans:
        status = _e(p.status)
        if p.owner_username is None:
            owner = "Unassigned"
        else:
            owner = _e(f"{p.owner_first_name} {p.owner_last_name}".strip() or p.owner_username)
        if p.next_title:
            late = "onb-late" if p.next_due is not None and p.next_due < today else "muted"
            due = date_display(p.next_due) if p.next_due is not None else ""
            nxt = (
                f'{_e(p.next_title)}<br><span class="small {late}">due {due} · '
                f"{_e(due_in_words(p.next_due, today))}</span>"
            )
        else:
            nxt = '<span class="muted">—</span>'
        progress = _e(p.progress)
        out.append(
            f'\n      <tr class="onb-row-{status}">\n'
            f'        <td><a class="row-title" href="{plan_url(p.pk)}">{_e(p.account_name)}</a>'
            f'<br><span class="muted small">started {date_display(p.start_date)}</span></td>\n'
            f'        <td class="hide-sm">{owner}</td>\n'
            f'        <td class="hide-sm">{_e(p.template_name)} '
            f'<span class="muted small">v{_e(p.template_version)}</span></td>\n'
            f'        <td><span class="badge onb-status-{status}">'
            f"{_e(_STATUS_LABELS.get(p.status, p.status))}</span>\n</td>\n"
            '        <td><span class="onb-progress" role="progressbar" aria-valuemin="0" '
            f'aria-valuemax="100" aria-valuenow="{progress}" aria-label="Progress {progress}%">'
            f'<span style="width: {progress}%"></span></span> '
            f'<span class="small num">{progress}%</span>\n</td>\n'
            f"        <td>{nxt}</td>\n"
            "      </tr>\n    "
        )
    return mark_safe("".join(out))  # every value is escaped or ours
