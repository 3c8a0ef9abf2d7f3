"""One date format and one money format per page, in pages and timeline text alike."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from accounts.formats import date_display, money_display
from success import services
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

DAY = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b")
MONEY = re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d{2})? USD\b")


def test_the_formats() -> None:
    assert date_display(date(2027, 2, 7)) == "Feb 7, 2027"
    assert money_display(Decimal("69500.00"), "USD") == "69,500 USD"
    assert money_display(Decimal("1234.5"), "EUR") == "1,234.50 EUR"


def test_the_account_page_writes_dates_and_money_one_way(client: Any, leader: Any) -> None:
    account = AccountFactory.create(
        owner=leader, arr=Decimal("69500.00"), currency="USD", renewal_date=date(2027, 2, 7)
    )
    services.renewal_create(account=account, by=leader)  # its timeline line has both
    client.force_login(leader)
    page = html.unescape(client.get(reverse("account", args=[account.pk])).content.decode())

    assert "Feb 7, 2027" in page and "69,500 USD" in page
    assert not re.search(r"\b[A-Z][a-z]{2} 0\d, \d{4}\b", page)  # no "Feb 07, 2027"
    assert [m for m in MONEY.findall(page) if m.endswith(".00 USD")] == []
    assert {d for d in DAY.findall(page) if "2027" in d} == {"Feb 7, 2027"}
