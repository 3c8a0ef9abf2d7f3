"""The renewals page writes its rows in Python (success/views/renewal_rows.py, for
speed: docs/performance.md); they must be the markup the row template wrote. The
template next to this file is that row loop as it was, rendered by Django for the
same renewals: with and without an owner (and one with no full name), every
segment, every forecast category and none, no forecast ARR, cents, no health
score, a score without a band, and names that need escaping."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import cycle
from pathlib import Path
from typing import Any

from django.template import engines
from django.urls import reverse

from accounts.models import ForecastCategory, HealthBand, Segment
from success.selectors.renewals import RenewalRow, renewals_page_rows, renewals_pipeline
from success.views.renewal_rows import renewal_rows
from tests.factories import AccountFactory, RenewalFactory, UserFactory

ROW_TEMPLATE = (Path(__file__).parent / "renewal_row_template.html").read_text()


def test_rows_are_the_row_templates_markup(client: Any, leader: Any) -> None:
    owners = cycle(
        [
            None,
            UserFactory.create(first_name="Ana", last_name="<Lopez> & 'co'"),
            UserFactory.create(username="no_name", first_name="", last_name=""),
        ]
    )
    categories = cycle(["", *ForecastCategory.values])
    bands = cycle([(None, ""), (73, HealthBand.GREEN), (41, ""), (12, HealthBand.RED)])
    segments = cycle(Segment.values)
    today = date.today()
    for n in range(14):
        score, band = next(bands)
        account = AccountFactory.create(
            name=f'Acme "{n}" & <Co>',
            owner=next(owners),
            segment=next(segments),
            currency="EUR" if n % 2 else "<X>",
            health_score=score,
            health_band=band,
        )
        RenewalFactory.create(
            account=account,
            renewal_date=today + timedelta(days=n),
            current_arr=Decimal("1234567.5") if n % 3 else Decimal("900"),
            forecast_category=next(categories),
            forecast_arr=None if n % 4 == 1 else Decimal("70000.25"),
        )
    renewals = renewals_pipeline().order_by("renewal_date", "pk")

    expected = (
        engines["django"]
        .from_string(ROW_TEMPLATE)
        .render({"page": {"object_list": list(renewals)}})
    )
    rows = renewal_rows(map(RenewalRow._make, renewals_page_rows(renewals)))

    assert "    " + rows + "\n" == expected
    assert "Unassigned" in expected and "&lt;Lopez&gt; &amp; &#x27;co&#x27;" in expected
    assert "no_name" in expected and "Not forecast" in expected and "70,000.25" in expected
    client.force_login(leader)
    body = client.get(reverse("success:renewals")).content.decode()
    assert rows in body
