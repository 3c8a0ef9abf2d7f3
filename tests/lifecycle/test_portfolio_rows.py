"""The portfolio's rows, filter selects and sorts after moving their formatting to
Python (lifecycle/rows.py, accounts/filters.py): the same text and markup as the
template filters and widgets they replace, and stable pages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.filters import PlainSelect
from accounts.models import HealthBand, Stage
from accounts.templatetags.account_badges import health_badge_html
from lifecycle.rows import day_text, money_whole, portfolio_rows, url_for_ids
from tests.factories import AccountFactory, RenewalFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value", ["0", "0.50", "1.49", "2.5", "3.5", "1234.49", "1234.50", "999999.99", "12345678.5"]
)
def test_money_whole_reads_as_the_money_filter(value: str) -> None:
    expected = Template("{{ v|money }}").render(Context({"v": Decimal(value)}))
    assert money_whole(Decimal(value)) == expected


def test_day_text_reads_as_the_day_filter() -> None:
    for month in range(1, 13):
        day = date(2026, month, month + 10)
        expected = Template("{{ d|day }}").render(Context({"d": day}))
        assert day_text(day) == expected


def test_url_for_ids_is_reverse() -> None:
    assert url_for_ids("account")(42) == reverse("account", args=[42])
    assert url_for_ids("success:renewal")(7) == reverse("success:renewal", args=[7])


@pytest.mark.parametrize(
    ("score", "band"), [(None, ""), (81, HealthBand.GREEN), (40, HealthBand.RED), (55, "")]
)
def test_health_badge_is_the_components_markup(score: int | None, band: str) -> None:
    account = AccountFactory.build(health_score=score, health_band=band)
    expected = render_to_string("components/health_badge.html", {"account": account})
    assert health_badge_html(score=score, band=band) == expected.rstrip("\n")


def test_portfolio_rows_show_what_the_cells_showed(leader: Any) -> None:
    when = timezone.now() - timedelta(days=3)
    account = AccountFactory.create(
        name="Acme & Co",
        domain="",
        owner=leader,
        stage=Stage.AT_RISK,
        arr=Decimal("1234.50"),
        renewal_date=date(2027, 3, 4),
        last_activity_at=when,
    )
    (row,) = portfolio_rows([account])
    assert (row.url, row.domain, row.owner, row.stage_label) == (
        reverse("account", args=[account.pk]),
        "no domain",
        str(leader),
        "At risk",
    )
    # Money as everywhere else: cents only when there are some.
    assert (row.arr, row.renewal, row.activity) == ("1,234.50", "Mar 4, 2027", "3\xa0days ago")
    assert row.activity_iso == timezone.localtime(when).isoformat()
    (unowned,) = portfolio_rows([AccountFactory.create(owner=None, renewal_date=None)])
    assert (unowned.owner, unowned.renewal, unowned.activity) == ("Unassigned", "—", "")


def test_portfolio_page_escapes_names(client: Any, leader: Any) -> None:
    AccountFactory.create(name="<b>Bold</b> Inc")
    client.force_login(leader)
    page = client.get(reverse("portfolio")).content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; Inc" in page
    assert "<b>Bold</b> Inc" not in page


def _normalised(markup: str) -> list[str]:
    """A <select>'s tags with their attributes sorted, whitespace between tags dropped."""
    tags = re.findall(r"<[^>]+>|[^<]+", re.sub(r">\s+<", "><", markup.strip()))
    return [
        "<{} {}>".format(t[1:-1].split()[0], " ".join(sorted(t[1:-1].split()[1:])))
        if t.startswith("<") and not t.startswith("</")
        else t
        for t in tags
    ]


def test_plain_select_renders_as_djangos_select() -> None:
    choices = [("", "Any stage"), *Stage.choices]

    class Form(forms.Form):
        stage = forms.ChoiceField(choices=choices, widget=forms.Select)
        plain = forms.ChoiceField(choices=choices, widget=PlainSelect)

    form = Form({"stage": "adoption", "plain": "adoption"})
    expected = str(form["stage"]).replace('"stage"', '"plain"').replace("id_stage", "id_plain")
    assert _normalised(str(form["plain"])) == _normalised(expected)
    assert 'value="adoption" selected' in str(form["plain"])


@pytest.mark.parametrize("sort", ["arr", "-arr", "name", "-name"])
def test_portfolio_breaks_ties_by_id_so_pages_neither_repeat_nor_skip(
    client: Any, leader: Any, settings: Any, sort: str
) -> None:
    settings.PORTFOLIO_PAGE_SIZE = 2
    made = [AccountFactory.create(name="Same", arr=Decimal("100")).pk for _ in range(5)]
    client.force_login(leader)
    seen = []
    for page in (1, 2, 3):
        response = client.get(reverse("portfolio"), {"sort": sort, "page": page})
        seen += [a.pk for a in response.context["page"].object_list]
    assert seen == (sorted(made, reverse=True) if sort.startswith("-") else sorted(made))


def test_bare_bench_view_is_not_mounted_outside_the_bench_settings(
    client: Any, leader: Any
) -> None:
    client.force_login(leader)
    assert client.get("/_bench/bare/").status_code == 404


@pytest.mark.parametrize("category", ["", "commit", "at_risk"])
def test_forecast_badge_tag_is_the_include_markup(category: str) -> None:
    renewal = RenewalFactory.build(forecast_category=category)
    expected = render_to_string("success/_forecast_badge.html", {"renewal": renewal})
    tag = Template(
        "{% load account_badges %}"
        "{% forecast_badge renewal.forecast_category renewal.get_forecast_category_display %}"
    ).render(Context({"renewal": renewal}))
    assert tag == expected.rstrip("\n")
