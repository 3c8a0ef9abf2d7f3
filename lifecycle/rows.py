"""List rows formatted in Python: a list page renders each row's cells from
plain strings instead of resolving methods and filters per cell in the template
(docs/performance.md has the measurements behind this)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.formats import date_display, money_display
from accounts.links import url_for_ids
from accounts.models import Account, Segment, Stage
from accounts.templatetags.account_badges import health_badge_html

__all__ = ["PortfolioRow", "day_text", "money_whole", "portfolio_rows", "url_for_ids"]

_SEGMENTS = dict(Segment.choices)
_STAGES = dict(Stage.choices)


def money_whole(value: Decimal) -> str:
    """As the `money` filter (accounts.formats): the one way pages write amounts."""
    return money_display(value)


def day_text(value: date) -> str:
    """As the `day` filter (accounts.formats): the one way pages write a day."""
    return date_display(value)


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    url: str
    name: str
    domain: str
    segment: str
    owner: str
    stage: str
    stage_label: str
    arr: str
    currency: str
    renewal: str
    health: SafeString
    activity_iso: str
    activity: str


def portfolio_rows(accounts: Iterable[Account]) -> list[PortfolioRow]:
    """One row per account as the portfolio table shows it (owner joined)."""
    url = url_for_ids("account")
    rows = []
    for a in accounts:
        activity = timezone.localtime(a.last_activity_at) if a.last_activity_at else None
        rows.append(
            PortfolioRow(
                url=url(a.pk),
                name=a.name,
                domain=a.domain or "no domain",
                segment=_SEGMENTS.get(a.segment, a.segment),
                owner=str(a.owner) if a.owner else "Unassigned",
                stage=a.stage,
                stage_label=_STAGES.get(a.stage, a.stage),
                arr=money_whole(a.arr),
                currency=a.currency,
                renewal=day_text(a.renewal_date) if a.renewal_date else "—",
                health=health_badge_html(score=a.health_score, band=a.health_band),
                activity_iso=activity.isoformat() if activity else "",
                activity=naturaltime(activity) if activity else "",
            )
        )
    return rows
