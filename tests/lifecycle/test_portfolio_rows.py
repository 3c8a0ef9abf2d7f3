"""The portfolio writes its rows, filter widgets and links in Python (lifecycle/rows.py,
accounts/filters.py, lifecycle/views.py; for speed: docs/performance.md). They must
be the markup the template and Django's widgets wrote: the results section is
compared with the template it replaced (portfolio_results_template.html, next to this
file) rendered for the same accounts the way the page built them before, with
names to escape, every kind of empty cell, and times in the past and future in the
person's own time zone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django import forms
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import QueryDict
from django.template import Context, Template, engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.filters import PlainNumberInput, PlainSelect
from accounts.models import Account, HealthBand, Segment, Stage
from accounts.templatetags.account_badges import health_badge_html
from lifecycle.notifications.models import Profile
from lifecycle.rows import day_text, health_badge, money_whole, url_for_ids
from lifecycle.views import _sort_links
from tests.factories import AccountFactory, RenewalFactory, UserFactory

pytestmark = pytest.mark.django_db

RESULTS_TEMPLATE = (Path(__file__).parent / "portfolio_results_template.html").read_text()
NOW = datetime(2026, 3, 29, 0, 30, 15, tzinfo=UTC)  # a DST change in Europe that night


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
    ("score", "band"),
    [(None, ""), (81, HealthBand.GREEN), (40, HealthBand.RED), (55, ""), (7, '<"odd">&')],
)
def test_health_badge_is_the_components_markup(score: int | None, band: str) -> None:
    account = AccountFactory.build(health_score=score, health_band=band)
    expected = render_to_string("components/health_badge.html", {"account": account})
    assert health_badge_html(score=score, band=band) == expected.rstrip("\n")
    assert health_badge(score, band) == expected.rstrip("\n")


# --- the results section, against the template it replaced ------------------------


@dataclass(frozen=True)
class _RowAsBefore:
    url: str
    name: str
    domain: str
    segment: str
    owner: str
    stage: str
    stage_label: str
    arr: str
    currency: str
    renewal: str
    health: SafeString
    activity_iso: str
    activity: str


def _rows_as_before(accounts: Iterable[Account]) -> list[_RowAsBefore]:
    """lifecycle.rows.portfolio_rows as it was: model instances, Django's naturaltime."""
    segments, stages = dict(Segment.choices), dict(Stage.choices)
    rows = []
    for a in accounts:
        activity = timezone.localtime(a.last_activity_at) if a.last_activity_at else None
        rows.append(
            _RowAsBefore(
                url=a.get_absolute_url(),
                name=a.name,
                domain=a.domain or "no domain",
                segment=segments.get(a.segment, a.segment),
                owner=str(a.owner) if a.owner else "Unassigned",
                stage=a.stage,
                stage_label=stages.get(a.stage, a.stage),
                arr=money_whole(a.arr),
                currency=a.currency,
                renewal=day_text(a.renewal_date) if a.renewal_date else "—",
                health=health_badge_html(score=a.health_score, band=a.health_band),
                activity_iso=activity.isoformat() if activity else "",
                activity=naturaltime(activity) if activity else "",
            )
        )
    return rows


SORTABLE = ["name", "owner", "stage", "arr", "renewal", "health", "activity"]


def _sort_links_as_before(params: QueryDict) -> dict[str, dict[str, Any]]:
    current = params.get("sort", "name")
    links = {}
    for column in SORTABLE:
        direction = "asc" if current == column else "desc" if current == f"-{column}" else ""
        query = params.copy()
        query["sort"] = f"-{column}" if current == column else column
        query.pop("page", None)
        links[column] = {"url": f"?{query.urlencode()}", "direction": direction}
    return links


def _section(html: str) -> str:
    match = re.search(r'<section id="results".*?</section>', html, re.S)
    assert match is not None
    return match.group(0)


def _varied_portfolio() -> Any:
    owner = UserFactory.create(first_name="Ann <b>", last_name="O'Brien & co")
    bare = UserFactory.create(username="only_a_username", first_name="", last_name="")
    ago = [
        None,
        timedelta(seconds=0),
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=59, seconds=59),
        timedelta(hours=5),
        timedelta(days=1, hours=2),
        timedelta(days=9),
        timedelta(days=40),
        timedelta(days=400),
        timedelta(days=3000),
        -timedelta(minutes=3),
        -timedelta(hours=2),
        -timedelta(days=15),
    ]
    for i, delta in enumerate(ago):
        AccountFactory.create(
            name=["<b>\"Bold\" & 'Co'</b>", "Plain", "Ünïcode ☃"][i % 3] + f" {i:02d}",
            domain="" if i % 4 == 0 else f"acct{i}.example",
            owner=[owner, bare, None][i % 3],
            segment=list(Segment)[i % 3],
            stage=list(Stage)[i % len(Stage)],
            arr=[Decimal("0"), Decimal("1234.50"), Decimal("9999999.99")][i % 3],
            currency=["USD", "EUR", "GBP"][i % 3],
            renewal_date=None if i % 5 == 0 else date(2026, 1 + i % 12, 1 + i),
            health_score=None if i % 4 == 1 else 10 * (i % 10),
            health_band=["", HealthBand.GREEN, HealthBand.YELLOW, HealthBand.RED][i % 4],
            last_activity_at=None if delta is None else NOW - delta,
        )


@pytest.mark.parametrize(
    ("params", "htmx"),
    [
        ({}, False),
        ({"sort": "-activity"}, False),
        ({"sort": "owner", "q": "  a&b <c> é "}, True),
        ({"sort": "-owner", "segment": "", "stage": ""}, False),
        ({"page": "2", "sort": "arr"}, False),
        ({"owner": "none", "sort": "renewal"}, True),
        ({"q": "nothing matches this"}, False),
    ],
)
def test_results_are_the_templates_markup(
    client: Any, leader: Any, settings: Any, params: dict[str, str], htmx: bool
) -> None:
    settings.PORTFOLIO_PAGE_SIZE = 10
    Profile.objects.update_or_create(user=leader, defaults={"time_zone": "Asia/Kolkata"})
    with time_machine.travel(NOW, tick=False):
        _varied_portfolio()
        client.force_login(leader)
        response = client.get(
            reverse("portfolio"), params, headers={"HX-Request": "true"} if htmx else {}
        )
        body = response.content.decode()
        context = response.context
        page = context["page"]
        accounts = {a.pk: a for a in Account.objects.select_related("owner")}
        filterset = context["filter"]
        query = filterset.data.copy()
        query.pop("page", None)
        with timezone.override("Asia/Kolkata"):
            expected = (
                engines["django"]
                .from_string(RESULTS_TEMPLATE)
                .render(
                    {
                        "page": page,
                        "rows": _rows_as_before(accounts[a.pk] for a in page.object_list),
                        "sort": _sort_links_as_before(filterset.data),
                        "query": query.urlencode(),
                        "filter": filterset,
                        "filtered": context["filtered"],
                        "is_leader": True,
                    }
                )
            )
    assert _section(body) == _section(expected)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "sort=-arr&page=3",
        "q=a%26b+%3Cc%3E&owner=me&sort=activity",
        "segment=smb&segment=enterprise&q=%C3%A9t%C3%A9&page=9&sort=-name",
        "page=2&quiet_for=30&sort=owner&renewal_within=",
    ],
)
def test_sort_links_are_the_querydict_copies_they_replace(query: str) -> None:
    params = QueryDict(query, mutable=True)
    params.setdefault("sort", "name")
    assert _sort_links(params) == _sort_links_as_before(params)


# --- the filter widgets, against Django's ------------------------------------------

CHOICES = [("", "Any <stage>"), ("a&b", "A & B"), (3, mark_safe("<b>safe</b>")), ("a&b", "Again")]


class _Both(forms.Form):
    select = forms.ChoiceField(choices=CHOICES, required=False, widget=forms.Select)
    plain_select = forms.ChoiceField(choices=CHOICES, required=False, widget=PlainSelect)
    number = forms.DecimalField(
        min_value=0,
        max_value=3650,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": 'da"ys', "min": 0, "data-on": True}),
    )
    plain_number = forms.DecimalField(
        min_value=0,
        max_value=3650,
        required=False,
        widget=PlainNumberInput(attrs={"placeholder": 'da"ys', "min": 0, "data-on": True}),
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"select": "a&b", "number": "12"},
        {"select": "3", "number": "-4"},
        {"number": "<x>"},
    ],
)
def test_plain_widgets_write_what_djangos_write(data: dict[str, str] | None) -> None:
    if data is not None:
        data = {**data, **{f"plain_{k}": v for k, v in data.items()}}
    form = _Both(data)
    form.is_valid()
    for name in ("select", "number"):
        django_markup = str(form[name]).replace(f'name="{name}"', f'name="plain_{name}"')
        django_markup = django_markup.replace(f"id_{name}", f"id_plain_{name}")
        assert str(form[f"plain_{name}"]) == django_markup


def test_portfolio_page_escapes_names(client: Any, leader: Any) -> None:
    AccountFactory.create(name="<b>Bold</b> Inc")
    client.force_login(leader)
    page = client.get(reverse("portfolio")).content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; Inc" in page
    assert "<b>Bold</b> Inc" not in page


@pytest.mark.parametrize("sort", ["arr", "-arr", "name", "-name", "owner", "-owner"])
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
