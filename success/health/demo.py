"""Demo health: score the portfolio weekly over the last 90 days, so trends
and charts have history from the first run."""

from __future__ import annotations

from datetime import date, timedelta

from accounts.bulk import analyze
from accounts.models import Account

from .models import HealthScore
from .services import health_scores_compute


def build(*, seed: int, today: date) -> str:
    if HealthScore.objects.exists():
        return "health scores exist; left as is"
    days = [today - timedelta(days=d) for d in range(84, -1, -7)]
    if days[-1] != today:
        days.append(today)
    for day in days:
        run = health_scores_compute(today=day)
    analyze(HealthScore, Account)
    return f"scored {run.scored} accounts on {len(days)} days"
