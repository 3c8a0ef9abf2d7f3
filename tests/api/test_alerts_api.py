"""GET /api/v1/alerts/ (+ detail), GET and POST /api/v1/expansion-signals/."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Event
from success.alerts.models import Alert, AlertRule, ExpansionSignal
from tests.api.permissions import AccountWriter
from tests.factories import AccountFactory
from tests.support.factories import FeedbackSubmissionFactory, TicketFactory

ALERTS = "/api/v1/alerts/"
SIGNALS = "/api/v1/expansion-signals/"


def _alert(owner: Any = None, status: str = "open", **account: Any) -> Alert:
    rule, _ = AlertRule.objects.get_or_create(name="No login", kind="no_login", days=30)
    return Alert.objects.create(
        account=AccountFactory.create(owner=owner, **account),
        rule=rule,
        owner=owner,
        message="No login for 30 days",
        status=status,
        due_on=date.today() + timedelta(days=3),
    )


def _ids(client: APIClient, url: str, params: dict[str, Any] | None = None) -> set[int]:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_alerts_list_shows_rule_owner_and_status(leader: Any, csm: Any, api_as: Any) -> None:
    alert = _alert(owner=csm)
    response = api_as(leader).get(ALERTS)
    [row] = response.json()["results"]
    assert row["id"] == alert.pk and row["account"]["id"] == alert.account_id
    assert row["rule"] == {"id": alert.rule_id, "name": "No login", "kind": "no_login"}
    assert row["owner"]["id"] == csm.pk
    assert (row["status"], row["is_live"]) == ("open", True)
    assert api_as(leader).get(f"{ALERTS}{alert.pk}/").json() == row


@pytest.mark.parametrize("role", ["admin_user", "leader", "viewer"])
def test_everyone_but_csms_reads_every_alert(
    request: pytest.FixtureRequest, csm: Any, other_csm: Any, api_as: Any, role: str
) -> None:
    alerts = {_alert(owner=csm).pk, _alert(owner=other_csm).pk}
    assert _ids(api_as(request.getfixturevalue(role)), ALERTS) == alerts


def test_a_csm_reads_their_own_books_alerts(csm: Any, other_csm: Any, api_as: Any) -> None:
    mine = _alert(owner=csm)
    theirs = _alert(owner=other_csm)
    client = api_as(csm)
    assert _ids(client, ALERTS) == {mine.pk}
    assert client.get(f"{ALERTS}{theirs.pk}/").status_code == 404


def test_alert_filters(leader: Any, csm: Any, api_as: Any) -> None:
    live = _alert(owner=csm, segment="enterprise")
    acknowledged = _alert(status="acknowledged")
    resolved = _alert(status="resolved")
    client = api_as(leader)
    assert _ids(client, ALERTS, {"status": "live"}) == {live.pk, acknowledged.pk}
    assert _ids(client, ALERTS, {"status": "resolved"}) == {resolved.pk}
    assert _ids(client, ALERTS) == {live.pk, acknowledged.pk, resolved.pk}
    assert _ids(client, ALERTS, {"owner": csm.pk}) == {live.pk}
    assert _ids(client, ALERTS, {"segment": "enterprise"}) == {live.pk}
    assert _ids(client, ALERTS, {"account": resolved.account_id}) == {resolved.pk}
    assert _ids(client, ALERTS, {"rule": live.rule_id + 1}) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"rule": "x"}, "rule"),
        ({"ordering": "message"}, "ordering"),
    ],
)
def test_bad_alert_filters_are_400(
    viewer: Any, api_as: Any, params: dict[str, Any], field: str
) -> None:
    response = api_as(viewer).get(ALERTS, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("rows", [5, 50])
def test_alert_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, rows: int
) -> None:
    for _ in range(rows):
        _alert(owner=viewer)
    client = api_as(viewer)
    client.get(ALERTS)
    # token + user, role, alerts with accounts, account owners, rules and alert owners
    with django_assert_num_queries(3):
        response = client.get(ALERTS, {"page_size": rows})
    assert len(response.json()["results"]) == rows


def test_alert_pages_cover_every_alert_once(viewer: Any, api_as: Any) -> None:
    alerts = {_alert().pk for _ in range(7)}
    client = api_as(viewer)
    seen: list[int] = []
    url: str | None = f"{ALERTS}?page_size=2&ordering=due_on"
    while url:
        body = client.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(alerts)


# --- Expansion signals -------------------------------------------------------


def test_owner_raises_an_expansion_signal(csm: Any, api_as: Any) -> None:
    account: Any = AccountFactory(owner=csm)
    response = api_as(csm).post(
        SIGNALS,
        {"account": account.pk, "source": "support", "note": "Asked about 40 more seats"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    signal = ExpansionSignal.objects.get(account=account)
    assert body["id"] == signal.pk and body["account"]["id"] == account.pk
    assert (body["source"], body["note"]) == ("support", "Asked about 40 more seats")
    assert body["raised_by"]["id"] == csm.pk and body["overdue"] is False
    assert signal.follow_up_by > timezone.now() + timedelta(hours=23)
    assert Event.objects.filter(account=account, kind=Event.Kind.EXPANSION).exists()
    assert api_as(csm).get(f"{SIGNALS}{signal.pk}/").json() == body


def test_source_defaults_to_csm(leader: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    response = api_as(leader).post(SIGNALS, {"account": account.pk, "note": "x"}, format="json")
    assert response.status_code == 201
    assert response.json()["source"] == "csm"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": "x"}, "account"),
        ({"account": 0, "note": "x"}, "account"),
        ({"account": 2**70, "note": "x"}, "account"),
        ({"account": "many", "note": "x"}, "account"),
        ({"note": "x", "account": "MISSING"}, "account"),
        ({"account": "ACCOUNT"}, "note"),
        ({"account": "ACCOUNT", "note": "   "}, "note"),
        ({"account": "ACCOUNT", "note": "x" * 2001}, "note"),
        ({"account": "ACCOUNT", "note": "x", "source": "rule"}, "source"),
    ],
)
def test_invalid_signal_is_400_with_field_errors(
    leader: Any, api_as: Any, body: dict[str, Any], field: str
) -> None:
    account: Any = AccountFactory()
    body = {
        k: account.pk if v == "ACCOUNT" else account.pk + 999 if v == "MISSING" else v
        for k, v in body.items()
    }
    response = api_as(leader).post(SIGNALS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ExpansionSignal.objects.exists()


def test_raise_permissions(api_as: Any, account_writer: AccountWriter) -> None:
    account: Any = AccountFactory(owner=account_writer.owner)
    response = api_as(account_writer.user).post(
        SIGNALS, {"account": account.pk, "note": "More"}, format="json"
    )
    assert response.status_code == account_writer.status(201)
    assert ExpansionSignal.objects.filter(account=account).exists() is account_writer.allowed


def test_signal_list_follows_the_book_and_filters(
    csm: Any, other_csm: Any, viewer: Any, api_as: Any
) -> None:
    mine = ExpansionSignal.objects.create(account=AccountFactory.create(owner=csm), note="a")
    theirs = ExpansionSignal.objects.create(
        account=AccountFactory.create(owner=other_csm), note="b", followed_up_at=timezone.now()
    )
    assert _ids(api_as(csm), SIGNALS) == {mine.pk}
    assert _ids(api_as(viewer), SIGNALS) == {mine.pk, theirs.pk}
    assert _ids(api_as(viewer), SIGNALS, {"followed_up": "true"}) == {theirs.pk}
    assert _ids(api_as(viewer), SIGNALS, {"followed_up": "false"}) == {mine.pk}
    assert _ids(api_as(viewer), SIGNALS, {"owner": other_csm.pk}) == {theirs.pk}


@pytest.mark.parametrize("rows", [5, 50])
def test_signal_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, rows: int
) -> None:
    for _ in range(rows):
        ExpansionSignal.objects.create(
            account=AccountFactory.create(owner=viewer), note="n", raised_by=viewer
        )
    client = api_as(viewer)
    client.get(SIGNALS)
    # token + user, role, signals with accounts, owners, raisers and followers-up
    with django_assert_num_queries(3):
        response = client.get(SIGNALS, {"page_size": rows})
    assert len(response.json()["results"]) == rows


def test_anonymous_gets_401(db: Any) -> None:
    account: Any = AccountFactory()
    assert APIClient().get(ALERTS).status_code == 401
    assert APIClient().get(SIGNALS).status_code == 401
    response = APIClient().post(SIGNALS, {"account": account.pk, "note": "x"}, format="json")
    assert response.status_code == 401


def test_a_support_alert_names_its_ticket_or_survey_answer(
    leader: Any, csm: Any, api_as: Any, settings: Any
) -> None:
    settings.HUBSPOT_PORTAL_ID = "4242"
    plain = _alert(owner=csm)
    ticket = TicketFactory.create(account=plain.account, hubspot_id="901")
    answer = FeedbackSubmissionFactory.create(account=plain.account, hubspot_id="77")
    rule = AlertRule.objects.create(name="Escalated", kind="escalated_ticket", days=3)
    on_ticket = Alert.objects.create(
        account=plain.account,
        rule=rule,
        owner=csm,
        message="Urgent ticket open 5 days",
        due_on=date.today(),
        key=f"ticket:{ticket.pk}",
        ticket=ticket,
    )
    detractor = AlertRule.objects.create(name="Detractor", kind="detractor", days=30)
    on_answer = Alert.objects.create(
        account=plain.account,
        rule=detractor,
        owner=csm,
        message="NPS 3",
        due_on=date.today(),
        key=f"feedback:{answer.pk}",
        feedback=answer,
    )
    rows = {r["id"]: r for r in api_as(leader).get(ALERTS).json()["results"]}
    assert (rows[plain.pk]["ticket"], rows[plain.pk]["feedback"]) == (None, None)
    assert rows[on_ticket.pk]["ticket"] == {
        "id": ticket.pk,
        "hubspot_id": "901",
        "hubspot_url": ticket.hubspot_url,
    }
    assert "4242" in rows[on_ticket.pk]["ticket"]["hubspot_url"]
    assert rows[on_answer.pk]["feedback"]["id"] == answer.pk
    assert rows[on_answer.pk]["ticket"] is None
