from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ForecastCategory, HealthBand, Segment
from success import services
from success.models import BusinessReview, ForecastChange, Renewal, SuccessTask
from success.tasks import renewals_open_due
from tests.factories import (
    AccountFactory,
    BusinessReviewFactory,
    ObjectiveFactory,
    RenewalFactory,
    SuccessPlanFactory,
    SuccessTaskFactory,
)

pytestmark = pytest.mark.django_db


def _forecast(client: Any, renewal: Renewal, **data: Any) -> Any:
    return client.post(reverse("success:renewal_forecast", args=[renewal.pk]), data)


def test_csm_forecasts_own_renewal_but_not_another_csms(
    client: Any, csm: Any, other_csm: Any
) -> None:
    own = RenewalFactory.create(account__owner=csm)
    other = RenewalFactory.create(account__owner=other_csm)
    client.force_login(csm)
    data = {"category": "at_risk", "forecast_arr": "40000", "reason": "Budget freeze"}
    assert _forecast(client, own, **data).status_code == 302
    assert _forecast(client, other, **data).status_code == 403
    assert list(ForecastChange.objects.values_list("renewal_id", flat=True)) == [own.pk]


@pytest.mark.parametrize("role", ["leader", "admin_user"])
def test_leaders_and_admins_forecast_any_renewal(
    client: Any, request: Any, role: str, other_csm: Any
) -> None:
    renewal = RenewalFactory.create(account__owner=other_csm)
    client.force_login(request.getfixturevalue(role))
    response = _forecast(client, renewal, category="commit", forecast_arr="1", reason="Signed")
    assert response.status_code == 302
    renewal.refresh_from_db()
    assert renewal.forecast_category == ForecastCategory.COMMIT


def test_viewer_reads_but_cannot_write(client: Any, viewer: Any, csm: Any) -> None:
    renewal = RenewalFactory.create(account__owner=csm)
    review = BusinessReviewFactory.create(account=renewal.account)
    client.force_login(viewer)
    assert client.get(reverse("success:renewal", args=[renewal.pk])).status_code == 200
    assert client.get(review.get_absolute_url()).status_code == 200
    response = _forecast(client, renewal, category="commit", forecast_arr="1", reason="x")
    assert response.status_code == 403
    response = client.post(
        reverse("success:review_hold", args=[review.pk]),
        {
            "held_on": "2026-01-01",
            "sentiment": "positive",
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403
    assert not ForecastChange.objects.exists()
    review.refresh_from_db()
    assert review.status == BusinessReview.Status.SCHEDULED


def test_forecast_without_reason_rerenders_and_changes_nothing(client: Any, csm: Any) -> None:
    renewal = RenewalFactory.create(account__owner=csm)
    client.force_login(csm)
    response = _forecast(client, renewal, category="at_risk", forecast_arr="5", reason="")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ForecastChange.objects.exists()


def test_holding_a_review_through_the_form_creates_owned_action_items(
    client: Any, csm: Any
) -> None:
    review = BusinessReviewFactory.create(account__owner=csm)
    client.force_login(csm)
    due = date.today() + timedelta(days=5)
    response = client.post(
        reverse("success:review_hold", args=[review.pk]),
        {
            "held_on": date.today().isoformat(),
            "sentiment": "negative",
            "outcomes": "Usage concerns",
            "notes": "",
            "items-TOTAL_FORMS": "3",
            "items-INITIAL_FORMS": "0",
            "items-0-title": "Fix SSO",
            "items-0-assignee": f"u:{csm.pk}",
            "items-0-due_date": due.isoformat(),
            "items-1-title": "",
            "items-2-title": "",
        },
    )
    assert response.status_code == 302
    task = SuccessTask.objects.get(review=review)
    assert (task.title, task.assignee_user, task.due_date) == ("Fix SSO", csm, due)


def test_shared_link_shows_the_plan_without_internal_data(client: Any, csm: Any) -> None:
    plan = SuccessPlanFactory.create(
        account__owner=csm,
        desired_outcomes="Halve ramp time",
        internal_notes="SECRET: sponsor may leave",
    )
    objective = ObjectiveFactory.create(plan=plan, title="Ramp time", status_note="CSM-ONLY note")
    SuccessTaskFactory.create(account=plan.account, objective=objective, title="Run training")
    services.objective_value_record(
        objective=objective, value=Decimal("25"), note="PRIVATE-HISTORY", by=csm
    )
    services.plan_share(plan=plan, by=csm)
    url = reverse("success:shared_plan", args=[plan.share_token])

    response = client.get(url)  # anonymous
    body = response.content.decode()
    assert response.status_code == 200
    assert "Halve ramp time" in body and "Ramp time" in body and "Run training" in body
    for leak in ("SECRET", "CSM-ONLY", "PRIVATE-HISTORY", csm.username, "Sign out"):
        assert leak not in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"

    services.plan_share_revoke(plan=plan, by=csm)
    assert client.get(url).status_code == 404


def test_replacing_the_plan_retires_the_shared_link(client: Any, csm: Any) -> None:
    plan = SuccessPlanFactory.create(account__owner=csm)
    services.plan_share(plan=plan, by=csm)
    url = reverse("success:shared_plan", args=[plan.share_token])
    services.plan_create(account=plan.account, desired_outcomes="New", by=csm)
    assert client.get(url).status_code == 404


def test_daily_job_is_idempotent(csm: Any) -> None:
    AccountFactory.create(owner=csm, renewal_date=date.today() + timedelta(days=30))
    AccountFactory.create(owner=csm, renewal_date=date.today() + timedelta(days=300))
    assert renewals_open_due() == "1 renewal(s) opened"
    assert renewals_open_due() == "0 renewal(s) opened"
    assert Renewal.objects.count() == 1


def _book(csm: Any, rows: int) -> None:
    for i in range(rows):
        account = AccountFactory.create(
            owner=csm,
            renewal_date=date.today() + timedelta(days=10 + i),
            health_band=HealthBand.RED if i % 3 == 0 else "",
        )
        RenewalFactory.create(account=account, forecast_category=ForecastCategory.values[i % 4])
        review = BusinessReviewFactory.create(account=account, owner=csm)
        SuccessTaskFactory.create(account=account, assignee_user=csm)
        SuccessTaskFactory.create(account=account, assignee_user=csm, review=review)


@pytest.mark.parametrize("rows", [5, 50])
def test_my_work_query_count_does_not_grow(
    client: Any, csm: Any, rows: int, django_assert_num_queries: Any
) -> None:
    _book(csm, rows)
    client.force_login(csm)
    # session, user with their role groups; the sections (one statement: prepared
    # with its first run, on the same round trip); open sync conflicts
    with django_assert_num_queries(4):
        response = client.get(reverse("success:my_work"))
    # a task and an action item per account are due in 7 days: the first view
    # shows 25 of them; renewals and reviews come later
    assert response.content.decode().count("<tr class=") == min(rows * 2, 25)
    with django_assert_num_queries(4):
        response = client.get(reverse("success:my_work") + "?section=later")
    assert response.content.decode().count("<tr class=") == min(rows * 2, 100)


@pytest.mark.parametrize("rows", [5, 50])
def test_renewals_page_query_count_does_not_grow(
    client: Any, leader: Any, csm: Any, rows: int, django_assert_num_queries: Any
) -> None:
    _book(csm, rows)
    client.force_login(leader)
    # session, user with their role groups; owner choices, totals, page rows (the
    # totals give the page count)
    with django_assert_num_queries(5):
        response = client.get(reverse("success:renewals"))
    assert response.status_code == 200
    assert response.content.decode().count('class="row-title"') == min(rows, 25)


def test_my_work_lists_overdue_first(client: Any, csm: Any) -> None:
    account = AccountFactory.create(owner=csm, renewal_date=None, contract_start=None)
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, title="Soon", due_date=date.today() + timedelta(days=1)
    )
    SuccessTaskFactory.create(account=account, assignee_user=csm, title="Undated", due_date=None)
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, title="Late", due_date=date.today() - timedelta(days=3)
    )
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, title="Finished already", done_at=timezone.now()
    )
    client.force_login(csm)
    body = client.get(reverse("success:my_work")).content.decode()
    assert body.index("Late") < body.index("Soon")
    # undated work is its own section, one link away, with its count
    assert "Undated" not in body and 'href="?section=undated">No date (1)</a>' in body
    undated = client.get(reverse("success:my_work") + "?section=undated").content.decode()
    assert "Undated" in undated and "Late" not in undated
    assert "Finished already" not in body + undated


def test_renewals_totals_and_filters(client: Any, leader: Any, csm: Any, other_csm: Any) -> None:
    month = date.today().replace(day=1) + timedelta(days=40)
    a = AccountFactory.create(owner=csm, segment=Segment.ENTERPRISE, renewal_date=month)
    b = AccountFactory.create(
        owner=other_csm, segment=Segment.SMB, renewal_date=month, health_band=HealthBand.RED
    )
    RenewalFactory.create(
        account=a,
        current_arr=Decimal("100.50"),
        forecast_arr=Decimal("90"),
        forecast_category="at_risk",
    )
    RenewalFactory.create(
        account=b,
        current_arr=Decimal("200.25"),
        forecast_arr=Decimal("200"),
        forecast_category="commit",
    )
    client.force_login(leader)
    response = client.get(reverse("success:renewals"))
    [period] = response.context["periods"]
    assert period.up_for_renewal == Decimal("300.75")
    assert period.forecast == Decimal("290.00")
    # at risk by forecast (a) plus red health (b)
    assert period.at_risk == Decimal("300.75")
    assert period.by_category == {"at_risk": Decimal("100.50"), "commit": Decimal("200.25")}

    response = client.get(reverse("success:renewals"), {"segment": "smb"})
    assert response.context["total"].up_for_renewal == Decimal("200.25")
    response = client.get(reverse("success:renewals"), {"owner": str(csm.pk)})
    assert response.context["total"].up_for_renewal == Decimal("100.50")
    response = client.get(reverse("success:renewals"), {"group": "quarter"})
    assert response.context["periods"][0].label.startswith("Q")

    export = client.get(reverse("success:renewals_export"), {"segment": "enterprise"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [(r["account"], r["arr_up_for_renewal"], r["forecast_category"]) for r in rows] == [
        (a.name, "100.50", "at_risk")
    ]


def test_renewals_default_to_the_csms_own_book(client: Any, csm: Any, other_csm: Any) -> None:
    RenewalFactory.create(account__owner=csm, account__name="Mine")
    RenewalFactory.create(account__owner=other_csm, account__name="Theirs")
    client.force_login(csm)
    body = client.get(reverse("success:renewals")).content.decode()
    assert "Mine" in body and "Theirs" not in body


def test_htmx_gets_only_the_results_partial(client: Any, leader: Any) -> None:
    RenewalFactory.create()
    client.force_login(leader)
    response = client.get(reverse("success:renewals"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">') and "<html" not in body


def test_account_page_shows_success_sections(client: Any, csm: Any) -> None:
    plan = SuccessPlanFactory.create(account__owner=csm, desired_outcomes="Win big")
    ObjectiveFactory.create(plan=plan, title="Adoption up")
    BusinessReviewFactory.create(account=plan.account)
    RenewalFactory.create(account=plan.account, forecast_category="likely")
    client.force_login(csm)
    body = client.get(plan.account.get_absolute_url()).content.decode()
    for text in ('id="success-plan"', "Adoption up", 'id="reviews"', 'id="renewal"', "Likely"):
        assert text in body


def test_closing_through_the_form_requires_a_churn_reason(client: Any, csm: Any) -> None:
    renewal = RenewalFactory.create(account__owner=csm)
    client.force_login(csm)
    url = reverse("success:renewal_close", args=[renewal.pk])
    response = client.post(url, {"outcome": "churned", "closed_on": "2026-11-01"})
    assert (
        response.status_code == 200 and "Pick why the customer left." in response.content.decode()
    )
    response = client.post(
        url, {"outcome": "renewed", "new_arr": "60000", "closed_on": "2026-11-01"}
    )
    assert response.status_code == 302
    renewal.refresh_from_db()
    assert renewal.status == Renewal.Status.RENEWED


def test_ticking_a_task_with_htmx_returns_only_the_objectives(client: Any, csm: Any) -> None:
    objective = ObjectiveFactory.create(plan__account__owner=csm)
    task = SuccessTaskFactory.create(account=objective.plan.account, objective=objective)
    client.force_login(csm)
    plan_url = reverse("success:plan", args=[objective.plan.account_id])
    response = client.post(
        reverse("success:task_done", args=[task.pk]),
        {"next": plan_url, "done": "1"},
        headers={"HX-Request": "true"},
        follow=True,
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="panel" id="objectives">')
    assert "<html" not in body
    task.refresh_from_db()
    assert task.done


def test_task_done_ignores_offsite_next(client: Any, csm: Any) -> None:
    task = SuccessTaskFactory.create(account__owner=csm)
    client.force_login(csm)
    response = client.post(
        reverse("success:task_done", args=[task.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("success:my_work")


def test_customer_link_is_shown_only_to_those_who_can_edit_the_account(
    client: Any, csm: Any, other_csm: Any, viewer: Any, leader: Any
) -> None:
    plan = SuccessPlanFactory.create(account__owner=csm)
    services.plan_share(plan=plan, by=csm)
    link = reverse("success:shared_plan", args=[plan.share_token])
    page = reverse("success:plan", args=[plan.account_id])
    for reader in (viewer, other_csm):
        client.force_login(reader)
        body = client.get(page).content.decode()
        assert plan.share_token not in body and link not in body
        assert "the link is shown to those who can edit this account" in body
    for editor in (csm, leader):
        client.force_login(editor)
        assert link in client.get(page).content.decode()


@pytest.mark.parametrize("field", ["attendee_users", "attendee_contacts"])
def test_an_attendee_id_beyond_any_integer_column_is_refused_on_the_form(
    client: Any, csm: Any, field: str, django_assert_num_queries: Any
) -> None:
    """Found by posting every form with odd values: on SQLite (`make run`), an attendee
    id of 20 digits reached the database and answered 500 (OverflowError). It is an
    invalid choice, refused before any query, and nothing is scheduled."""
    from accounts.forms import ModelIdsField
    from success.forms import ReviewScheduleForm

    account = AccountFactory.create(owner=csm)
    form_field = ReviewScheduleForm(account=account).fields[field]
    assert isinstance(form_field, ModelIdsField)
    with django_assert_num_queries(0), pytest.raises(Exception, match="valid choice"):
        form_field.clean(["99999999999999999999"])
    client.force_login(csm)
    response = client.post(
        reverse("success:review_create", args=[account.pk]),
        {"kind": "qbr", "scheduled_for": "2027-01-10", field: ["99999999999999999999"]},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not BusinessReview.objects.filter(account=account).exists()
