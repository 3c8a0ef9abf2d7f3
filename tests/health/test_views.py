from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from success.health import services
from success.health.models import HealthModel, HealthScore
from tests.factories import AccountFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db


def _scored_account(owner: Any = None) -> Any:
    account = AccountFactory.create(owner=owner)
    UsageSnapshotFactory.create(
        account=account,
        date=timezone.localdate() - timedelta(days=1),
        active_users=30,
        seats_purchased=100,
        open_tickets=9,
        csat=None,
        nps=None,
    )
    services.health_scores_compute(today=timezone.localdate())
    account.refresh_from_db()
    return account


def test_account_health_page_explains_the_score(client: Any, viewer: Any) -> None:
    account = _scored_account()
    client.force_login(viewer)
    page = html.unescape(client.get(reverse("health:account", args=[account.pk])).content.decode())
    assert f">{account.health_score}<" in page
    assert "pulls the score down most" in page
    assert "No data for:" in page  # CSAT, NPS, trend... are missing


def test_admin_builds_a_new_version_previews_and_activates_it(
    client: Any, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _scored_account()
    client.force_login(admin_user)
    response = client.post(reverse("health:model_new_version"))
    draft = HealthModel.objects.get(status="draft")
    assert response.url == reverse("health:model_edit", args=[draft.pk])

    form = {
        "model-name": "Leaner",
        "model-green_min": "60",
        "model-yellow_min": "30",
        "model-note": "Usage only",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-0-input": "active_users_ratio",
        "m-0-weight": "1",
        "m-0-rule": "linear",
        "m-0-direction": "higher",
        "m-0-low": "0",
        "m-0-high": "30",
        "m-0-steps": "",
    }
    bad = client.post(
        reverse("health:model_edit", args=[draft.pk]), {**form, "model-green_min": "20"}
    )
    assert "Green must start above yellow." in html.unescape(bad.content.decode())

    response = client.post(reverse("health:model_edit", args=[draft.pk]), form)
    assert response.url == reverse("health:model_preview", args=[draft.pk])
    preview = client.get(response.url)
    assert preview.context["preview"].draft_bands["green"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("health:model_activate", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == "active"
    assert HealthScore.objects.get(date=timezone.localdate()).model == draft


def test_measures_must_not_repeat_an_input(client: Any, admin_user: Any) -> None:
    draft = HealthModel.objects.create(version=2, status="draft")
    client.force_login(admin_user)
    row = {
        "input": "csat",
        "weight": "1",
        "rule": "steps",
        "direction": "higher",
        "low": "0",
        "high": "1",
        "steps": "4:100",
    }
    data = {
        "model-name": "x",
        "model-green_min": "70",
        "model-yellow_min": "40",
        "m-TOTAL_FORMS": "2",
        "m-INITIAL_FORMS": "0",
    }
    for i in range(2):
        data.update({f"m-{i}-{k}": v for k, v in row.items()})
    response = client.post(reverse("health:model_edit", args=[draft.pk]), data)
    assert "Each input can be measured once; repeated: csat." in response.content.decode()
    assert not draft.measures.exists()


def test_active_model_cannot_be_edited_in_place(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    active = HealthModel.objects.get(status="active")
    response = client.get(reverse("health:model_edit", args=[active.pk]))
    assert response.status_code == 403


def test_csm_overrides_their_account_and_sees_both_scores(
    client: Any, csm: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = _scored_account(owner=csm)
    computed = account.health_score
    client.force_login(csm)
    url = reverse("health:override", args=[account.pk])
    missing_reason = client.post(url, {"score": "90", "reason": "", "expires_on": "2099-01-01"})
    assert missing_reason.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {
                "score": "90",
                "reason": "Renewal signed verbally",
                "expires_on": str(date.today() + timedelta(days=30)),
            },
        )
    account.refresh_from_db()
    assert account.health_score == 90
    page = html.unescape(client.get(reverse("health:account", args=[account.pk])).content.decode())
    assert "Overridden to <strong>90</strong>" in page
    # computed (red, under 40) and override (green) are two bands apart
    assert "Needs a look:" in page
    assert f"The computed score is <strong>{computed}</strong>" in page
