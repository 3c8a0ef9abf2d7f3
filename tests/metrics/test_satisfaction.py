"""Renewal rate by CSAT band and by NPS category (docs/domain.md, "Metrics"): the
figures worked out by hand for a small portfolio, the drill-downs list the renewals
each number counts, the empty state, and a flat query cost."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.support.models import FeedbackSubmission
from tests.factories import AccountFactory, UsageSnapshotFactory
from tests.metrics.ledger_rows import move
from tests.support.factories import FeedbackSubmissionFactory

pytestmark = pytest.mark.django_db
Q2 = {"grain": "quarter", "on": "2025-05-01"}
CSAT = FeedbackSubmission.SurveyType.CSAT


def at(day: str, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time(hour)))


def csat(account: Account, day: str, score: int) -> None:
    FeedbackSubmissionFactory.create(
        account=account, survey_type=CSAT, score=score, response_group="", submitted_at=at(day)
    )


def nps(account: Account, day: str, score: int) -> None:
    group = "PROMOTER" if score >= 9 else "PASSIVE" if score >= 7 else "DETRACTOR"
    FeedbackSubmissionFactory.create(
        account=account, score=score, response_group=group, submitted_at=at(day)
    )


@pytest.fixture
def renewals(db: Any) -> dict[str, Account]:
    """Five renewals decided in Q2 2025 and one in Q1."""
    a = {name: AccountFactory.create(name=name) for name in ("A1", "A2", "A3", "A4", "A5", "A6")}
    for acc in a.values():
        move(acc, "2024-01-01", "new", "10000")
    # A1 renewed on May 10: CSAT 4 and 5 before (4.5, satisfied), a 1 after (ignored);
    # NPS 10 in March (promoter), a 2 after the decision (ignored).
    move(a["A1"], "2025-05-10", "renewal", "10000")
    csat(a["A1"], "2025-04-01", 4)
    csat(a["A1"], "2025-05-01", 5)
    csat(a["A1"], "2025-05-20", 1)
    nps(a["A1"], "2025-03-01", 10)
    nps(a["A1"], "2025-05-15", 2)
    # A2 churned on June 1: CSAT 2 and 3 (2.5, dissatisfied); latest NPS 4 (detractor).
    move(a["A2"], "2025-06-01", "churn", "10000")
    csat(a["A2"], "2025-04-10", 2)
    csat(a["A2"], "2025-05-10", 3)
    nps(a["A2"], "2025-01-01", 9)
    nps(a["A2"], "2025-05-01", 4)
    # A3 renewed on April 15: no CSAT answer, a usage snapshot's 3.5 (neutral); NPS 8.
    move(a["A3"], "2025-04-15", "renewal", "10000")
    UsageSnapshotFactory.create(account=a["A3"], date=date(2025, 4, 1), csat=Decimal("3.5"))
    nps(a["A3"], "2025-04-10", 8)
    # A4 renewed on June 20 with only a CSAT answer from more than 90 days before.
    move(a["A4"], "2025-06-20", "renewal", "10000")
    csat(a["A4"], "2025-01-01", 5)
    # A5 churned on April 20: CSAT 4 the day before (satisfied); NPS 9 (promoter).
    move(a["A5"], "2025-04-20", "churn", "10000")
    csat(a["A5"], "2025-04-19", 4)
    nps(a["A5"], "2025-04-01", 9)
    # A6 renewed in Q1: not in Q2's figures.
    move(a["A6"], "2025-03-01", "renewal", "10000")
    csat(a["A6"], "2025-02-01", 1)
    return a


def _table(page: str, table_id: str) -> dict[str, list[str]]:
    match = re.search(rf'<table class="data" id="{table_id}">(.*?)</table>', page, re.S)
    assert match, f"no table {table_id}"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        if cells and cells[0] and not cells[1].isalpha():
            rows[cells[0]] = cells[1:]
    return rows


def test_renewal_rate_by_csat_band_and_nps_category(
    client: Any, leader: Any, renewals: dict[str, Account]
) -> None:
    client.force_login(leader)
    page = html.unescape(client.get(reverse("metrics"), Q2).content.decode())
    # Decided, renewed, rate.
    assert _table(page, "renewal-by-csat") == {
        "Satisfied (CSAT 4 or more)": ["2", "1", "50.0%"],  # A1 renewed, A5 churned
        "Neutral (CSAT 3 to under 4)": ["1", "1", "100.0%"],  # A3 (usage snapshot)
        "Dissatisfied (CSAT under 3)": ["1", "0", "0.0%"],  # A2
        "No CSAT": ["1", "1", "100.0%"],  # A4
    }
    assert _table(page, "renewal-by-nps") == {
        "Promoters (9–10)": ["2", "1", "50.0%"],  # A1, A5
        "Passives (7–8)": ["1", "1", "100.0%"],  # A3
        "Detractors (0–6)": ["1", "0", "0.0%"],  # A2
        "No NPS answer": ["1", "1", "100.0%"],  # A4
    }
    # The groups add up to logo retention's renewals decided: 3 of 5.
    assert "3 of 5 renewals decided" in page


def test_the_figures_csv_has_the_rates_of_the_chosen_period(
    client: Any, leader: Any, renewals: dict[str, Account]
) -> None:
    client.force_login(leader)
    export = client.get(reverse("metrics_export"), Q2)
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    by_metric = {line[0]: line[2:] for line in lines[1:]}
    satisfied = by_metric["Renewal rate by CSAT band: Satisfied (CSAT 4 or more)"]
    assert satisfied[-1] == "50.00" and satisfied[:-1] == [""] * 11
    assert by_metric["Renewal rate by NPS category: Detractors (0–6)"][-1] == "0.00"
    assert by_metric["Renewal rate by CSAT band: No CSAT"][-1] == "100.00"


def _drill(client: Any, key: str) -> list[tuple[str, list[Any]]]:
    response = client.get(reverse("metrics_drill", args=[key]), Q2)
    assert response.status_code == 200
    return [(account.name, cells) for account, cells in response.context["rows"]]


def test_each_drill_lists_the_renewals_its_number_counts(
    client: Any, leader: Any, renewals: dict[str, Account]
) -> None:
    client.force_login(leader)
    satisfied = _drill(client, "renewal_csat_satisfied")
    # Churned first, then by decision day.
    assert [(name, cells[:2], cells[3:]) for name, cells in satisfied] == [
        ("A5", [date(2025, 4, 20), "churned"], [Decimal("4.00"), "HubSpot surveys"]),
        ("A1", [date(2025, 5, 10), "renewed"], [Decimal("4.50"), "HubSpot surveys"]),
    ]
    neutral = _drill(client, "renewal_csat_neutral")
    assert [(n, c[3:]) for n, c in neutral] == [("A3", [Decimal("3.50"), "usage snapshot"])]
    assert [n for n, _ in _drill(client, "renewal_csat_dissatisfied")] == ["A2"]
    assert [n for n, _ in _drill(client, "renewal_csat_none")] == ["A4"]
    promoters = _drill(client, "renewal_nps_promoter")
    assert [(n, c[3:]) for n, c in promoters] == [
        ("A5", ["9", date(2025, 4, 1)]),
        ("A1", ["10", date(2025, 3, 1)]),
    ]
    assert [n for n, _ in _drill(client, "renewal_nps_passive")] == ["A3"]
    assert [n for n, _ in _drill(client, "renewal_nps_detractor")] == ["A2"]
    assert [n for n, _ in _drill(client, "renewal_nps_none")] == ["A4"]
    # Together they are the renewals logo retention counts.
    decided = sorted(n for n, _ in _drill(client, "logo_retention"))
    assert decided == ["A1", "A2", "A3", "A4", "A5"]


def test_a_period_without_decided_renewals_shows_no_data(
    client: Any, leader: Any, renewals: dict[str, Account]
) -> None:
    client.force_login(leader)
    q3 = {"grain": "quarter", "on": "2025-08-01"}
    page = html.unescape(client.get(reverse("metrics"), q3).content.decode())
    assert "No data yet: no renewal was decided in this period." in page
    assert 'id="renewal-by-csat"' not in page
    drill = client.get(reverse("metrics_drill", args=["renewal_nps_promoter"]), q3)
    assert "No accounts behind this figure." in drill.content.decode()


def _portfolio(n: int) -> None:
    for i in range(n):
        account = AccountFactory.create()
        move(account, "2024-01-01", "new", "1000")
        move(account, "2025-05-10", "churn" if i % 3 == 0 else "renewal", "1000")
        csat(account, "2025-05-01", 3 + i % 3)
        nps(account, "2025-04-01", 5 + i % 6)
        UsageSnapshotFactory.create(account=account, date=date(2025, 5, 1), csat=Decimal("4"))


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, Q2).status_code == 200
    return len(ctx.captured_queries)


def test_figures_and_drills_cost_the_same_queries_for_5_and_50_renewals(
    client: Any, leader: Any
) -> None:
    client.force_login(leader)
    board = reverse("metrics")
    drill = reverse("metrics_drill", args=["renewal_csat_satisfied"])
    _portfolio(5)
    five = (_queries(client, board), _queries(client, drill))
    _portfolio(45)
    # CSAT 4 or 5 (i % 3 is 1 or 2): 3 of the first 5, 30 of the next 45.
    assert len(client.get(drill, Q2).context["rows"]) == 33
    assert (_queries(client, board), _queries(client, drill)) == five
