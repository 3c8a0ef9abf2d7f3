"""Every CSV download defuses cells a spreadsheet would run as a formula (OWASP
CSV injection): one writer, accounts.csv_stream, used by every export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse

from accounts.csv_stream import csv_cell
from accounts.models import HealthBand, ImportBatch
from tests.factories import AccountFactory, RenewalFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_cells_get_the_single_quote_prefix(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Acme", "-1200.00", "+5", "-3", "1e5", "a=b", "", 7, -7, None, "x@y.z"]
)
def test_plain_text_and_numbers_are_written_as_they_are(value: Any) -> None:
    assert csv_cell(value) == value


def _lines(response: HttpResponse | StreamingHttpResponse) -> list[list[str]]:
    assert response.status_code == 200
    body = b"".join(response) if isinstance(response, StreamingHttpResponse) else response.content
    return list(csv.reader(io.StringIO(body.decode(), newline="")))


def _cells(lines: list[list[str]]) -> set[str]:
    return {cell for line in lines for cell in line}


@pytest.mark.parametrize("name", HOSTILE)
def test_portfolio_export_defuses_account_names(client: Any, leader: Any, name: str) -> None:
    AccountFactory.create(name=name)
    client.force_login(leader)
    cells = _cells(_lines(client.get(reverse("portfolio_export"))))
    assert "'" + name in cells and name not in cells


@pytest.mark.parametrize("name", HOSTILE)
def test_renewals_export_defuses_account_names(client: Any, leader: Any, name: str) -> None:
    RenewalFactory.create(account__name=name)
    client.force_login(leader)
    cells = _cells(_lines(client.get(reverse("success:renewals_export"), {"owner": "all"})))
    assert "'" + name in cells and name not in cells


@pytest.mark.parametrize("name", HOSTILE)
def test_metric_drill_export_defuses_account_names(client: Any, leader: Any, name: str) -> None:
    AccountFactory.create(name=name, health_band=HealthBand.RED)
    client.force_login(leader)
    lines = _lines(client.get(reverse("metrics_drill_export", args=["at_risk"])))
    assert [line[1] for line in lines[1:]] == ["'" + name]


@pytest.mark.parametrize("name", HOSTILE)
def test_skipped_rows_export_defuses_the_uploaded_cells(
    client: Any, leader: Any, name: str
) -> None:
    content = csv.writer(out := io.StringIO())
    content.writerows([["name", "arr"], [name, "-5"]])
    batch = ImportBatch.objects.create(
        kind="accounts", filename="f.csv", content=out.getvalue(), created_by=leader
    )
    client.force_login(leader)
    lines = _lines(client.get(reverse("accounts:import_skipped", args=[batch.pk])))
    # The name is defused; the negative number stays a number.
    assert lines[1][:2] == ["'" + name.strip(), "-5"]


def test_metrics_export_keeps_negative_figures_as_numbers(client: Any, leader: Any) -> None:
    AccountFactory.create(name="=1+1")
    client.force_login(leader)
    lines = _lines(client.get(reverse("metrics_export")))
    for cell in _cells(lines):
        if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
            float(cell)  # only numbers may start so
