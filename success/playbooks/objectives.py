"""Whether a playbook's objective was met, read from data, for many (account, window)
pairs at once: one query per objective kind, whatever the number of runs.

The same function judges runs and the comparison group (trigger occurrences that did
not start a run), so the two rates are measured the same way."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from accounts.models import HealthBand, UsageSnapshot
from onboarding.models import Milestone, MilestoneKind
from success.alerts.models import Alert
from success.health.models import HealthScore
from success.models import Renewal

from .models import ObjectiveKind, PlaybookVersion

BANDS_AT_LEAST: dict[str, list[str]] = {
    HealthBand.GREEN: [HealthBand.GREEN],
    HealthBand.YELLOW: [HealthBand.GREEN, HealthBand.YELLOW],
    HealthBand.RED: [HealthBand.GREEN, HealthBand.YELLOW, HealthBand.RED],
}
# Account NPS runs from -100 to 100: at 0 or above, promoters at least balance detractors.
NPS_PASSIVE_OR_BETTER = 0


@dataclass(frozen=True)
class Window:
    account_id: int
    start: date
    due: date


def objective_met_on(version: PlaybookVersion, windows: Iterable[Window]) -> dict[Window, date]:
    """For each window whose objective was met, the first day it was."""
    windows = list(windows)
    if not windows:
        return {}
    ids = {w.account_id for w in windows}
    lo = min(w.start for w in windows)
    hi = max(w.due for w in windows)
    kind = version.objective_kind
    dates: dict[int, list[date]] = defaultdict(list)
    rows: Iterable[tuple[int, date | None]]
    if kind == ObjectiveKind.HEALTH_BAND:
        rows = HealthScore.objects.filter(
            account_id__in=ids,
            band__in=BANDS_AT_LEAST.get(version.objective_band, []),
            date__range=(lo, hi),
        ).values_list("account_id", "date")
    elif kind == ObjectiveKind.ALERT_CLEARED:
        # The rule's evaluation found the condition no longer holds (whoever closed it).
        rows = Alert.objects.filter(
            account_id__in=ids,
            rule_id=version.trigger_rule_id,
            condition_cleared_at__date__range=(lo, hi),
        ).values_list("account_id", "condition_cleared_at__date")
    elif kind == ObjectiveKind.RENEWAL_RENEWED:
        rows = Renewal.objects.filter(
            account_id__in=ids, status=Renewal.Status.RENEWED, closed_on__range=(lo, hi)
        ).values_list("account_id", "closed_on")
    elif kind == ObjectiveKind.FIRST_VALUE:
        rows = Milestone.objects.filter(
            Q(plan__account_id__in=ids),
            kind=MilestoneKind.FIRST_VALUE,
            completed_on__range=(lo, hi),
        ).values_list("plan__account_id", "completed_on")
    elif kind == ObjectiveKind.NPS_IMPROVED:
        rows = UsageSnapshot.objects.filter(
            account_id__in=ids, nps__gte=NPS_PASSIVE_OR_BETTER, date__range=(lo, hi)
        ).values_list("account_id", "date")
    else:
        return {}
    for account_id, day in rows:
        if day is not None:
            dates[account_id].append(day)
    # States (a band, an NPS) must be reached after the start; events may fall on it.
    after_start = kind in (ObjectiveKind.HEALTH_BAND, ObjectiveKind.NPS_IMPROVED)
    met: dict[Window, date] = {}
    for w in windows:
        inside = [
            d
            for d in dates.get(w.account_id, [])
            if (w.start < d if after_start else w.start <= d) and d <= w.due
        ]
        if inside:
            met[w] = min(inside)
    return met
