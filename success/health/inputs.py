"""Gather every account's health inputs in a handful of queries.

Never one query per account: the daily job reads the last 120 days of usage
for the whole portfolio in one ordered pass, and the CS fields other apps
wrote onto accounts (onboarding progress, lateness) in another; each provider
adds a few grouped queries (business reviews and objectives; support tickets,
survey answers and touches).

Every value keeps its source (`scoring.INPUT_SOURCES`): a provider's value wins
over the usage snapshot's for the same input (synced CSAT over a typed one), and
the score's breakdown says which one it used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from django.db import connection
from django.db.models import F, QuerySet, Window
from django.db.models.functions import FirstValue
from django.utils.module_loading import import_string

from accounts.models import Account, Stage, UsageSnapshot
from accounts.selectors import within

from .scoring import INPUT_SOURCES, USAGE_SNAPSHOT, Input

Inputs = dict[str, float | None]
Sources = dict[str, str]


class Provider(Protocol):
    """Extra providers (e.g. business reviews, objectives, support records) return
    {account_id: {input: value}} for the accounts; a value's source is the first of the
    input's INPUT_SOURCES (the usage snapshot is the fallback, never a provider's).
    `id_range`, when given, bounds the accounts' ids (a chunk of the daily job): filter
    each query's rows by it too (`within`), so that it reads that part of its table's
    account index, not the whole table for every chunk."""

    def __call__(
        self, accounts: QuerySet[Account], today: date, *, id_range: tuple[int, int] | None = None
    ) -> dict[int, dict[str, float]]: ...


PROVIDERS: list[str] = [
    "success.health.providers.success_inputs",
    "success.health.providers.support_inputs",
]
USAGE_WINDOW_DAYS = 120
TREND_MIN_DAYS = 60


def scorable_accounts(
    account_ids: Iterable[int] | None = None, id_range: tuple[int, int] | None = None
) -> QuerySet[Account]:
    """Active accounts that have not churned; of these ids, or with ids in this
    inclusive range (a chunk of the daily job: a range reads the id index, where a
    list of thousands of ids is sent, parsed and planned again by every query that
    scores the chunk)."""
    qs = Account.objects.filter(status=Account.Status.ACTIVE).exclude(stage=Stage.CHURNED)
    if account_ids is not None:
        qs = qs.filter(pk__in=list(account_ids))
    if id_range is not None:
        qs = qs.filter(pk__range=id_range)
    return qs


def _ratio(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return 100.0 * part / whole


@dataclass
class Gathered:
    inputs: dict[int, Inputs]
    sources: dict[int, Sources]


def gather(accounts: QuerySet[Account], today: date) -> dict[int, Inputs]:
    return gather_with_sources(accounts, today).inputs


def gather_with_sources(
    accounts: QuerySet[Account], today: date, id_range: tuple[int, int] | None = None
) -> Gathered:
    """Every account's inputs and their sources. `id_range`: the ids `accounts` is
    limited to, if it is (`scorable_accounts(id_range=...)`), passed on to each query."""
    result: dict[int, Inputs] = {}
    sources: dict[int, Sources] = {}
    for pk, progress, status in accounts.values_list(
        "pk", "onboarding_progress", "onboarding_status"
    ):
        result[pk] = {
            Input.ONBOARDING_PROGRESS: None if progress is None else float(progress),
            Input.ONBOARDING_LATE: (1.0 if status == "late" else 0.0) if status else None,
        }

    oldest, latest = _usage_ends(accounts, today, id_range)
    for pk, row in latest.items():
        _pk, when, active, seats, used, logins, features, tickets, csat, nps = row
        inputs = result.setdefault(pk, {})
        inputs[Input.ACTIVE_USERS_RATIO] = _ratio(active, seats)
        inputs[Input.SEAT_UTILISATION] = _ratio(used, seats)
        inputs[Input.LOGINS_30D] = None if logins is None else float(logins)
        inputs[Input.CORE_FEATURES] = None if features is None else float(features)
        inputs[Input.OPEN_TICKETS] = None if tickets is None else float(tickets)
        inputs[Input.CSAT] = None if csat is None else float(csat)
        inputs[Input.NPS] = None if nps is None else float(nps)
        first = oldest[pk]
        if (when - first[1]).days >= TREND_MIN_DAYS and first[5] and logins is not None:
            inputs[Input.LOGIN_TREND_90D] = 100.0 * (logins - first[5]) / first[5]
        sources[pk] = {
            name: USAGE_SNAPSHOT
            for name, value in inputs.items()
            if value is not None and name in _USAGE_FALLBACK
        }

    for pk, inputs in result.items():
        for name in (Input.ONBOARDING_PROGRESS, Input.ONBOARDING_LATE):
            if inputs.get(name) is not None:
                sources.setdefault(pk, {})[name] = INPUT_SOURCES[name][0]

    for dotted in PROVIDERS:
        provider: Provider = import_string(dotted)
        for pk, values in provider(accounts, today, id_range=id_range).items():
            if pk in result:
                result[pk].update(values)
                known = sources.setdefault(pk, {})
                for provided in values:
                    known[provided] = _provided_source(provided)
    return Gathered(result, sources)


# Looked up once per input per account (a million times a day at 100,000 accounts), so
# by name in plain dicts rather than through the Input enum's constructor.
_USAGE_FALLBACK = frozenset(
    i.value for i, found in INPUT_SOURCES.items() if found[-1] == USAGE_SNAPSHOT
)
_FIRST_SOURCE = {i.value: found[0] for i, found in INPUT_SOURCES.items()}


USAGE_COLUMNS = (
    "account_id",
    "date",
    "active_users",
    "seats_purchased",
    "seats_used",
    "logins_30d",
    "core_features_adopted",
    "open_tickets",
    "csat",
    "nps",
)


def _usage_ends(
    accounts: QuerySet[Account], today: date, id_range: tuple[int, int] | None = None
) -> tuple[dict[int, tuple[Any, ...]], dict[int, tuple[Any, ...]]]:
    """Each account's oldest and latest usage snapshot in the window, as rows of
    USAGE_COLUMNS (of the oldest, only the date and logins are used).

    On PostgreSQL the database picks them: one row per account (DISTINCT ON the
    latest, the oldest's date and logins by window functions) instead of every
    snapshot in the window, about 4 per account, each fetched and converted by the ORM
    (367,000 rows at 100,000 accounts). Elsewhere, every row, in order."""
    window = UsageSnapshot.objects.filter(
        within(id_range),
        account__in=accounts,
        date__gt=today - timedelta(days=USAGE_WINDOW_DAYS),
        date__lte=today,
    )
    oldest: dict[int, tuple[Any, ...]] = {}
    latest: dict[int, tuple[Any, ...]] = {}
    if connection.vendor == "postgresql":
        by_date = {"partition_by": [F("account_id")], "order_by": F("date").asc()}
        ends = (
            window.annotate(
                first_date=Window(FirstValue("date"), **by_date),  # type: ignore[arg-type]
                first_logins=Window(FirstValue("logins_30d"), **by_date),  # type: ignore[arg-type]
            )
            .order_by("account_id", "-date")
            .distinct("account_id")
            .values_list(*USAGE_COLUMNS, "first_date", "first_logins")
        )
        for row in ends.iterator(chunk_size=20_000):
            latest[row[0]] = row[:-2]
            oldest[row[0]] = (row[0], row[-2], None, None, None, row[-1])
        return oldest, latest
    rows = window.order_by("account_id", "date").values_list(*USAGE_COLUMNS)
    for row in rows.iterator(chunk_size=20_000):
        oldest.setdefault(row[0], row)
        latest[row[0]] = row
    return oldest, latest


def _provided_source(name: str) -> str:
    return _FIRST_SOURCE.get(name, "")
