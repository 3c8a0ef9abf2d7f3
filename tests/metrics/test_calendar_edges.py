"""Every metrics page and CSV at the edges of the calendar: dates outside the
accepted range are form errors, never a 500 or a CSV cut off mid-stream."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from accounts.dates import OUT_OF_RANGE
from accounts.models import HealthBand
from lifecycle.metrics.drills import DRILLS
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

# Each query runs against all 36 metrics URLs: few, well-chosen edges keep it quick.
OUT = [
    "on=9999-12-31",
    "grain=custom&start=0001-01-01&end=0001-12-31",
    "grain=year&on=3000-01-01",
]
EDGE = [
    "grain=month&on=1900-01-01",
    "grain=custom&start=2997-01-01&end=2999-12-31",
]


def _urls() -> list[tuple[str, str]]:
    urls = [("html", reverse("metrics")), ("csv", reverse("metrics_export"))]
    for metric in DRILLS:
        urls.append(("html", reverse("metrics_drill", args=[metric])))
        urls.append(("csv", reverse("metrics_drill_export", args=[metric])))
    return urls


def _csv(response: Any) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response).decode()  # raises if the stream breaks off
    assert body.endswith("\r\n")
    return list(csv.reader(io.StringIO(body, newline="")))


@pytest.fixture
def portfolio(db: Any) -> None:
    AccountFactory.create(name="Red", health_band=HealthBand.RED)
    AccountFactory.create(name="Plain")


@pytest.mark.parametrize("query", OUT + EDGE)
def test_no_metrics_page_or_csv_fails_at_the_calendar_edges(
    client: Any, leader: Any, portfolio: Any, query: str
) -> None:
    client.force_login(leader)
    for kind, url in _urls():
        response = client.get(f"{url}?{query}")
        if kind == "csv":
            if query in OUT:
                assert response.status_code == 400, url
                assert OUT_OF_RANGE in response.content.decode()
            else:
                assert response.status_code == 200, url
                assert len(_csv(response)) >= 1
        else:
            assert response.status_code == 200, url
            assert (OUT_OF_RANGE in response.content.decode()) == (query in OUT), url
