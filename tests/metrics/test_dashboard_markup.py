"""The dashboard writes its charts, trend tables, health chart and figure cards in
Python (lifecycle/metrics/html.py, for speed: docs/performance.md); the page must
be what the template wrote. The templates next to this file are the dashboard and
its chart include as they were, rendered by Django with the same context: for
quarters with and without data, a month, a year, a custom period and an owner
filter (whose query string needs escaping in every link)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.template import engines
from django.urls import reverse

import lifecycle.views_metrics as views_metrics
from accounts.roles import Role
from success.health.models import HealthScore
from tests.factories import AccountFactory, UserFactory
from tests.metrics.ledger_rows import move
from tests.metrics.test_dashboard import health_model

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent
OLD_PAGE = (HERE / "dashboard_template_old.html").read_text()
OLD_CHART = (HERE / "column_chart_template_old.html").read_text()


def _main(html: str) -> str:
    """The page's own content, without the frame (whose CSRF token changes per
    render), modulo the whitespace between tags."""
    content = html[html.index("<h1>Metrics</h1>") : html.index("</main>")]
    return re.sub(r">\s+<", "><", content)


@pytest.fixture
def book(db: Any) -> dict[str, Any]:
    """Movements of every kind in Q2 2025 and health scores in all three bands."""
    maya = UserFactory.create(username="maya", role=Role.CSM)
    a1, a2, a3, a4 = (AccountFactory.create(owner=maya) for _ in range(4))
    move(a1, "2024-01-10", "new", "500000")
    move(a1, "2025-05-01", "expansion", "120000")
    move(a2, "2024-03-01", "new", "300000")
    move(a2, "2025-06-30", "contraction", "20000")
    move(a3, "2025-04-15", "new", "150000")
    move(a4, "2024-02-01", "new", "50000")
    move(a4, "2025-04-01", "churn", "50000")
    model = health_model()
    for account, band in ((a1, "green"), (a2, "yellow"), (a3, "red")):
        HealthScore.objects.create(
            account=account, date=date(2025, 6, 27), model=model, score=50, band=band
        )
    return {"maya": maya}


@pytest.mark.parametrize(
    "query",
    [
        {"grain": "quarter", "on": "2025-05-01"},
        {"grain": "quarter", "on": "2019-01-01"},
        {"grain": "month", "on": "2025-06-01"},
        {"grain": "year", "on": "2025-01-01"},
        {"grain": "custom", "start": "2025-01-01", "end": "2025-02-15"},
        {"grain": "quarter", "on": "2025-05-01", "owner": "maya"},
    ],
)
def test_the_page_is_the_old_templates_markup(
    client: Any, leader: Any, book: dict[str, Any], query: dict[str, str]
) -> None:
    if "owner" in query:
        query = {**query, "owner": str(book[query["owner"]].pk)}
    client.force_login(leader)
    seen: dict[str, Any] = {}
    render = views_metrics.render

    def keep(request: Any, name: str, context: dict[str, Any]) -> Any:
        seen.update(request=request, context=context)
        return render(request, name, context)

    with mock.patch.object(views_metrics, "render", keep):
        page = client.get(reverse("metrics"), query).content.decode()
    engine = engines["django"]
    old = engine.from_string(
        OLD_PAGE.replace(
            '{% include "lifecycle/metrics/_column_chart.html" %}', "{% include chart_template %}"
        )
    ).render({**seen["context"], "chart_template": engine.from_string(OLD_CHART)}, seen["request"])

    assert _main(page) == _main(old)
    board = seen["context"]["board"]
    assert page.count('<figure class="mx-trend"') == len(board.metrics) > 10
    if "owner" in query:  # the filters' query string, escaped in every drill link
        assert re.search(r'href="/metrics/grr/\?[^"]*owner=[^"]*"', page)
        assert re.search(r'href="/metrics/grr/\?[^"]*&amp;[^"]*"', page)
