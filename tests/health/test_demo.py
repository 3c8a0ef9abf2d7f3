"""The demo's health model weighs support: the at-risk accounts' tickets and silence
show in their scores, and each score names where its support inputs came from."""

from __future__ import annotations

from statistics import mean

import pytest
from django.utils import timezone

from accounts.demo import build as accounts_build
from accounts.models import Account, Stage
from accounts.support import demo as support_demo
from success.health import demo
from success.health.models import HealthModel, HealthScore

pytestmark = pytest.mark.django_db


def test_demo_model_weighs_support_and_scores_name_their_sources() -> None:
    today = timezone.localdate()
    accounts_build(accounts=60, seed=7, today=today)
    support_demo.build(seed=7, today=today)
    message = demo.build(seed=7, today=today)
    assert "with model v2" in message

    model = HealthModel.objects.get(status="active")
    weighed = set(model.measures.values_list("input", flat=True))
    assert {"tickets_opened_30d", "escalated_tickets", "days_since_touch"} <= weighed

    latest = {s.account_id: s for s in HealthScore.objects.filter(date=today)}
    risky = set(Account.objects.filter(stage=Stage.AT_RISK).values_list("pk", flat=True))
    assert risky and risky <= set(latest)

    def support(score: HealthScore) -> dict[str, tuple[float, float, str]]:
        return {
            c["input"]: (c["value"], c["score"], c["source"])
            for c in score.breakdown
            if c["source"].startswith("HubSpot")
        }

    for pk in risky:
        parts = support(latest[pk])
        assert parts["tickets_opened_30d"][2] == "HubSpot tickets"
        assert parts["nps"][2] == "HubSpot surveys"
    # Tickets pile up at the at-risk accounts: their ticket measure scores lower.
    rest = [s for pk, s in latest.items() if pk not in risky and "tickets_opened_30d" in support(s)]
    risky_tickets = mean(support(latest[pk])["tickets_opened_30d"][1] for pk in risky)
    rest_tickets = mean(support(s)["tickets_opened_30d"][1] for s in rest)
    assert risky_tickets < rest_tickets
    assert mean(latest[pk].score for pk in risky) < mean(s.score for s in rest)
