from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Account, Stage
from success.health import services
from success.health.models import HealthMeasure, HealthModel, HealthScore
from tests.factories import AccountFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def _only_users_measure(model: HealthModel) -> None:
    """Reduce the model to one measure so expected scores are easy to state."""
    model.measures.all().delete()
    HealthMeasure.objects.create(model=model, input="active_users_ratio", weight=1, low=20, high=80)


@pytest.fixture
def model() -> HealthModel:
    active = HealthModel.objects.get(status="active")
    _only_users_measure(active)
    return active


def _account_with_usage(active: int, seats: int = 100, **kwargs: Any) -> Account:
    account = AccountFactory.create(**kwargs)
    UsageSnapshotFactory.create(
        account=account, date=TODAY - timedelta(days=2), active_users=active, seats_purchased=seats
    )
    return account


def test_a_fresh_install_has_an_active_default_model() -> None:
    model = HealthModel.objects.get(status="active")
    assert model.version == 1
    assert model.measures.count() >= 5


def test_daily_job_stores_score_breakdown_and_writes_the_account(model: HealthModel) -> None:
    account = _account_with_usage(active=50)  # 50% of seats -> (50-20)/60 = 50
    run = services.health_scores_compute(today=TODAY)
    score = HealthScore.objects.get(account=account, date=TODAY)
    assert (score.score, score.band, score.model) == (50, "yellow", model)
    assert score.breakdown == [
        {
            "input": "active_users_ratio",
            "value": 50.0,
            "score": 50.0,
            "weight": 1.0,
            "contribution": 50.0,
            "source": "usage snapshot",
        }
    ]
    account.refresh_from_db()
    assert (account.health_score, account.health_band) == (50, "yellow")
    assert (run.scored, run.accounts_written) == (1, 1)


def test_running_the_job_twice_a_day_changes_nothing_the_second_time(model: HealthModel) -> None:
    _account_with_usage(active=90)
    services.health_scores_compute(today=TODAY)
    second = services.health_scores_compute(today=TODAY)
    assert HealthScore.objects.count() == 1
    assert second.accounts_written == 0


def test_a_rerun_and_a_run_meeting_todays_scores_store_what_a_first_run_does(
    model: HealthModel,
) -> None:
    """The day's first run COPYs new rows; a rerun, or a portfolio run after one account
    was rescored today, upserts: the stored scores and breakdowns are the same."""
    accounts = [_account_with_usage(active=a) for a in (30, 50, 90)]

    def stored() -> list[tuple[Any, ...]]:
        return list(
            HealthScore.objects.filter(date=TODAY)
            .order_by("account_id")
            .values_list("account_id", "score", "band", "breakdown", "missing", "model_id")
        )

    services.health_scores_compute(today=TODAY)
    first = stored()
    assert [score for _, score, *_ in first] == [17, 50, 100]
    services.health_scores_compute(today=TODAY)
    assert stored() == first
    HealthScore.objects.all().delete()
    services.health_scores_compute(today=TODAY, account_ids=[accounts[1].pk])
    services.health_scores_compute(today=TODAY)
    assert stored() == first
    assert HealthScore.objects.count() == 3


def test_accounts_without_any_input_get_no_score(model: HealthModel) -> None:
    account = AccountFactory.create()
    run = services.health_scores_compute(today=TODAY)
    assert run.without_data == 1
    assert not HealthScore.objects.filter(account=account).exists()


def test_churned_accounts_are_not_scored(model: HealthModel) -> None:
    _account_with_usage(active=90, stage=Stage.CHURNED)
    assert services.health_scores_compute(today=TODAY).scored == 0


@pytest.mark.parametrize("accounts", [5, 50])
def test_scoring_costs_the_same_queries_for_5_or_50_accounts(
    model: HealthModel, accounts: int, django_assert_num_queries: Any
) -> None:
    for i in range(accounts):
        _account_with_usage(active=i % 100)
    # active model, measures, account fields, usage window, last review dates,
    # review sentiments, objectives, support tickets, survey answers, touches,
    # overrides; then a savepoint, the scores (the day's first run: a probe for scores
    # of the day, a savepoint, the COPY, which is not counted, its release), a nested
    # savepoint, one UPDATE of the changed accounts, and two releases: the same 19 for
    # any number of accounts
    with django_assert_num_queries(19):
        services.health_scores_compute(today=TODAY)


def test_override_wins_on_the_account_and_the_computed_score_is_kept(
    model: HealthModel, csm: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = _account_with_usage(active=95)  # computed 100, green
    services.health_scores_compute(today=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.health_override_set(
            account=account,
            score=20,
            reason="Exec sponsor is leaving",
            expires_on=date.today() + timedelta(days=30),
            by=csm,
        )
    account.refresh_from_db()
    assert (account.health_score, account.health_band) == (20, "red")
    assert HealthScore.objects.get(account=account, date=TODAY).score == 100
    run = services.health_scores_compute(today=TODAY)
    assert run.flagged == [account.pk]  # green computed vs red override: two bands apart


def test_override_needs_a_reason_and_a_future_expiry(csm: Any) -> None:
    account = AccountFactory.create()
    with pytest.raises(ValidationError):
        services.health_override_set(
            account=account,
            score=50,
            reason=" ",
            expires_on=date.today() + timedelta(days=1),
            by=csm,
        )
    with pytest.raises(ValidationError):
        services.health_override_set(
            account=account, score=50, reason="x", expires_on=date.today(), by=csm
        )
    assert not account.health_overrides.exists()


def test_new_version_copies_the_active_model_and_leaves_it_untouched(
    model: HealthModel, admin_user: Any
) -> None:
    draft = services.health_model_new_version(source=model, by=admin_user)
    assert (draft.version, draft.status) == (2, "draft")
    services.health_model_update_draft(
        model=draft,
        data={"green_min": 80},
        measures=[{"input": "active_users_ratio", "weight": 2, "low": 0, "high": 50}],
    )
    model.refresh_from_db()
    assert model.green_min == 70
    assert list(model.measures.values_list("low", "high")) == [(20.0, 80.0)]
    with pytest.raises(ValidationError):
        services.health_model_update_draft(model=model, data={"green_min": 90}, measures=[])


def test_preview_counts_band_changes_and_activation_rescored_with_the_new_version(
    model: HealthModel, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = _account_with_usage(active=50)  # active model: 50 yellow
    _account_with_usage(active=10)  # active model: 0 red
    draft = services.health_model_new_version(source=model, by=admin_user)
    services.health_model_update_draft(
        model=draft,
        data={},
        measures=[{"input": "active_users_ratio", "weight": 1, "low": 0, "high": 50}],
    )
    preview = services.health_model_preview(draft=draft, today=TODAY)
    # draft: 50 -> 100 green, 10 -> 20 red; one account changes band
    assert (preview.band_changes, preview.draft_bands["green"], preview.draft_bands["red"]) == (
        1,
        1,
        1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.health_model_activate(model=draft, by=admin_user)
    model.refresh_from_db()
    assert model.status == "retired"
    score = HealthScore.objects.get(account=a, date=date.today())
    assert (score.model, score.score) == (draft, 100)


def test_a_range_of_ids_scores_the_scorable_accounts_in_it_and_no_others(
    model: HealthModel,
) -> None:
    """The daily job's chunks are id ranges (success.health.tasks.score_account_range)."""
    accounts = [_account_with_usage(active=10 * i) for i in range(1, 3)]
    churned = _account_with_usage(active=90, stage=Stage.CHURNED)  # in the range, not scored
    accounts += [_account_with_usage(active=10 * i) for i in range(3, 6)]
    first, last = accounts[1].pk, accounts[3].pk
    assert first < churned.pk < last
    run = services.health_scores_compute(today=TODAY, id_range=(first, last))
    scored = set(HealthScore.objects.filter(date=TODAY).values_list("account_id", flat=True))
    assert scored == {a.pk for a in accounts[1:4]}
    assert run.scored == 3
    # Two ranges that cover every id score what the unsplit job scores, with the same values.
    services.health_scores_compute(today=TODAY, id_range=(0, accounts[2].pk))
    services.health_scores_compute(today=TODAY, id_range=(accounts[2].pk + 1, 10**12))
    split = dict(HealthScore.objects.filter(date=TODAY).values_list("account_id", "score"))
    HealthScore.objects.all().delete()
    services.health_scores_compute(today=TODAY)
    whole = dict(HealthScore.objects.filter(date=TODAY).values_list("account_id", "score"))
    assert split == whole and set(whole) == {a.pk for a in accounts}


@pytest.mark.parametrize("accounts", [5, 50])
def test_a_range_costs_the_same_queries_as_the_whole_portfolio(
    model: HealthModel, accounts: int, django_assert_num_queries: Any
) -> None:
    made = [_account_with_usage(active=i % 100) for i in range(accounts)]
    with django_assert_num_queries(19):
        services.health_scores_compute(today=TODAY, id_range=(made[0].pk, made[-1].pk))
