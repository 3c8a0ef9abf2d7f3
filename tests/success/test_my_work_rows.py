"""My work writes its rows in Python (success/views/my_work.py, for speed:
docs/performance.md); they must be the markup the row template wrote. The
template next to this file is that row loop as it was, rendered by Django for
the same items: tasks, action items, objectives' tasks, undated, overdue, due
today, reviews and renewals, with names that need escaping; section by section,
on the page that shows each (a row's `next` is that page, query string included)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.template import engines
from django.urls import reverse

from accounts.models import ForecastCategory
from success.selectors.work import SECTIONS, work_sections
from tests.factories import (
    AccountFactory,
    BusinessReviewFactory,
    ObjectiveFactory,
    RenewalFactory,
    SuccessTaskFactory,
)

ROW_TEMPLATE = (Path(__file__).parent / "my_work_row_template.html").read_text()


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def test_rows_are_the_row_templates_markup(client: Any, csm: Any) -> None:
    today = date.today()
    account = AccountFactory.create(owner=csm, name="Acme & <Co>", currency="EUR")
    review = BusinessReviewFactory.create(
        account=account, owner=csm, scheduled_for=today - timedelta(days=2)
    )
    BusinessReviewFactory.create(account=account, owner=csm, scheduled_for=today)
    objective = ObjectiveFactory.create(plan__account=account, title="Adopt <reports>")
    SuccessTaskFactory.create(account=account, assignee_user=csm, title="Call 'them' & <co>")
    SuccessTaskFactory.create(account=account, assignee_user=csm, due_date=None)
    SuccessTaskFactory.create(account=account, assignee_user=csm, due_date=today)
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, review=review, due_date=today - timedelta(days=9)
    )
    SuccessTaskFactory.create(account=account, assignee_user=csm, objective=objective)
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, title="Plan the <QBR>", due_date=today + timedelta(30)
    )
    RenewalFactory.create(account=account, forecast_category=ForecastCategory.COMMIT)
    RenewalFactory.create(
        account=AccountFactory.create(owner=csm), renewal_date=today - timedelta(days=1)
    )
    client.force_login(csm)

    sections = work_sections(user=csm, today=today, show=SECTIONS, limit=None)
    assert {i.kind for s in sections for i in s.items} == {"task", "action", "review", "renewal"}
    assert all(s.items for s in sections)  # every section has rows to compare
    template = engines["django"].from_string(ROW_TEMPLATE)
    for section in sections:
        path = reverse("success:my_work") + f"?section={section.key}"
        body = client.get(path).content.decode()
        token = re.search(r'csrfmiddlewaretoken" value="([^"]+)"', body)
        assert token is not None
        as_the_template_saw_them = [
            SimpleNamespace(
                **{f: getattr(i, f) for f in ("kind", "title", "due", "url", "detail", "overdue")},
                task_id=i.task_id,
                kind_label=i.kind_label,
                account=SimpleNamespace(get_absolute_url=i.account_url, name=i.account_name),
            )
            for i in section.items
        ]
        expected = template.render(
            {
                "items": as_the_template_saw_them,
                "today": today,
                "csrf_token": token.group(1),
                "request": SimpleNamespace(path=path),
            }
        )
        # the same markup, modulo the whitespace between rows
        assert _squeeze(expected) in _squeeze(body), section.key
        # one CSRF token for the whole page, as the template's lazy token gave
        assert len(set(re.findall(r'csrfmiddlewaretoken" value="([^"]+)"', body))) == 1
        if section.key == "week":
            assert "Acme &amp; &lt;Co&gt;" in expected and "due today" in expected
