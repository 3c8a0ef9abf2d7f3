"""The onboarding list writes its rows in Python (onboarding/views/plan_rows.py, for
speed: docs/performance.md); they must be the markup the row template wrote. The
template next to this file is that row loop as it was, rendered by Django for the
same plans: every status, with and without an owner (and one with no full name),
with and without a next milestone, due in the past, today, tomorrow and later, and
names that need escaping."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import cycle
from pathlib import Path
from typing import Any

from django.template import engines
from django.urls import reverse
from django.utils import timezone

from onboarding.models import Milestone, OnboardingPlan, OnboardingTemplate, PlanStatus
from onboarding.selectors import PlanRow, plan_list_rows, plans_list
from onboarding.views.plan_rows import plan_rows
from tests.factories import AccountFactory, UserFactory

ROW_TEMPLATE = (Path(__file__).parent / "plan_row_template.html").read_text()


def test_rows_are_the_row_templates_markup(client: Any, leader: Any) -> None:
    today = timezone.localdate()
    owners = cycle(
        [
            None,
            UserFactory.create(first_name="Ana", last_name="<Lopez> & 'co'"),
            UserFactory.create(username="no_name", first_name="", last_name=""),
        ]
    )
    statuses = cycle(PlanStatus.values)
    template = OnboardingTemplate.objects.create(name="Kick <off> & go", version=3)
    for n in range(12):
        account = AccountFactory.create(name=f'Acme "{n}" & <Co>', owner=next(owners))
        plan = OnboardingPlan.objects.create(
            account=account,
            template=template,
            template_version=n % 4 + 1,
            start_date=today - timedelta(days=30 + n),
            status=next(statuses),
            progress=n * 9,
        )
        if n % 5:
            Milestone.objects.create(
                plan=plan,
                title=f"Step <{n}> & 'x'",
                position=1,
                due_date=today + timedelta(days=n % 5 - 2),
            )
    plans = plans_list()

    expected = (
        engines["django"]
        .from_string(ROW_TEMPLATE)
        .render({"page": {"object_list": list(plans)}, "today": today})
    )
    rows = plan_rows(map(PlanRow._make, plan_list_rows(plans)), today=today)

    assert "    " + rows + "\n" == expected
    assert "Unassigned" in expected and "&lt;Lopez&gt; &amp; &#x27;co&#x27;" in expected
    assert "tomorrow" in expected and "1 day late" in expected and "onb-late" in expected
    client.force_login(leader)
    body = client.get(reverse("onboarding:my") + "?owner=all&status=").content.decode()
    assert rows.strip().split("</tr>")[0] in body


def test_a_template_filter_lists_its_plans(client: Any, leader: Any) -> None:
    kept = OnboardingTemplate.objects.create(name="Kept")
    other = OnboardingTemplate.objects.create(name="Other")
    for template, name in ((kept, "Kept account"), (other, "Other account")):
        OnboardingPlan.objects.create(
            account=AccountFactory.create(name=name),
            template=template,
            template_version=1,
            start_date=date.today(),
        )
    client.force_login(leader)
    body = client.get(reverse("onboarding:my"), {"owner": "all", "template": kept.pk})
    text = body.content.decode()
    assert "Kept account" in text and "Other account" not in text
    assert f'<option value="{kept.pk}" selected>Kept</option>' in text
