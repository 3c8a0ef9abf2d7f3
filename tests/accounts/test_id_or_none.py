"""Ids typed into a URL or sent by HubSpot as text (`accounts.models.id_or_none`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import MAX_ID, id_or_none
from success.alerts.models import Alert, AlertRule, RuleKind
from tests.factories import AccountFactory


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),  # SQLite raised OverflowError on it: a 500 in `make run`
        ("99999999999999999999", None),
        ("0", None),
        ("-3", None),
        ("4.2", None),
        ("", None),
        ("٣", None),  # a digit to str.isdigit, not to a database
    ],
)
def test_an_id_is_digits_within_a_bigint(text: str, expected: int | None) -> None:
    assert id_or_none(text) == expected


@pytest.mark.django_db
def test_the_alert_list_ignores_a_rule_id_no_column_holds(client: Any, csm: Any) -> None:
    account = AccountFactory.create(owner=csm)
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    Alert.objects.create(
        account=account, rule=rule, owner=csm, message="Call the sponsor", due_on=date.today()
    )
    client.force_login(csm)
    response = client.get(reverse("alerts:list"), {"rule": "99999999999999999999"})
    assert response.status_code == 200
    assert "Call the sponsor" in response.content.decode()
