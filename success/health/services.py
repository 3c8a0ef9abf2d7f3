"""Every write of the health domain: model versions, daily scores, overrides."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts import bulk
from accounts.formats import date_display
from accounts.models import Account, Event, User
from accounts.services import account_cs_fields_bulk_update, event_record
from lifecycle.ops.memory import collector_paused

from . import inputs as health_inputs
from .models import HealthMeasure, HealthModel, HealthOverride, HealthScore
from .scoring import Bands, Measure, Result, breakdown_json, compute

BAND_ORDER = {"red": 0, "yellow": 1, "green": 2}


@transaction.atomic
def health_model_new_version(*, source: HealthModel, by: User) -> HealthModel:
    """Start a draft that copies `source`; the source never changes, so every
    score keeps meaning what it meant."""
    existing = HealthModel.objects.filter(status=HealthModel.Status.DRAFT).first()
    if existing:
        return existing
    version = (HealthModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    draft = HealthModel.objects.create(
        version=version,
        name=source.name,
        green_min=source.green_min,
        yellow_min=source.yellow_min,
        created_by=by,
        note="",
    )
    HealthMeasure.objects.bulk_create(
        HealthMeasure(
            model=draft,
            input=m.input,
            weight=m.weight,
            rule=m.rule,
            direction=m.direction,
            low=m.low,
            high=m.high,
            steps=m.steps,
        )
        for m in source.measures.all()
    )
    return draft


def _require_draft(model: HealthModel) -> None:
    if model.status != HealthModel.Status.DRAFT:
        raise ValidationError("Only a draft can change; start a new version instead.")


@transaction.atomic
def health_model_update_draft(
    *, model: HealthModel, data: Mapping[str, Any], measures: Iterable[Mapping[str, Any]]
) -> HealthModel:
    """Replace a draft's settings and measures. Needs at least one measure."""
    _require_draft(model)
    for key, value in data.items():
        setattr(model, key, value)
    model.full_clean()
    model.save()
    specs = list(measures)
    if not specs:
        raise ValidationError("A health model needs at least one measure.")
    model.measures.all().delete()
    for spec in specs:
        measure = HealthMeasure(model=model, **spec)
        measure.full_clean()
        measure.save()
    return model


@transaction.atomic
def health_model_activate(*, model: HealthModel, by: User) -> HealthModel:
    """Make a draft the one active model and rescore today with it."""
    _require_draft(model)
    if not model.measures.exists():
        raise ValidationError("A health model needs at least one measure.")
    HealthModel.objects.filter(status=HealthModel.Status.ACTIVE).update(
        status=HealthModel.Status.RETIRED
    )
    model.status = HealthModel.Status.ACTIVE
    model.activated_at = timezone.now()
    model.save(update_fields=["status", "activated_at"])
    transaction.on_commit(lambda: health_scores_compute(today=timezone.localdate()))
    return model


def active_model() -> HealthModel | None:
    return (
        HealthModel.objects.filter(status=HealthModel.Status.ACTIVE)
        .prefetch_related("measures")
        .first()
    )


def _score_all(
    model: HealthModel,
    account_ids: Iterable[int] | None,
    today: date,
    id_range: tuple[int, int] | None = None,
) -> dict[int, Result]:
    measures: list[Measure] = model.measures_for_scoring()
    bands: Bands = model.bands
    gathered = health_inputs.gather_with_sources(
        health_inputs.scorable_accounts(account_ids, id_range), today, id_range
    )
    return {
        pk: compute(measures, values, bands, gathered.sources.get(pk))
        for pk, values in gathered.inputs.items()
    }


@dataclass
class ScoringRun:
    scored: int = 0
    without_data: int = 0
    accounts_written: int = 0
    flagged: list[int] = field(default_factory=list)
    bands: Counter[str] = field(default_factory=Counter)
    # Where the time went, for benchmarks and logs: {phase: seconds}.
    seconds: dict[str, float] = field(default_factory=dict)

    def lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - since, 3)
        return now


def active_overrides(
    account_ids: Iterable[int] | None, today: date, id_range: tuple[int, int] | None = None
) -> dict[int, HealthOverride]:
    qs = HealthOverride.objects.filter(ended_at__isnull=True, expires_on__gte=today)
    if account_ids is not None:
        qs = qs.filter(account_id__in=list(account_ids))
    if id_range is not None:
        qs = qs.filter(account_id__gte=id_range[0], account_id__lte=id_range[1])
    return {o.account_id: o for o in qs.order_by("created_at")}


def health_scores_compute(
    *,
    today: date,
    account_ids: Iterable[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> ScoringRun:
    """Score accounts (all scorable ones; these ids; or those with ids in this
    inclusive range) with the active model and store today's score per account
    with its breakdown; write the effective score (an unexpired override wins)
    and band onto the account for HubSpot. Idempotent for a day."""
    with collector_paused():
        return _scores_compute(today, account_ids, id_range)


def _scores_compute(
    today: date, account_ids: Iterable[int] | None, id_range: tuple[int, int] | None
) -> ScoringRun:
    started = time.perf_counter()
    model = active_model()
    run = ScoringRun()
    if model is None:
        return run
    ids = None if account_ids is None else list(account_ids)
    results = _score_all(model, ids, today, id_range)
    overrides = active_overrides(ids, today, id_range)
    started = run.lap("gather_and_compute", started)
    now = timezone.now()
    scored: list[tuple[int, Result]] = []
    account_values: dict[int, dict[str, Any]] = {}
    for pk, result in results.items():
        if result.score is None:
            run.without_data += 1
            continue
        run.scored += 1
        run.bands[result.band] += 1
        scored.append((pk, result))
        effective, band = result.score, result.band
        override = overrides.get(pk)
        if override:
            effective, band = override.score, model.bands.band(override.score)
            if abs(BAND_ORDER[band] - BAND_ORDER[result.band]) > 1:
                run.flagged.append(pk)
        account_values[pk] = {"health_score": effective, "health_band": band}
    started = run.lap("rows", started)
    with transaction.atomic():
        _scores_write(model, today, now, scored, id_range)
        started = run.lap("write_scores", started)
        run.accounts_written = account_cs_fields_bulk_update(values=account_values)
        started = run.lap("write_accounts", started)
    run.lap("commit", started)
    return run


SCORE_UPDATE = ["model", "score", "band", "breakdown", "missing", "computed_at"]


def _scores_write(
    model: HealthModel,
    today: date,
    now: datetime,
    scored: list[tuple[int, Result]],
    id_range: tuple[int, int] | None = None,
) -> None:
    """Store the day's scores, replacing any the accounts already have for the day.

    On PostgreSQL the rows are COPYed, the breakdown encoded straight to JSON text
    (`scoring.breakdown_json`): at 100,000 accounts the per-row dicts and parameter
    arrays of `bulk.upsert` cost most of the job. The day's first run (no score yet
    for the day among these accounts, one indexed probe) COPYs straight into the table;
    a rerun, or a first run that meets a score written meanwhile (the unique constraint
    stops the COPY, its savepoint is rolled back), COPYs into a temporary table and
    upserts from it. Elsewhere (SQLite for trying the app), the ORM's bulk upsert."""
    if not scored:
        return
    if connection.vendor == "postgresql":

        def encoded() -> Iterator[tuple[Any, ...]]:
            for pk, result in scored:
                yield (
                    pk,
                    result.score,
                    result.band,
                    breakdown_json(result.contributions),
                    json.dumps(result.missing),
                )

        columns = ["account_id", "score", "band", "breakdown", "missing"]
        constants = {"date": today, "model_id": model.pk, "computed_at": now}
        existing = HealthScore.objects.filter(date=today)
        if id_range is not None:
            existing = existing.filter(account_id__gte=id_range[0], account_id__lte=id_range[1])
        elif len(scored) <= 10_000:
            existing = existing.filter(account_id__in=[pk for pk, _ in scored])
        if not existing.exists():
            fixed = tuple(constants.values())
            try:
                with transaction.atomic():
                    bulk.copy_insert(
                        HealthScore,
                        (row + fixed for row in encoded()),
                        columns=[*columns, *constants],
                    )
                return
            except IntegrityError:
                pass  # scored meanwhile by another run: upsert instead
        bulk.copy_upsert(
            HealthScore,
            encoded(),
            columns=columns,
            constants=constants,
            unique=["account", "date"],
            update=SCORE_UPDATE,
        )
        return
    bulk.upsert(
        HealthScore,
        [
            {
                "account_id": pk,
                "date": today,
                "model_id": model.pk,
                "score": result.score,
                "band": result.band,
                "breakdown": [c.as_dict() for c in result.contributions],
                "missing": result.missing,
                "computed_at": now,
            }
            for pk, result in scored
        ],
        unique=["account", "date"],
        update=SCORE_UPDATE,
    )


@dataclass
class Preview:
    draft_bands: Counter[str]
    active_bands: Counter[str]
    band_changes: int
    scored: int
    histogram: list[int]


def health_model_preview(*, draft: HealthModel, today: date) -> Preview:
    """How the draft would score the portfolio today, next to the active model:
    the band distribution and how many accounts change band. Writes nothing."""
    draft_results = _score_all(draft, None, today)
    active = active_model()
    active_results = _score_all(active, None, today) if active else {}
    histogram = [0] * 10
    changes = 0
    draft_bands: Counter[str] = Counter()
    active_bands: Counter[str] = Counter()
    for pk, result in draft_results.items():
        if result.score is None:
            continue
        draft_bands[result.band] += 1
        histogram[min(9, result.score // 10)] += 1
        before = active_results.get(pk)
        if before and before.score is not None:
            active_bands[before.band] += 1
            changes += before.band != result.band
    return Preview(draft_bands, active_bands, changes, sum(draft_bands.values()), histogram)


@transaction.atomic
def health_override_set(
    *, account: Account, score: int, reason: str, expires_on: date, by: User
) -> HealthOverride:
    """A CSM's sentiment score with a reason and an expiry; replaces any
    previous override and rescoring puts it on the account at once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the computed score is wrong."})
    if expires_on <= timezone.localdate():
        raise ValidationError({"expires_on": "The override must expire in the future."})
    if not 0 <= score <= 100:
        raise ValidationError({"score": "Scores go from 0 to 100."})
    now = timezone.now()
    account.health_overrides.filter(ended_at__isnull=True).update(ended_at=now)
    override = HealthOverride.objects.create(
        account=account,
        score=score,
        reason=reason,
        expires_on=expires_on,
        created_by=by,
    )
    event_record(
        account=account,
        kind=Event.Kind.HEALTH,
        actor=by,
        summary=f"Health overridden to {score} until {date_display(expires_on)}: {reason}",
    )
    transaction.on_commit(
        lambda: health_scores_compute(today=timezone.localdate(), account_ids=[account.pk])
    )
    return override


@transaction.atomic
def health_override_end(*, account: Account, by: User) -> None:
    ended = account.health_overrides.filter(ended_at__isnull=True).update(ended_at=timezone.now())
    if ended:
        event_record(
            account=account,
            kind=Event.Kind.HEALTH,
            actor=by,
            summary="Health override removed; the computed score applies again",
        )
        transaction.on_commit(
            lambda: health_scores_compute(today=timezone.localdate(), account_ids=[account.pk])
        )
