"""The dashboard page shows exactly the figures the formulas give for small
hand-built portfolios, per period and per filter, at a fixed query cost."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Segment
from accounts.roles import Role
from onboarding.models import MilestoneKind, OnboardingPlan
from success.health.models import HealthModel, HealthScore
from success.models import ChurnReason, ObjectiveStatus, Renewal
from success.services import renewal_churn, renewal_create, renewal_renew
from tests.factories import (
    AccountFactory,
    BusinessReviewFactory,
    MilestoneFactory,
    ObjectiveFactory,
    OnboardingPlanFactory,
    RenewalFactory,
    SuccessPlanFactory,
    UserFactory,
)
from tests.metrics.ledger_rows import move

pytestmark = pytest.mark.django_db
D = Decimal
Q2 = {"grain": "quarter", "on": "2025-05-01"}


def _long_ago() -> datetime:
    return timezone.make_aware(datetime(2023, 1, 1))


def health_model() -> HealthModel:
    return HealthModel.objects.order_by("version").first() or HealthModel.objects.create(version=1)


def card(html: str, key: str) -> str:
    """The text of one figure's card."""
    match = re.search(rf'<article class="mx-card[^"]*" id="card-{key}">(.*?)</article>', html, re.S)
    assert match, f"no card {key}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def figure(html: str, key: str) -> str:
    """The big number on a card, as shown."""
    match = re.search(rf'id="card-{key}">.*?<p class="mx-figure">(.*?)</p>', html, re.S)
    assert match
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.fixture
def portfolio(db: Any) -> dict[str, Any]:
    maya = UserFactory.create(username="maya", role=Role.CSM)
    tom = UserFactory.create(username="tom", role=Role.CSM)
    ent = {"segment": Segment.ENTERPRISE, "created_at": _long_ago()}
    a1 = AccountFactory.create(name="Atlas", owner=maya, arr=D("620000"), **ent)
    a2 = AccountFactory.create(name="Birch", owner=maya, arr=D("280000"), **ent)
    a3 = AccountFactory.create(name="Cedar", owner=tom, arr=D("150000"), **ent)
    a4 = AccountFactory.create(name="Dune Logistics", owner=tom, arr=D("0"), **ent)
    move(a1, "2024-01-10", "new", "500000")
    move(a1, "2025-05-01", "expansion", "120000")
    move(a2, "2024-03-01", "new", "300000")
    move(a2, "2025-06-30", "contraction", "20000")
    move(a3, "2024-06-01", "new", "150000")
    move(a4, "2024-02-01", "new", "50000")
    move(a4, "2025-04-01", "churn", "50000")
    return {"maya": maya, "tom": tom, "accounts": [a1, a2, a3, a4]}


def test_retention_figures_for_last_quarter(client: Any, leader: Any, portfolio: Any) -> None:
    client.force_login(leader)
    html = client.get(reverse("metrics"), Q2).content.decode()
    start, churn, contraction, expansion = D(1_000_000), D(50_000), D(20_000), D(120_000)
    grr = (start - contraction - churn) / start * 100
    nrr = (start + expansion - contraction - churn) / start * 100
    assert figure(html, "grr") == f"{grr:.1f}%" == "93.0%"
    assert figure(html, "nrr") == f"{nrr:.1f}%" == "105.0%"
    assert figure(html, "churn") == "50,000"
    assert figure(html, "contraction") == "20,000"
    assert figure(html, "expansion") == "120,000"
    assert figure(html, "arr_start") == "1,000,000"
    assert figure(html, "arr_end") == f"{start - churn - contraction + expansion:,.0f}"
    # Q1 2025 had no movements: full retention, shown as the comparison.
    assert "down 7.0 pts · worse vs Q1 2025 (100.0%)" in card(html, "grr")
    assert "up 5.0 pts · better vs Q1 2025 (100.0%)" in card(html, "nrr")


def test_owner_and_segment_filters(client: Any, leader: Any, portfolio: Any) -> None:
    client.force_login(leader)
    maya = portfolio["maya"]
    html = client.get(reverse("metrics"), {**Q2, "owner": maya.pk}).content.decode()
    start = D(800_000)
    assert figure(html, "grr") == f"{(start - D(20_000)) / start * 100:.1f}%" == "97.5%"
    assert figure(html, "nrr") == f"{(start + D(100_000)) / start * 100:.1f}%" == "112.5%"
    assert figure(html, "churn") == "0"
    smb = client.get(reverse("metrics"), {**Q2, "segment": Segment.SMB}).content.decode()
    assert figure(smb, "grr") == "no data yet"
    assert figure(smb, "arr_start") == "no data yet"


def test_period_without_any_ledger_shows_no_data_yet(
    client: Any, leader: Any, portfolio: Any
) -> None:
    client.force_login(leader)
    html = client.get(reverse("metrics"), {"grain": "month", "on": "2023-06-01"}).content.decode()
    for key in ("grr", "nrr", "churn", "logo_retention", "engagement", "ttv", "adoption_rate"):
        assert figure(html, key) == "no data yet", key


def test_an_account_starting_mid_period_is_new_arr_not_retention(
    client: Any, leader: Any, portfolio: Any
) -> None:
    late = AccountFactory.create(name="Ember", arr=D("90000"), segment=Segment.ENTERPRISE)
    move(late, "2025-05-15", "new", "80000")
    move(late, "2025-06-01", "expansion", "10000")
    client.force_login(leader)
    html = client.get(reverse("metrics"), Q2).content.decode()
    assert figure(html, "grr") == "93.0%"
    assert figure(html, "nrr") == "105.0%"
    assert figure(html, "expansion") == "120,000"
    assert figure(html, "new_arr") == "90,000"
    assert figure(html, "arr_end") == "1,140,000"


def test_monthly_and_yearly_grain(client: Any, leader: Any, portfolio: Any) -> None:
    client.force_login(leader)
    april = client.get(reverse("metrics"), {"grain": "month", "on": "2025-04-01"}).content.decode()
    assert figure(april, "grr") == "95.0%"  # (1,000,000 - 50,000) / 1,000,000
    year = client.get(reverse("metrics"), {"grain": "year", "on": "2025-01-01"}).content.decode()
    assert figure(year, "nrr") == "105.0%"
    custom = client.get(
        reverse("metrics"), {"grain": "custom", "start": "2025-06-01", "end": "2025-06-30"}
    ).content.decode()
    assert figure(custom, "contraction") == "20,000"
    assert figure(custom, "churn") == "0"


def test_other_families_for_the_quarter(client: Any, leader: Any, portfolio: Any) -> None:
    a1, a2, a3, _a4 = portfolio["accounts"]
    # Renewals decided in the quarter (as closing them records): a1 and a2
    # renewed, a4 churned on Apr 1 (the fixture); a3 renews next quarter.
    move(a1, "2025-04-10", "renewal", "500000")
    move(a2, "2025-05-10", "renewal", "300000")
    move(a3, "2025-07-10", "renewal", "150000")
    for sentiment in ("positive", "positive", "positive", "negative"):
        BusinessReviewFactory.create(
            account=a1,
            status="held",
            held_on=date(2025, 5, 5),
            sentiment=sentiment,
            scheduled_for=date(2025, 5, 5),
        )
    BusinessReviewFactory.create(account=a2, status="scheduled", scheduled_for=date(2025, 5, 6))
    # Adoption checkpoints due in the quarter: on time, late, never done.
    for account, completed in ((a1, date(2025, 5, 1)), (a2, date(2025, 6, 20)), (a3, None)):
        MilestoneFactory.create(
            plan=OnboardingPlanFactory.create(account=account),
            kind=MilestoneKind.ADOPTION_CHECKPOINT,
            due_date=date(2025, 5, 20),
            completed_on=completed,
        )
    # Objectives due: a1 achieved both, a2 one of two.
    p1, p2 = SuccessPlanFactory.create(account=a1), SuccessPlanFactory.create(account=a2)
    for plan, status in ((p1, "achieved"), (p1, "achieved"), (p2, "achieved"), (p2, "missed")):
        ObjectiveFactory.create(
            plan=plan, due_date=date(2025, 6, 1), status=ObjectiveStatus(status)
        )
    OnboardingPlan.objects.filter(account=a1).update(first_value_on=date(2025, 4, 20), ttv_days=10)
    OnboardingPlan.objects.filter(account=a2).update(first_value_on=date(2025, 5, 20), ttv_days=20)
    OnboardingPlan.objects.filter(account=a3).update(first_value_on=date(2025, 6, 20), ttv_days=40)

    client.force_login(leader)
    html = client.get(reverse("metrics"), Q2).content.decode()
    assert figure(html, "logo_retention") == f"{D(2) / 3 * 100:.1f}%" == "66.7%"
    assert "2 of 3 renewals decided" in card(html, "logo_retention")
    assert figure(html, "engagement") == "75.0%"
    assert figure(html, "adoption_rate") == "33.3%"
    assert figure(html, "success_rate") == "50.0%"
    assert figure(html, "ttv") == "20 days"
    board = client.get(reverse("metrics"), Q2).context["board"]
    assert board.ttv.buckets[:3] == [("0–14 days", 1), ("15–30 days", 1), ("31–60 days", 1)]


def test_onboard_rate_counts_new_accounts_with_a_plan(client: Any, leader: Any, db: Any) -> None:
    planned = AccountFactory.create(arr=D("10000"), contract_start=date(2025, 5, 2))
    AccountFactory.create(arr=D("10000"), contract_start=date(2025, 6, 2))
    AccountFactory.create(arr=D("10000"), contract_start=date(2024, 6, 2))  # not new
    OnboardingPlanFactory.create(account=planned)
    client.force_login(leader)
    html = client.get(reverse("metrics"), Q2).content.decode()
    assert figure(html, "onboard_rate") == "50.0%"
    assert "1 of 2 new accounts" in card(html, "onboard_rate")


def test_health_distribution_uses_each_periods_last_scoring_day(
    client: Any, leader: Any, portfolio: Any
) -> None:
    model = health_model()
    a1, a2, a3, _a4 = portfolio["accounts"]
    for account in (a1, a2, a3):
        HealthScore.objects.create(
            account=account, date=date(2025, 6, 20), model=model, score=80, band="green"
        )
    for account, band in ((a1, "green"), (a2, "green"), (a3, "red")):
        HealthScore.objects.create(
            account=account, date=date(2025, 6, 27), model=model, score=50, band=band
        )
    client.force_login(leader)
    board = client.get(reverse("metrics"), Q2).context["board"]
    last = board.health[-1]
    assert (last.scored_on, last.counts) == (date(2025, 6, 27), {"green": 2, "yellow": 0, "red": 1})
    assert board.health[-2].scored_on is None
    drill = client.get(reverse("metrics_drill", args=["health_red"]), Q2)
    assert [a.name for a, _cells in drill.context["rows"]] == [a3.name]


def test_churn_drill_down_and_its_csv(client: Any, leader: Any, portfolio: Any) -> None:
    client.force_login(leader)
    response = client.get(reverse("metrics_drill", args=["churn"]), Q2)
    rows = response.context["rows"]
    assert [(a.name, cells[3]) for a, cells in rows] == [("Dune Logistics", D("50000.00"))]
    assert "Dune Logistics" in response.content.decode()
    export = client.get(reverse("metrics_drill_export", args=["churn"]), Q2)
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert lines[0][:4] == ["account_id", "account", "owner", "segment"]
    assert lines[1][1] == "Dune Logistics"
    assert lines[1][4:] == ["50000.00", "0.00", "0.00", "50000.00", "0.00"]
    assert len(lines) == 2


def test_figures_csv_has_every_metric_for_twelve_periods(
    client: Any, leader: Any, portfolio: Any
) -> None:
    client.force_login(leader)
    export = client.get(reverse("metrics_export"), Q2)
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert lines[0][2:4] == ["2022-07-01..2022-09-30", "2022-10-01..2022-12-31"]
    assert lines[0][-1] == "2025-04-01..2025-06-30"
    by_metric = {line[0]: line[2:] for line in lines[1:]}
    assert by_metric["Gross revenue retention"][-1] == "93.00"
    assert by_metric["Churned ARR"][-1] == "50000.00"
    assert by_metric["Gross revenue retention"][0] == ""  # no data yet


def test_unknown_figure_is_404(client: Any, leader: Any) -> None:
    client.force_login(leader)
    assert client.get(reverse("metrics_drill", args=["nope"])).status_code == 404


def _portfolio_of(n: int) -> None:
    model = health_model()
    reason = ChurnReason.objects.get_or_create(label="Budget")[0]
    for i in range(n):
        account = AccountFactory.create(arr=D("1000"), contract_start=date(2024, 1, 1))
        move(account, "2025-05-01", "expansion" if i % 2 else "contraction", "100")
        RenewalFactory.create(
            account=account,
            renewal_date=date(2025, 5, 1),
            status=Renewal.Status.CHURNED if i % 3 == 0 else Renewal.Status.RENEWED,
            churn_reason=reason,
        )
        BusinessReviewFactory.create(
            account=account,
            status="held",
            held_on=date(2025, 5, 2),
            sentiment="positive",
            scheduled_for=date(2025, 5, 2),
        )
        ObjectiveFactory.create(plan__account=account, due_date=date(2025, 5, 3))
        HealthScore.objects.create(
            account=account, date=date(2025, 6, 1), model=model, score=50, band="yellow"
        )


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("metrics"), Q2)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_costs_the_same_queries_for_5_and_50_accounts(
    client: Any, leader: Any, django_assert_num_queries: Any
) -> None:
    client.force_login(leader)
    _portfolio_of(5)
    # session, user with their role groups, owner choices; a savepoint and the SET LOCAL
    # that tunes the reporting transaction; ARR ledger, renewals, adoption,
    # objectives, reviews, TTV, health days, health counts, at-risk, renewals
    # decided in the quarter (none here, so no survey or snapshot reads); release.
    with django_assert_num_queries(16):
        client.get(reverse("metrics"), Q2)
    five = _queries(client)
    _portfolio_of(45)
    with django_assert_num_queries(five):
        client.get(reverse("metrics"), Q2)


def test_drill_down_costs_the_same_queries_for_5_and_50_accounts(client: Any, leader: Any) -> None:
    client.force_login(leader)
    _portfolio_of(5)
    url = reverse("metrics_drill", args=["retention" if False else "grr"])
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(url, Q2).context["rows"]) == 5
    _portfolio_of(45)
    with CaptureQueriesContext(connection) as fifty:
        assert len(client.get(url, Q2).context["rows"]) == 50
    assert len(five.captured_queries) == len(fifty.captured_queries)


def test_logo_retention_counts_renewals_decided_in_the_running_quarter(
    client: Any, leader: Any, db: Any
) -> None:
    """Closing renewals early (renewed, or churned on notice) makes them this
    quarter's outcomes, though their dates are still ahead: the churned account
    on the churned-ARR card is in logo retention's denominator too."""
    today = timezone.localdate()
    reason = ChurnReason.objects.create(label="Budget")
    kept, lost = (
        AccountFactory.create(
            arr=D("40000"),
            contract_start=date(2024, 1, 1),
            renewal_date=today + timedelta(days=20 + i),
            owner=leader,
        )
        for i in range(2)
    )
    renewal_renew(renewal=renewal_create(account=kept), new_arr=D("42000"), by=leader, on=today)
    renewal_churn(renewal=renewal_create(account=lost), reason=reason, note="", by=leader, on=today)
    client.force_login(leader)
    html = client.get(reverse("metrics")).content.decode()
    assert "1 account" in card(html, "churn")
    assert figure(html, "logo_retention") == "50.0%"
    assert "1 of 2 renewals decided" in card(html, "logo_retention")
    assert "in the period so far" in card(html, "logo_retention")
    drill = client.get(reverse("metrics_drill", args=["logo_retention"]))
    assert [(a.name, cells[1]) for a, cells in drill.context["rows"]] == [
        (lost.name, "churned"),
        (kept.name, "renewed"),
    ]
